"""PostgreSQL storage: a real, throwaway local server and two workers sharing one study.

The server is Debian's PostgreSQL (``apt-get install postgresql``; ``.ci/run`` installs it),
started in a temporary folder, listening on 127.0.0.1 only at a free port, with its Unix socket
in the same folder, and always stopped afterwards (``study_helpers.postgres_server``). Without
the binaries the test is skipped, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from study_helpers import assert_each_unit_once, cli, postgres_server, race_claims, tiny_spec

from mnistmax.studies.engine import load_stored_study
from mnistmax.studies.spec import iter_units, load_spec


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as server:
        yield server.create_database("studies")


def test_concurrent_claims_on_postgres(postgres_url: str) -> None:
    claimed = race_claims(postgres_url, processes=3, units=30)
    units = Counter(u for c in claimed for u in c)
    assert len(units) == 30 and set(units.values()) == {1}


def test_two_workers_share_a_postgres_study(postgres_url: str, tmp_path: Path) -> None:
    spec = tiny_spec(tmp_path, "shared", grid='triplet.miner = ["semi_hard", "batch_hard"]')
    root = tmp_path / "studies"
    done = cli(
        "study", "run", str(spec), "--storage", postgres_url, "--root", str(root),
        "--workers", "2", "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    study, _ = load_stored_study("shared", postgres_url)
    expected = {f"{c}_seed{s}" for c, _, s in iter_units(load_spec(spec))}
    assert_each_unit_once(study, expected, root / "shared")
    assert len({t.user_attrs["worker"] for t in study.get_trials()}) == 2
    # status and report read the study back from the database named in study.json.
    status = cli("study", "status", "shared", "--root", str(root))
    assert status.returncode == 0 and "units: 4/4 complete" in status.stdout, status.stderr
