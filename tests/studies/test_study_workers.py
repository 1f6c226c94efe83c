"""Workers on one SQLite storage: exclusive claims, killed workers, crashes, Ctrl-C, TPE."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import torch
from optuna.trial import TrialState
from study_helpers import REPO, assert_each_unit_once, cli, race_claims, tiny_spec

from mnistmax.errors import ConfigError
from mnistmax.studies import engine
from mnistmax.studies.engine import load_stored_study, run_study, setup_study
from mnistmax.studies.report import cell_table, trial_rows
from mnistmax.studies.spec import iter_units, load_spec
from mnistmax.studies.storage import default_storage_url


@pytest.fixture(autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)


def units_of(spec_path: Path) -> set[str]:
    return {f"{c}_seed{s}" for c, _, s in iter_units(load_spec(spec_path))}


def test_concurrent_claims_never_hand_out_a_unit_twice(tmp_path: Path) -> None:
    # Three processes claim 30 queued units at once. SQLite ignores SELECT ... FOR UPDATE, so
    # without the study lock two of them take the same unit (checked by hand: the test fails).
    claimed = race_claims(default_storage_url(tmp_path), processes=3, units=30)
    units = Counter(u for c in claimed for u in c)
    assert len(units) == 30 and set(units.values()) == {1}


def test_two_worker_processes_share_one_sqlite_study(tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path, "pair", grid='triplet.miner = ["semi_hard", "batch_hard"]')
    root = tmp_path / "studies"
    done = cli("study", "run", str(spec), "--root", str(root), "--workers", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    folder = root / "pair"
    study, _ = load_stored_study("pair", default_storage_url(folder))
    assert_each_unit_once(study, units_of(spec), folder)
    workers = {t.user_attrs["worker"] for t in study.get_trials()}
    assert len(workers) == 2  # both processes took part


def test_killed_worker_is_resumed_by_a_restarted_one(tmp_path: Path) -> None:
    spec_path = tiny_spec(tmp_path, "killed", grid='triplet.miner = ["semi_hard"]', epochs=4)
    root = tmp_path / "studies"
    folder = root / "killed"
    command = ["study", "run", str(spec_path), "--root", str(root), "--heartbeat", "1", "--quiet"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "mnistmax", *command],
        cwd=REPO,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # Kill it as soon as a trial has checkpointed its first epoch (of four).
        deadline = time.monotonic() + 120
        while not list(folder.glob("trials/*/checkpoints/last.pt")):
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.02)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    study, spec = load_stored_study("killed", default_storage_url(folder))
    running = study.get_trials(states=(TrialState.RUNNING,))
    assert len(running) == 1  # killed mid-trial: it stays RUNNING until it goes stale
    killed_unit = running[0].user_attrs["unit"]

    run_study(spec, root=root, heartbeat_s=1, quiet=True)

    study, _ = load_stored_study("killed", default_storage_url(folder))
    assert_each_unit_once(study, units_of(spec_path), folder)
    trials = [t for t in study.get_trials() if t.user_attrs["unit"] == killed_unit]
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.COMPLETE]
    retry = trials[1].user_attrs
    assert retry["lost"] == 1 and retry["resumed_from_epoch"] >= 1  # resumed, not restarted
    records = (folder / "trials" / killed_unit / "metrics.jsonl").read_text().splitlines()
    epochs = [json.loads(r)["epoch"] for r in records if json.loads(r)["kind"] == "epoch"]
    assert epochs == [1, 2, 3, 4]


def test_a_crashed_trial_fails_with_its_error_and_the_study_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = load_spec(tiny_spec(tmp_path, "crash", grid='triplet.miner = ["semi_hard"]'))
    real = engine.train_unit

    def flaky(cfg: Any, run_dir: Path, *, evaluate: bool) -> dict[str, Any]:
        if cfg.train.seed == 0:
            raise RuntimeError("boom in seed 0")
        return real(cfg, run_dir, evaluate=evaluate)

    monkeypatch.setattr(engine, "train_unit", flaky)
    root = tmp_path / "studies"
    run_study(spec, root=root, quiet=True)
    url = default_storage_url(root / "crash")
    study, _ = load_stored_study("crash", url)
    states = {t.user_attrs["unit"]: t.state for t in study.get_trials()}
    assert states == {
        "c000-semi_hard_seed0": TrialState.FAIL,
        "c000-semi_hard_seed1": TrialState.COMPLETE,
    }
    failed = study.get_trials(states=(TrialState.FAIL,))[0]
    assert failed.user_attrs["error"] == "RuntimeError: boom in seed 0"
    assert (
        "boom in seed 0"
        in (root / "crash" / "trials" / "c000-semi_hard_seed0" / "error.txt").read_text()
    )
    (cell,) = cell_table(trial_rows(study), spec)
    assert (cell["n"], cell["failed"]) == (1, 1)

    run_study(spec, root=root, quiet=True)  # a rerun does not compute the failed unit again
    assert len(load_stored_study("crash", url)[0].trials) == 2
    monkeypatch.setattr(engine, "train_unit", real)
    run_study(spec, root=root, quiet=True, retry_failed=True)  # unless asked to
    study, _ = load_stored_study("crash", url)
    assert [t.state for t in study.get_trials()] == [
        TrialState.FAIL,
        TrialState.COMPLETE,
        TrialState.COMPLETE,
    ]


def test_ctrl_c_requeues_the_running_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec_path = tiny_spec(tmp_path, "interrupted", grid='triplet.miner = ["semi_hard"]')
    spec = load_spec(spec_path)
    real = engine.train_unit

    def interrupt_seed1(cfg: Any, run_dir: Path, *, evaluate: bool) -> dict[str, Any]:
        if cfg.train.seed == 1:
            raise KeyboardInterrupt
        return real(cfg, run_dir, evaluate=evaluate)

    monkeypatch.setattr(engine, "train_unit", interrupt_seed1)
    root = tmp_path / "studies"
    with pytest.raises(KeyboardInterrupt):
        run_study(spec, root=root, quiet=True)
    url = default_storage_url(root / "interrupted")
    states = [t.state for t in load_stored_study("interrupted", url)[0].get_trials()]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.WAITING]
    monkeypatch.setattr(engine, "train_unit", real)
    run_study(spec, root=root, quiet=True)
    study, _ = load_stored_study("interrupted", url)
    assert_each_unit_once(study, units_of(spec_path), root / "interrupted")


def test_tpe_study_samples_cells_and_runs_every_seed(tmp_path: Path) -> None:
    text = tiny_spec(tmp_path, "tpe").read_text().split("[grid]")[0]
    text = text.replace('kind = "grid"', 'kind = "tpe"')
    text += (
        "[space]\ntrain.lr = { low = 1e-4, high = 1e-2, log = true }\n"
        "train.batch_size = { choices = [30, 40] }\n\n[budget]\ntrials = 2\nstartup_trials = 1\n"
    )
    path = tmp_path / "tpe.toml"
    path.write_text(text)
    spec = load_spec(path)
    root = tmp_path / "studies"
    run_study(spec, root=root, quiet=True)
    study, _ = load_stored_study("tpe", default_storage_url(root / "tpe"))
    table = cell_table(trial_rows(study), spec)
    assert len(table) == 2 and all(c["n"] == 2 and c["seeds"] == [0, 1] for c in table)
    for c in table:
        lr = c["params"]["train.lr"]
        assert 1e-4 <= lr <= 1e-2 and c["params"]["train.batch_size"] in (30, 40)
    assert len({c["params"]["train.lr"] for c in table}) == 2


def test_a_changed_spec_is_refused_and_a_larger_budget_is_not(tmp_path: Path) -> None:
    url = default_storage_url(tmp_path)
    spec = load_spec(tiny_spec(tmp_path, "same"))
    setup_study(spec, url)
    other = load_spec(tiny_spec(tmp_path, "same", grid='triplet.miner = ["random"]'))
    with pytest.raises(ConfigError, match=r"different spec \(differs in: params\)"):
        setup_study(other, url)
    setup_study(spec, url)  # the same spec: nothing new is queued
    study, _ = load_stored_study("same", url)
    assert len(study.trials) == 8
