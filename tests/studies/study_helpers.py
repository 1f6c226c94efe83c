"""Helpers of the study tests: tiny specs, the CLI in a subprocess, the invariants."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

# Two training epochs of three small steps and no test evaluation: about a second per trial.
TINY = """
name = "{name}"
base = "triplet_quick"
kind = "grid"
seeds = {seeds}
evaluate = false

[objective]
metric = "val/knn@20"
direction = "maximize"

[overrides]
train.epochs = {epochs}
train.steps_per_epoch = 3
train.batch_size = 40
train.monitor_val_size = 200
train.monitor_bank_size = 500
eval.figures = false

[grid]
{grid}
"""


def tiny_spec(
    folder: Path,
    name: str = "tiny",
    *,
    grid: str = 'triplet.miner = ["semi_hard", "batch_hard"]\ntriplet.margin = [0.2, 0.5]',
    seeds: int = 2,
    epochs: int = 2,
) -> Path:
    """Write a tiny grid spec and return its path."""
    path = folder / f"{name}.toml"
    path.write_text(TINY.format(name=name, grid=grid, seeds=seeds, epochs=epochs))
    return path


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m mnistmax ARGS`` in a subprocess with one torch thread."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "mnistmax", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )


def assert_each_unit_once(study: Any, expected_units: set[str], folder: Path | None) -> None:
    """Every unit COMPLETE exactly once, nothing waiting or running, and (when ``folder`` is
    given) exactly one run folder per unit."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    complete = Counter(t.user_attrs["unit"] for t in trials if t.state == TrialState.COMPLETE)
    assert set(complete) == expected_units
    assert all(n == 1 for n in complete.values()), complete
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    if folder is not None:
        run_dirs = sorted(p.name for p in (folder / "trials").iterdir())
        assert run_dirs == sorted(expected_units)


def claim_everything(spec_dict: dict[str, Any], url: str, start: Any, results: Any) -> None:
    """Worker of the claim race test: claim units as fast as possible, report which."""
    from mnistmax.studies.engine import claim_next, open_study
    from mnistmax.studies.spec import from_dict

    h = open_study(from_dict(spec_dict), url)
    start.wait()  # a barrier: every process starts claiming at the same moment
    claimed = []
    while True:
        with h.lock.hold():
            claim = claim_next(h)
        if claim is None:
            break
        claimed.append(claim.unit)
        h.study.tell(claim.trial, 0.0)
    h.lock.close()
    results.put(claimed)


def race_claims(url: str, processes: int = 4, units: int = 40) -> list[list[str]]:
    """Set up a grid of ``units`` units and let ``processes`` processes claim them at once."""
    import multiprocessing

    from mnistmax.studies.engine import setup_study
    from mnistmax.studies.spec import spec_from_toml, to_dict

    spec = spec_from_toml(
        {
            "name": "race",
            "base": "triplet_quick",
            "grid": {"train.lr": [1e-4 * (i + 1) for i in range(units)]},
        },
        where="race",
    )
    setup_study(spec, url)
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(processes), ctx.Queue()
    procs = [
        ctx.Process(target=claim_everything, args=(to_dict(spec), url, start, results))
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    claimed = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return claimed
