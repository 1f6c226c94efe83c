"""Many workers at once: started together on a new study, killed at random, a restarted server.

Every process talks to the storage over loopback only: a SQLite file, or a throwaway PostgreSQL
server (``study_helpers.postgres_server``) on 127.0.0.1 that the chaos test restarts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from optuna.trial import TrialState
from study_helpers import (
    Chaos,
    PostgresServer,
    assert_each_unit_once,
    epochs_of,
    postgres_server,
    run_chaos,
    start_together,
    tiny_spec,
)

from mnistmax.cli.main import main
from mnistmax.studies.engine import (
    claim_next,
    load_stored_study,
    open_study,
    setup_study,
    unit_attrs,
)
from mnistmax.studies.spec import iter_units, load_spec
from mnistmax.studies.storage import (
    StorageError,
    default_storage_url,
    open_storage,
    retry_transient,
)


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with postgres_server() as pg:
        yield pg


def units_of(spec_path: Path) -> set[str]:
    return {f"{c}_seed{s}" for c, _, s in iter_units(load_spec(spec_path))}


# ---------------------------------------------------------------------------------------------
# Transient and persistent storage errors


def test_transient_errors_are_retried_with_one_line_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sqlalchemy.exc import OperationalError

    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))
        return "done"

    assert retry_transient(flaky, "sqlite:////tmp/x.db", budget_s=30) == "done"
    lines = [r.getMessage() for r in caplog.records if r.name == "mnistmax.studies.storage"]
    assert len(calls) == 3 and len(lines) == 2
    assert all("database is locked; retry" in line for line in lines), lines

    def wrong() -> None:  # not transient: raised at once, never retried
        calls.append(1)
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: x"))

    calls.clear()
    with pytest.raises(OperationalError):
        retry_transient(wrong, "sqlite:////tmp/x.db", budget_s=30)
    assert len(calls) == 1


def test_an_unreachable_server_is_one_sentence_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from study_helpers import _free_port

    monkeypatch.setenv("MNISTMAX_STORAGE_RETRY_S", "2")
    url = f"postgresql://mnistmax:s3cret@127.0.0.1:{_free_port()}/studies"  # nobody listens
    spec = tiny_spec(tmp_path, "nowhere", grid='triplet.miner = ["semi_hard"]')
    code = main(["study", "run", str(spec), "--storage", url, "--root", str(tmp_path)])
    err = capsys.readouterr().err
    *retries, last = err.strip().splitlines()
    assert code == 1, err
    assert retries and all("Connection refused; retry" in r for r in retries), err
    assert last.startswith("mnistmax: error: storage postgresql://mnistmax:***@127.0.0.1:")
    assert "is unreachable" in last and "Traceback" not in err and "s3cret" not in err
    with pytest.raises(StorageError, match="is unreachable"):  # the library's typed error
        open_storage(url)


def test_a_second_queued_copy_of_a_taken_unit_is_failed_not_run(tmp_path: Path) -> None:
    # A queueing write retried after its commit reached a restarting server leaves two waiting
    # trials of one unit: the claim that meets the second one fails it and moves on.
    url = default_storage_url(tmp_path)
    spec = load_spec(tiny_spec(tmp_path, "dup", grid='triplet.miner = ["semi_hard"]'))
    setup_study(spec, url)
    h = open_study(spec, url)
    with h.lock.hold():
        first = claim_next(h)
    assert first is not None
    h.study.tell(first.trial, 0.5)
    h.study.enqueue_trial(first.params, user_attrs=unit_attrs(first.cell, first.seed, first.params))
    with h.lock.hold():
        second = claim_next(h)
        third = claim_next(h)
    h.lock.close()
    assert second is not None and second.unit != first.unit and third is None
    states = [(t.user_attrs["unit"], t.state) for t in h.study.get_trials()]
    assert states == [
        (first.unit, TrialState.COMPLETE),
        (second.unit, TrialState.RUNNING),
        (first.unit, TrialState.FAIL),
    ]
    assert h.study.trials[2].user_attrs["error"] == "duplicate of a taken unit"


# ---------------------------------------------------------------------------------------------
# Workers that start at the same moment on a new study


def check_started_together(spec_path: Path, root: Path, url: str, codes: list[int | None]) -> None:
    assert codes == [0, 0, 0, 0]
    study, _ = load_stored_study(spec_path.stem, url)
    assert_each_unit_once(study, units_of(spec_path), root / spec_path.stem)


def test_four_workers_start_together_on_a_new_sqlite_study(tmp_path: Path) -> None:
    # Without the schema lock: "table studies already exists" (checked by hand: the test fails).
    spec = tiny_spec(tmp_path, "together", grid='triplet.miner = ["semi_hard", "batch_hard"]')
    root = tmp_path / "studies"
    codes = start_together(["study", "run", str(spec), "--root", str(root), "--quiet"])
    check_started_together(spec, root, default_storage_url(root / "together"), codes)


def test_four_workers_start_together_on_a_new_postgres_database(
    server: PostgresServer, tmp_path: Path
) -> None:
    # Without the schema lock: a unique violation in pg_type (checked by hand: the test fails).
    url = server.create_database("together")
    spec = tiny_spec(tmp_path, "together", grid='triplet.miner = ["semi_hard", "batch_hard"]')
    root = tmp_path / "studies"
    argv = ["study", "run", str(spec), "--storage", url, "--root", str(root), "--quiet"]
    check_started_together(spec, root, url, start_together(argv))


# ---------------------------------------------------------------------------------------------
# Chaos: random SIGKILLs (and a server restart); nothing lost, nothing done twice


def check_chaos(chaos: Chaos, spec_path: Path, folder: Path, url: str, epochs: int) -> None:
    logs = "\n".join(chaos.stderr)
    assert chaos.exit_codes and set(chaos.exit_codes) == {0}, (chaos.exit_codes, logs)
    assert "Traceback" not in logs, logs
    study, _ = load_stored_study(spec_path.stem, url)
    units = units_of(spec_path)
    assert_each_unit_once(study, units, folder)
    for unit in units:  # trained once: every epoch recorded exactly once, in order
        assert epochs_of(folder / "trials" / unit) == list(range(1, epochs + 1)), unit
    # Each killed trial went stale, was failed and its unit re-queued by the heartbeat, then
    # completed by another worker.
    trials = study.get_trials(deepcopy=False)
    for unit in set(chaos.killed_units):
        states = [t.state for t in trials if t.user_attrs["unit"] == unit]
        assert states.count(TrialState.FAIL) >= chaos.killed_units.count(unit), (unit, states)
        assert states[-1] == TrialState.COMPLETE
    retried = [t for t in trials if t.state == TrialState.COMPLETE and t.user_attrs.get("lost")]
    assert len(retried) >= len(set(chaos.killed_units)) >= 1


def test_chaos_on_sqlite_loses_nothing(tmp_path: Path) -> None:
    spec = tiny_spec(
        tmp_path, "chaos", grid='triplet.miner = ["semi_hard", "batch_hard"]', epochs=4
    )
    root = tmp_path / "studies"
    url = default_storage_url(root / "chaos")
    chaos = run_chaos(spec, root, url, events=("kill", "kill", "kill"), seed=1)
    assert len(chaos.killed_units) == 3
    check_chaos(chaos, spec, root / "chaos", url, epochs=4)


def test_chaos_on_postgres_with_a_server_restart_loses_nothing(
    server: PostgresServer, tmp_path: Path
) -> None:
    url = server.create_database("chaos")
    spec = tiny_spec(
        tmp_path, "chaos", grid='triplet.miner = ["semi_hard", "batch_hard"]', epochs=4
    )
    root = tmp_path / "studies"
    chaos = run_chaos(
        spec,
        root,
        url,
        storage_args=("--storage", url),
        events=("kill", "restart", "kill", "kill"),
        restart=server.restart,
        seed=2,
    )
    assert chaos.restarted and len(chaos.killed_units) == 3
    check_chaos(chaos, spec, root / "chaos", url, epochs=4)
