"""Summarise the eval.json of several run folders (e.g. seeds) as a markdown row: mean ± std, n.

Usage::

    python scripts/results_table.py runs/triplet_fast_s0 runs/triplet_fast_s1 runs/triplet_fast_s2
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from mnistmax.families.representation import SUMMARY_KEYS

KEYS = (
    *SUMMARY_KEYS,
    "test/knn@20_labelled_only",
    "baseline/raw_pixels/knn@20",
    "baseline/random_init/knn@20",
    "train_seconds",
    "wall_seconds",
)


def main(argv: list[str]) -> int:
    runs = [json.loads((Path(d) / "eval.json").read_text()) for d in argv]
    print("| metric | mean ± std | n |\n|---|---|---|")
    for key in KEYS:
        values = [r[key] for r in runs if key in r]
        if not values:
            continue
        scale = 1 if key.endswith("seconds") else 100
        mean = statistics.fmean(values) * scale
        std = statistics.stdev(values) * scale if len(values) > 1 else 0.0
        print(f"| {key} | {mean:.2f} ± {std:.2f} | {len(values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
