"""Triplet training speed: the real loop against the bare model step, and end-to-end runs.

1. Bare rate: forward + triplet loss + backward + Adam step of ``seed_cnn`` on batches of the
   size the ``triplet_reference`` loop feeds it (64 triplets = 192 images), no augmentation,
   no sampling — the ceiling for this model on this machine.
2. Loop rate: the same model through the real loop (P×K sampling, random miner, shared
   reference augmentation, logging), from the run's own ``train_img_per_s``, in the same process,
   over the whole run and over epochs 2+ (without the first step's one-off costs, as the bare
   rate leaves its warm-up out). Runs alternate bare, loop, bare, loop, bare; each loop run is
   divided by the mean of the two bare rates around it, so the host's drift cancels.
   Target: ≥ 80% of the bare rate.
3. End to end (separate processes, as a user runs them): ``mnistmax train triplet --preset
   triplet_reference`` (target ≤ 35 s, evaluation and GIF included) and ``triplet_fast``
   (target ≤ 30 s).

Usage::

    .venv/bin/python benchmarks/bench_triplet.py [--skip-e2e] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from statistics import median

import torch

from mnistmax.config import apply_overrides
from mnistmax.families import train_run
from mnistmax.losses.triplet import triplet_loss
from mnistmax.models.encoders import build_encoder
from mnistmax.recipes import get_preset


def bare_rate(batch: int = 192, steps: int = 60, warmup: int = 10) -> float:
    """Images/s of forward + loss + backward + Adam step for seed_cnn (channels_last)."""
    torch.manual_seed(0)
    model = build_encoder("seed_cnn").to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    t = batch // 3
    a, p, n = torch.arange(t), torch.arange(t) + t, torch.arange(t) + 2 * t
    tic = 0.0
    for i in range(warmup + steps):
        if i == warmup:
            tic = time.perf_counter()
        loss = triplet_loss(model(x), a, p, n, margin=1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return batch * steps / (time.perf_counter() - tic)


def loop_rates(out: Path) -> tuple[float, float]:
    """Training images/s of triplet_reference through the real loop (no eval, no figures):
    over the whole run, and over epochs 2+ (the bare rate also leaves its warm-up out)."""
    cfg = apply_overrides(get_preset("triplet_reference"), ["eval.figures=false"])
    train_run(cfg, out, quiet=True, evaluate=False)
    state = torch.load(out / "checkpoints/last.pt", weights_only=True)
    epochs = [
        r
        for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())
        if r.get("kind") == "epoch" and r["epoch"] > 1
    ]
    steady = sum(r["train_img_per_s"] * r["train_seconds"] for r in epochs) / sum(
        r["train_seconds"] for r in epochs
    )
    return float(state["images_seen"]) / float(state["train_seconds"]), steady


def end_to_end(preset: str, out: Path) -> tuple[float, dict[str, float]]:
    """Wall seconds of the CLI run in a fresh process, and its eval.json."""
    tic = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mnistmax",
            "train",
            "triplet",
            "--preset",
            preset,
            "--out",
            str(out),
            "--quiet",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - tic, json.loads((out / "eval.json").read_text())


def _join(values: Iterable[float]) -> str:
    return " / ".join(f"{v:,.0f}" for v in values)


def main(argv: list[str] | None = None) -> int:
    """Print a markdown table of the measurements."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument(
        "--repeats", type=int, default=2, help="loop runs, each between two bare runs"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mnistmax-bench-") as tmp:
        # bare, loop, bare, loop, bare: each loop run is compared with the mean of the bare
        # rates measured just before and after it, so the host's drift cancels.
        bares = [bare_rate()]
        loops: list[tuple[float, float]] = []
        for r in range(args.repeats):
            loops.append(loop_rates(Path(tmp) / f"loop{r}"))
            bares.append(bare_rate())
        print(f"torch threads: {torch.get_num_threads()}")
        print("| measurement | value | target |\n|---|---:|---|")
        print(f"| seed_cnn bare fwd+bwd+Adam (192-image batches), img/s | {_join(bares)} | |")
        print(f"| seed_cnn in the real loop, whole run, img/s | {_join(lp[0] for lp in loops)} | |")
        print(f"| seed_cnn in the real loop, epochs 2+, img/s | {_join(lp[1] for lp in loops)} | |")
        for k, what in ((0, "whole run"), (1, "epochs 2+")):
            ratios = [loops[r][k] / ((bares[r] + bares[r + 1]) / 2) for r in range(len(loops))]
            shown = " / ".join(f"{x:.0%}" for x in ratios)
            print(
                f"| loop / neighbouring bare, {what} | {shown} (median {median(ratios):.0%}) | ≥ 80% |"
            )
        if not args.skip_e2e:
            for preset, target in (("triplet_reference", 35), ("triplet_fast", 30)):
                wall, m = end_to_end(preset, Path(tmp) / preset)
                print(
                    f"| `mnistmax train triplet --preset {preset}` wall s | {wall:.1f} | ≤ {target} |"
                )
                print(
                    f"| {preset}: test kNN@20 / train s / eval+figures s | "
                    f"{100 * m['test/knn@20']:.2f}% / {m['train_seconds']:.1f} / "
                    f"{m['wall_seconds'] - m['train_seconds']:.1f} | |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
