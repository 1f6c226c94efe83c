"""Inference and bf16 step rates: the measurements behind ``embed()``'s batch size, BatchNorm
folding and ``train.precision``.

1. Inference images/s of ``embed()``'s loop (eval mode, channels_last batches of B) for B in
   {64, 128, 256, 512, 1024}, ``seed_cnn`` and ``conv_small``, with and without folding eval-mode
   BatchNorm into the layer before it (``fused_for_inference``, which ``embed()`` applies;
   ``seed_cnn`` has no BatchNorm, so its two rows run the same model).
2. Bare forward + backward + Adam images/s (``bench_ssl.py``'s bare step) in fp32 and under
   bf16 autocast (where the CPU has native bf16), channels_last, alternating fp32 / bf16 so the
   host's drift hits both alike.

Random images; each figure is the best of ``--passes`` timed passes after a warm-up call, the
compared variants alternating pass by pass. The host's speed drifts by ±20% within minutes, so
read the ratios within a row or pair, not absolute rates across tables.

Usage::

    .venv/bin/python benchmarks/bench_inference.py [--threads N] [--passes 2]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from bench_ssl import throughput  # benchmarks/ is on sys.path when run as a script

from mnistmax.eval.embed import fused_for_inference
from mnistmax.models.encoders import build_encoder
from mnistmax.training.precision import bf16_native

BATCHES = (64, 128, 256, 512, 1024)
MODELS = ("seed_cnn", "conv_small")


@torch.no_grad()
def _infer(net: torch.nn.Module, x: torch.Tensor, batch: int) -> None:
    """``embed()``'s inner loop (channels_last batches), without its BatchNorm folding."""
    for i in range(0, len(x), batch):
        net(x[i : i + batch].contiguous(memory_format=torch.channels_last))


def infer_rates(
    nets: list[torch.nn.Module], x: torch.Tensor, batch: int, passes: int
) -> list[float]:
    """Best images/s of each net over ``passes`` rounds; each round times every net once, in
    turn, so the host's drift hits them alike."""
    for net in nets:
        _infer(net, x[:batch], batch)  # warm-up: oneDNN primitives for this shape
    best = [0.0] * len(nets)
    for _ in range(passes):
        for k, net in enumerate(nets):
            tic = time.perf_counter()
            _infer(net, x, batch)
            best[k] = max(best[k], len(x) / (time.perf_counter() - tic))
    return best


def step_rate(name: str, batch: int, precision: str, steps: int = 20) -> float:
    """Images/s of the bare encoder's forward + backward + Adam step on ``batch`` images: the
    ``bare`` figure of ``bench_ssl.throughput`` (which counts two views of ``batch / 2``)."""
    return throughput([], name, batch // 2, steps, precision)["bare"][0]


def main(argv: list[str] | None = None) -> int:
    """Print markdown tables of both measurements."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--images", type=int, default=20_480)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()}")
    x = torch.rand(args.images, 1, 28, 28)
    print("\n| model | BN folded | " + " | ".join(f"batch {b}" for b in BATCHES) + " |")
    print("|---|---|" + "---:|" * len(BATCHES))
    for name in MODELS:
        torch.manual_seed(0)
        model = build_encoder(name).to(memory_format=torch.channels_last).eval()  # type: ignore[call-overload]
        nets = [model, fused_for_inference(model)]
        rates = [infer_rates(nets, x, b, args.passes) for b in BATCHES]
        for k, folded in enumerate(("no", "yes")):
            cells = " | ".join(f"{r[k]:,.0f}" for r in rates)
            print(f"| {name} | {folded} | {cells} |")
    if not bf16_native(torch.device("cpu")):
        print("\n(no native bf16 on this CPU: the bf16 step rates are skipped)")
        return 0
    print("\n| model, batch | fp32 img/s | bf16 img/s | bf16 / fp32 |\n|---|---:|---:|---:|")
    for name, batch in (("seed_cnn", 192), ("seed_cnn", 512), ("conv_small", 256)):
        fp32, bf16 = [], []
        for _ in range(args.passes):
            fp32.append(step_rate(name, batch, "fp32"))
            bf16.append(step_rate(name, batch, "bf16"))
        f, b = max(fp32), max(bf16)
        print(f"| {name}, {batch} | {f:,.0f} | {b:,.0f} | {b / f:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
