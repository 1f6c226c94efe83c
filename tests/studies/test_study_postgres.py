"""PostgreSQL storage: a real, throwaway local server and two workers sharing one study.

The server is Debian's PostgreSQL (``apt-get install postgresql``; ``.ci/run`` installs it),
started in a temporary folder, listening on 127.0.0.1 only at a free port, with its Unix socket
in the same folder, and always stopped afterwards. Without the binaries the test is skipped,
except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from study_helpers import assert_each_unit_once, cli, race_claims, tiny_spec

from mnistmax.studies.engine import load_stored_study
from mnistmax.studies.spec import iter_units, load_spec


def _bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    bindir = _bindir()
    if bindir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL binaries are missing in CI (apt-get install postgresql)")
        pytest.skip("PostgreSQL binaries not installed (apt-get install postgresql)")
    # initdb refuses to run as root: run the server as the postgres user, in a folder it owns.
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    tmp = Path(tempfile.mkdtemp(prefix="mnistmax-pg-"))
    if as_root:
        shutil.chown(tmp, "postgres", "postgres")
    data, port = tmp / "data", _free_port()

    def run(*cmd: str) -> None:
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={tmp} "
            "-c fsync=off -c max_connections=50"
        )
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(tmp / "log"),
            "-w",
            "start",
        )
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE studies")
        conn.close()
        yield f"postgresql://postgres@127.0.0.1:{port}/studies"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(tmp, ignore_errors=True)


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
