"""Augmentation throughput: the batched pipeline against the same ops applied per sample.

Both paths run the ``digits`` preset on the same 1,024 images in one process:

* batched — one ``Pipeline.__call__`` on the (1024, 1, 28, 28) tensor;
* per sample — what a ``torch.utils.data.Dataset`` + ``DataLoader(num_workers=0)`` does: the
  same pipeline applied to one image at a time in ``__getitem__``, then collated.

Target: batched ≥ 20× the per-sample rate. The other presets are timed on the batched path for
reference. Images are the embedded ``mnist-mini`` training split (repeated to 1,024).

Usage::

    .venv/bin/python benchmarks/bench_augment.py            # prints a markdown table
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from mnistmax.augment import Pipeline, augment_names, build_augment
from mnistmax.data.store import load_arrays

BATCH = 1024
TARGET_SPEEDUP = 20.0


class PerSampleDataset(Dataset[torch.Tensor]):
    """Applies the pipeline to one image per ``__getitem__``, as a classic Dataset would."""

    def __init__(self, x: torch.Tensor, pipeline: Pipeline, seed: int) -> None:
        self.x = x
        self.pipeline = pipeline
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.pipeline(self.x[i : i + 1], generator=self.generator)[0]


def _best_rate(fn: Callable[[], object], images: int, repeats: int) -> tuple[float, float]:
    """(median images/s, median seconds) over ``repeats`` timed calls after one warm-up."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return images / med, med


def _images() -> torch.Tensor:
    images, _ = load_arrays("mnist-mini", "train", fetch_if_missing=False)
    reps = -(-BATCH // len(images))
    x = torch.from_numpy(np.tile(images, (reps, 1, 1))[:BATCH]).float().div_(255.0)
    return x.unsqueeze(1).contiguous()


def main() -> int:
    """Run the benchmark, print a markdown table; exit 1 if the speed-up target is missed."""
    x = _images()
    digits = build_augment("digits")
    g = torch.Generator().manual_seed(0)

    batched_rate, batched_s = _best_rate(lambda: digits(x, generator=g), BATCH, repeats=20)
    loader = DataLoader(PerSampleDataset(x, digits, seed=0), batch_size=BATCH, num_workers=0)
    per_rate, per_s = _best_rate(lambda: next(iter(loader)), BATCH, repeats=3)
    speedup = batched_rate / per_rate

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}\n")
    print("| preset | path | images/s | ms per 1,024 | speed-up |")
    print("|---|---|---:|---:|---:|")
    print(
        f"| digits | batched (one call) | {batched_rate:,.0f} | {batched_s * 1e3:.1f} | {speedup:.1f}× |"
    )
    print(
        f"| digits | per sample (Dataset + DataLoader, num_workers=0) | {per_rate:,.0f} | {per_s * 1e3:.0f} | 1.0× |"
    )
    for name in augment_names():
        if name in ("digits", "none"):
            continue
        pipe = build_augment(name)
        rate, secs = _best_rate(lambda p=pipe: p(x, generator=g), BATCH, repeats=20)
        print(f"| {name} | batched (one call) | {rate:,.0f} | {secs * 1e3:.1f} | |")
    ok = speedup >= TARGET_SPEEDUP
    print(
        f"\nbatched / per-sample = {speedup:.1f}× (target ≥ {TARGET_SPEEDUP:.0f}×): {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
