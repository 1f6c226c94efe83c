"""Ctrl-C, SIGTERM and SIGKILL at random points of a run leave a folder that the same command
resumes to the same numbers as an uninterrupted run (fp32, CPU, one thread, fixed seed)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

WALL_CLOCK = {"run", "train_seconds", "train_img_per_s", "wall_seconds", "timings"}
OVERRIDES = (
    "train.epochs=4",
    "eval.fewshot=false",
    "eval.clustering=false",
    "eval.figures=false",
)


def _command(out: Path) -> list[str]:
    argv = [sys.executable, "-m", "mnistmax", "train", "triplet", "--preset", "triplet_quick"]
    for override in OVERRIDES:
        argv += ["--set", override]
    return [*argv, "--out", str(out), "--quiet"]


def _env(data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MNISTMAX_DATA": str(data),
    }


def _numbers(out: Path) -> dict[str, Any]:
    data = json.loads((out / "eval.json").read_text())
    return {k: v for k, v in data.items() if k not in WALL_CLOCK}


def _epochs_done(out: Path) -> int:
    file = out / "metrics.jsonl"
    if not file.is_file():
        return 0
    return sum('"kind": "epoch"' in line for line in file.read_text().splitlines())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_an_interrupted_run_resumes_to_the_same_numbers(
    sig: signal.Signals,
    tmp_path_factory: pytest.TempPathFactory,
    reference: tuple[dict[str, Any], Path],
) -> None:
    numbers, data = reference
    rng = random.Random(int(sig))
    out = tmp_path_factory.mktemp(sig.name) / "run"
    proc = subprocess.Popen(_command(out), env=_env(data), stderr=subprocess.PIPE, text=True)
    # Once the run has begun (its folder made: before that the interpreter is still starting,
    # where Python itself answers Ctrl-C), after 0, 1 or 2 finished epochs plus a little.
    wanted = rng.randint(0, 2)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        if (out / "config.json").is_file() and _epochs_done(out) >= wanted:
            break
        time.sleep(0.05)
    time.sleep(rng.uniform(0.0, 0.6))
    if proc.poll() is None:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    if sig != signal.SIGKILL:
        assert "Traceback" not in err, err
        assert proc.returncode in (0, 130), err
    again = subprocess.run(
        _command(out), env=_env(data), capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stderr
    assert _numbers(out) == numbers


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The uninterrupted run's numbers, and the data root every run of this module shares
    (its own: the baseline cache is made here, at one thread)."""
    data = tmp_path_factory.mktemp("data")
    out = tmp_path_factory.mktemp("reference") / "run"
    done = subprocess.run(
        _command(out), env=_env(data), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return _numbers(out), data
