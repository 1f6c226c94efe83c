"""Study throughput with 1 and 2 workers on this machine: units per minute, rounds interleaved.

Each run is ``python -m mnistmax study run SPEC --root NEW --workers N --quiet`` in a new
process on a new SQLite study, timed from outside (start-up, study set-up, every unit, the final
status). The storage also gives the units' own wall time, so the table separates what the
workers spent training from the rest. Rounds alternate 1, 2, 1, 2, ... so that a busy neighbour
on a shared machine hurts both counts alike.

    .venv/bin/python benchmarks/bench_study_workers.py --rounds 2 [--spec studies/smoke.toml]
        [--epochs N]    # longer units: a copy of the spec with train.epochs = N
        [--omp 1]       # OMP_NUM_THREADS for the runs (1 worker keeps torch's threads)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(spec: str, workers: int, env: dict[str, str]) -> tuple[float, int, float]:
    """``(wall seconds, units complete, summed unit wall seconds)`` of one fresh study run."""
    from optuna.trial import TrialState

    from mnistmax.studies.engine import load_stored_study
    from mnistmax.studies.spec import resolve_spec
    from mnistmax.studies.storage import default_storage_url

    name = resolve_spec(spec).name
    with tempfile.TemporaryDirectory(prefix="mnistmax-bench-study-") as root:
        tic = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "mnistmax", "study", "run", spec, "--root", root,
             "--workers", str(workers), "--quiet"],
            cwd=REPO, capture_output=True, text=True, check=False, env=env,
        )  # fmt: skip
        wall = time.perf_counter() - tic
        if done.returncode != 0:
            raise SystemExit(f"study run failed ({done.returncode}): {done.stderr.strip()}")
        study, _ = load_stored_study(name, default_storage_url(Path(root) / name))
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        unit_s = sum(float(t.user_attrs.get("wall_seconds", 0.0)) for t in complete)
    return wall, len(complete), unit_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="studies/smoke.toml")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="override train.epochs")
    parser.add_argument("--omp", type=int, default=None, help="OMP_NUM_THREADS for the runs")
    args = parser.parse_args()
    env = dict(os.environ) | ({"OMP_NUM_THREADS": str(args.omp)} if args.omp else {})
    if args.epochs is not None:  # a copy of the spec with longer units, named after them
        text = Path(args.spec).read_text()
        text = re.sub(r"(?m)^train\.epochs\s*=.*$", f"train.epochs = {args.epochs}", text)
        text = re.sub(r'(?m)^name\s*=\s*"([^"]+)"', rf'name = "\1_e{args.epochs}"', text)
        copy = Path(tempfile.mkdtemp(prefix="mnistmax-bench-spec-")) / Path(args.spec).name
        copy.write_text(text)
        args.spec = str(copy)
    load = os.getloadavg()[0]
    omp = f"OMP_NUM_THREADS={args.omp}; " if args.omp else ""
    print(f"spec {args.spec}; {omp}{os.cpu_count()} cores; load average before: {load:.2f}\n")
    print("| round | workers | wall s | units | units/min | mean unit s | unit s / wall s |")
    print("|---|---|---|---|---|---|---|")
    rates: dict[int, list[float]] = {w: [] for w in args.workers}
    for r in range(args.rounds):
        for w in args.workers:
            wall, units, unit_s = one_run(args.spec, w, env)
            rate = 60 * units / wall
            rates[w].append(rate)
            print(
                f"| {r + 1} | {w} | {wall:.1f} | {units} | {rate:.2f} | {unit_s / units:.2f} "
                f"| {unit_s / wall:.2f} |",
                flush=True,
            )
    print()
    for w, rs in rates.items():
        print(f"workers {w}: median {statistics.median(rs):.2f} units/min over {len(rs)} runs")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
