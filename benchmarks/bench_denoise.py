"""Denoising speed: batched noise ops against a per-image loop, and each denoiser's training and
inference throughput (width 16 and 32, channels_last, one thread).

    .venv/bin/python benchmarks/bench_denoise.py [--quick]

Prints a markdown table for docs/benchmarks.md (## Denoising).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from mnistmax.config import DataConfig
from mnistmax.data.splits import load_splits
from mnistmax.models.denoisers import DENOISERS, build_denoiser
from mnistmax.noise import build_noise, noise_names


def _median_seconds(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - tic)
    return statistics.median(times)


def bench_noise(x: torch.Tensor, repeats: int) -> None:
    """Batched op on the whole batch vs the same op called once per image."""
    print("| noise | batched img/s | per-image img/s | speed-up |\n|---|---:|---:|---:|")
    for name in noise_names():
        op = build_noise(name)
        g = torch.Generator().manual_seed(0)
        batched = _median_seconds(lambda op=op, g=g: op(x, 0.5, generator=g), repeats)
        small = x[:128]
        loop = _median_seconds(
            lambda op=op, g=g, small=small: [
                op(small[i : i + 1], 0.5, generator=g) for i in range(len(small))
            ],
            max(1, repeats // 2),
        )
        b_rate, l_rate = len(x) / batched, len(small) / loop
        print(f"| {name} | {b_rate:,.0f} | {l_rate:,.0f} | {b_rate / l_rate:.0f}× |")


def bench_models(widths: tuple[int, ...], repeats: int) -> None:
    """Training (batch 128, Adam) and inference (batch 1,000) images per second."""
    print("\n| model | width | params | train img/s | infer img/s |\n|---|---:|---:|---:|---:|")
    x = torch.rand(1000, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    for name in DENOISERS.names():
        for w in widths:
            torch.manual_seed(0)
            net = build_denoiser(name, width=w).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            opt = torch.optim.Adam(net.parameters())

            def step(
                net: torch.nn.Module = net,
                opt: torch.optim.Optimizer = opt,
                xb: torch.Tensor = x[:128],
            ) -> None:
                out, aux = net.forward_train(xb)  # type: ignore[operator]
                loss = torch.nn.functional.binary_cross_entropy_with_logits(out, xb) + aux
                opt.zero_grad()
                loss.backward()
                opt.step()

            step()
            train = 128 / _median_seconds(step, repeats)
            net.eval()
            with torch.no_grad():
                net(x[:10])
                infer = 1000 / _median_seconds(lambda net=net: net(x), max(1, repeats // 2))
            params = sum(p.numel() for p in net.parameters())
            print(f"| {name} | {w} | {params:,} | {train:,.0f} | {infer:,.0f} |")


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, width 16 only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    x = load_splits(DataConfig(dataset="mnist-mini")).test.x[:1000].clone()
    repeats = 3 if args.quick else 7
    bench_noise(x, repeats)
    bench_models((16,) if args.quick else (16, 32), repeats)


if __name__ == "__main__":
    main()
