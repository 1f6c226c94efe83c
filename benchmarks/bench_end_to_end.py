"""End to end against training: how much of ``mnistmax train`` is the training itself.

Each run is a fresh process, exactly as a user types it (``mnistmax train triplet --preset P
--quiet --out NEW_DIR``), timed from outside: the total includes Python and torch start-up,
data loading, per-epoch validation, figures and the whole evaluation protocol. The run's own
``eval.json`` says how long its training steps took and splits the rest (``timings``).

Presets are interleaved over rounds (A, B, A, B, ...) because this host's speed drifts by ±20%
within minutes; read the medians. Data is warm (fetched before); baselines are warm unless
``--cold-baselines``, which points every run at a fresh data root holding only the dataset, so
each run computes and caches its baselines as a first run on a new machine does.

Usage::

    .venv/bin/python benchmarks/bench_end_to_end.py [--presets triplet_fast,triplet_reference]
        [--rounds 3] [--cold-baselines] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

from mnistmax.data.store import data_root
from mnistmax.recipes import get_preset


def run_once(preset: str, seed: int, out: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run one preset in a new process; return its eval.json with the outside wall time."""
    method = get_preset(preset).method
    cmd = [sys.executable, "-m", "mnistmax", "train", method, "--preset", preset]
    cmd += ["--seed", str(seed), "--out", str(out), "--quiet"]
    tic = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    total = time.perf_counter() - tic
    metrics: dict[str, Any] = json.loads((out / "eval.json").read_text())
    metrics["total_seconds"] = total
    return metrics


def fresh_root(tmp: Path, dataset: str) -> Path:
    """A data root with ``dataset``'s verified files and no cached baselines."""
    root = tmp / f"root-{time.monotonic_ns()}"
    root.mkdir()
    os.symlink(data_root(None) / dataset, root / dataset)
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default="triplet_fast,triplet_reference")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cold-baselines", action="store_true")
    args = parser.parse_args()
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    rows: dict[str, list[dict[str, Any]]] = {p: [] for p in presets}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for r in range(args.rounds):
            for preset in presets:
                env = dict(os.environ)
                if args.cold_baselines:
                    env["MNISTMAX_DATA"] = str(fresh_root(tmp, get_preset(preset).data.dataset))
                out = tmp / f"{preset}-r{r}"
                m = run_once(preset, args.seed, out, env)
                shutil.rmtree(out)
                rows[preset].append(m)
                t = m["timings"]
                print(
                    f"round {r + 1} {preset}: total {m['total_seconds']:.1f} s, training "
                    f"{t['train']:.1f} s ({t['train'] / m['total_seconds']:.0%}), "
                    f"kNN@20 {100 * m['test/knn@20']:.2f}",
                    flush=True,
                )
    baselines = "cold (computed by each run)" if args.cold_baselines else "warm (cached)"
    print(f"\nBaselines: {baselines}; medians over {args.rounds} interleaved rounds.\n")
    print("| preset | training s | total s | training / total | start-up and rest s |", end="")
    phases = ["setup", "validation", "figures", "evaluation", "baselines"]
    print("".join(f" {p} s |" for p in phases))
    print("|---|---:|---:|---:|---:|" + "---:|" * len(phases))
    for preset, ms in rows.items():
        train = median(m["timings"]["train"] for m in ms)
        total = median(m["total_seconds"] for m in ms)
        ratio = median(m["timings"]["train"] / m["total_seconds"] for m in ms)
        rest = median(
            m["total_seconds"] - sum(v for k, v in m["timings"].items() if "/" not in k) for m in ms
        )
        cells = [median(m["timings"].get(p, 0.0) for m in ms) for p in phases]
        print(
            f"| `{preset}` | {train:.1f} | {total:.1f} | {ratio:.0%} | {rest:.1f} |"
            + "".join(f" {c:.1f} |" for c in cells)
        )
    print("\nEvaluation parts (medians, s):\n")
    for preset, ms in rows.items():
        parts = sorted({k for m in ms for k in m["timings"] if k.startswith("evaluation/")})
        shown = ", ".join(
            f"{k.split('/', 1)[1]} {median(m['timings'].get(k, 0.0) for m in ms):.2f}"
            for k in parts
        )
        print(f"- `{preset}`: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
