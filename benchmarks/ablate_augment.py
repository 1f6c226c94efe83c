"""Augmentation ablation on the validation split: which preset should a dataset default to?

For every (preset, arm, seed) it trains ``mnistmax train METHOD --preset PRESET --seed SEED
--set data.dataset=DATASET --set FIELD=ARM --no-eval`` (the test file is never read),
then scores the validation-selected checkpoint on the validation split only: weighted kNN@20 and
kNN@1 (cosine, tau 0.07) of the validation images against the training-split bank (55k for the
60k datasets). Finished runs are reused, so the script resumes. Prints one markdown row per run,
a mean ± std (n) per arm, and each arm's seed-by-seed difference from the first arm.

Usage::

    MNISTMAX_DATA=runs/data .venv/bin/python benchmarks/ablate_augment.py \\
        --dataset fashion-mnist --preset triplet_fast --field triplet.augment --arms digits fashion --seeds 0 1 2 \\
        --out runs/ablation [--set train.epochs=1 ...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

import torch

import mnistmax
from mnistmax.eval.knn import knn_accuracy
from mnistmax.recipes import get_preset


def score(run_dir: Path) -> dict[str, float]:
    """Validation kNN@1 and kNN@20 (%) of a finished run, against the training-split bank."""
    run = mnistmax.load(run_dir)
    bank, bank_y = run.embed("train")
    query, query_y = run.embed("val")
    acc = knn_accuracy(
        torch.from_numpy(bank),
        torch.from_numpy(bank_y).long(),
        torch.from_numpy(query),
        torch.from_numpy(query_y).long(),
        ks=(1, 20),
    )
    return {"knn@1": 100 * acc[1], "knn@20": 100 * acc[20]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--preset", required=True)
    p.add_argument("--field", required=True, help="the config field to vary, e.g. ssl.augment")
    p.add_argument("--arms", nargs="+", required=True, help="augmentation preset names")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", type=Path, default=Path("runs/ablation"))
    args = p.parse_args(argv)

    method = get_preset(args.preset).method
    results: dict[str, list[dict[str, float]]] = {}
    print("| preset | arm | seed | val kNN@20 | val kNN@1 |")
    print("|---|---|---:|---:|---:|")
    for arm in args.arms:
        for seed in args.seeds:
            folder = args.out / f"{args.preset}_{args.dataset}_{arm}_s{seed}"
            # A finished run resumes to nothing, so running the command again is cheap.
            cmd = [
                sys.executable, "-m", "mnistmax", "-q", "train", method,
                "--preset", args.preset, "--seed", str(seed),
                "--set", f"data.dataset={args.dataset}",
                "--set", f"{args.field}={arm}",
                "--set", "eval.figures=false",
                *[x for o in args.overrides for x in ("--set", o)],
                "--no-eval", "--out", str(folder),
            ]  # fmt: skip
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            subprocess.run(cmd, check=True)
            s = score(folder)
            results.setdefault(arm, []).append(s)
            print(f"| {args.preset} | {arm} | {seed} | {s['knn@20']:.2f} | {s['knn@1']:.2f} |")
            sys.stdout.flush()
    print("\n| arm | n | val kNN@20 | val kNN@1 |\n|---|---:|---:|---:|")
    for arm, rows in results.items():
        cells = []
        for key in ("knn@20", "knn@1"):
            xs = [r[key] for r in rows]
            sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
            cells.append(f"{statistics.mean(xs):.2f} ± {sd:.2f}")
        print(f"| {arm} | {len(rows)} | {' | '.join(cells)} |")
    first, *others = results
    for arm in others:  # same seed = same initialisation and batches: compare seed by seed
        diffs = [
            b["knn@20"] - a["knn@20"] for a, b in zip(results[first], results[arm], strict=True)
        ]
        sd = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
        wins = sum(d > 0 for d in diffs)
        print(
            f"\n{arm} - {first}, val kNN@20 seed by seed: {statistics.mean(diffs):+.2f} ± {sd:.2f} "
            f"(n = {len(diffs)}; higher in {wins} of {len(diffs)})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
