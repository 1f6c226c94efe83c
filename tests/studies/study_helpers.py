"""Helpers of the study tests: tiny specs, the CLI in a subprocess, the invariants, a throwaway
PostgreSQL server, workers started at one moment, and a chaos driver that kills them."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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


# ---------------------------------------------------------------------------------------------
# A throwaway PostgreSQL server


def _pg_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """A local server in a temporary folder, listening on 127.0.0.1 only, run as the postgres
    user when the tests run as root (initdb refuses root)."""

    bindir: Path
    tmp: Path
    port: int
    prefix: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.tmp / "data"

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self.prefix, *cmd], check=True, capture_output=True, timeout=120)

    def pg_ctl(self, *args: str) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.tmp} -c fsync=off -c max_connections=100"
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.tmp / "log"), "-w", *args,
        )  # fmt: skip

    def restart(self) -> None:
        """Stop (terminating every connection) and start again."""
        self.pg_ctl("-m", "fast", "restart")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its URL."""
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres"
        )
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url(name)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a server (skip without the binaries, except in CI), always stop it afterwards."""
    import pytest

    bindir = _pg_bindir()
    if bindir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL binaries are missing in CI (apt-get install postgresql)")
        pytest.skip("PostgreSQL binaries not installed (apt-get install postgresql)")
    as_root = os.geteuid() == 0
    tmp = Path(tempfile.mkdtemp(prefix="mnistmax-pg-"))
    if as_root:
        shutil.chown(tmp, "postgres", "postgres")
    server = PostgresServer(
        bindir, tmp, _free_port(), ["runuser", "-u", "postgres", "--"] if as_root else []
    )
    try:
        server._run(
            str(bindir / "initdb"), "-D", str(server.data), "-U", "postgres", "--auth=trust",
            "--no-sync",
        )  # fmt: skip
        server.pg_ctl("start")
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            subprocess.run(
                [
                    *server.prefix,
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(server.data),
                    "-m",
                    "immediate",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Workers that start at one moment


def _cli_after_barrier(argv: list[str], start: Any) -> None:
    """Worker of :func:`start_together`: import everything, wait at the barrier, run the CLI."""
    import torch

    import mnistmax.studies.engine  # noqa: F401  (imported before the barrier, as the CLI would)
    from mnistmax.cli.main import main

    torch.set_num_threads(1)
    start.wait()
    code = main(argv)
    sys.stdout.flush()
    sys.exit(code)


def start_together(argv: list[str], processes: int = 4, timeout: float = 300) -> list[int | None]:
    """Run ``mnistmax ARGV`` in ``processes`` processes released at the same moment (a barrier
    after the imports, so they reach the storage together); their exit codes."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(processes)
    procs = [ctx.Process(target=_cli_after_barrier, args=(argv, start)) for _ in range(processes)]
    for p in procs:
        p.start()
    deadline = time.monotonic() + timeout
    for p in procs:
        p.join(timeout=max(1.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join()
    return [p.exitcode for p in procs]


# ---------------------------------------------------------------------------------------------
# Chaos: workers killed at random moments, the server restarted


@dataclass
class Chaos:
    """What :func:`run_chaos` did: the exit codes of the workers it did not kill, the trials it
    killed mid-run (their units), whether the server restarted, and every worker's stderr."""

    exit_codes: list[int] = field(default_factory=list)
    killed_units: list[str] = field(default_factory=list)
    restarted: bool = False
    stderr: list[str] = field(default_factory=list)


def run_chaos(
    spec_path: Path,
    root: Path,
    url: str,
    *,
    storage_args: tuple[str, ...] = (),
    events: tuple[str, ...] = ("kill", "kill", "kill"),
    restart: Callable[[], None] | None = None,
    workers: int = 4,
    heartbeat_s: int = 2,
    seed: int = 0,
    timeout: float = 300,
) -> Chaos:
    """Run ``workers`` ``study run`` processes on one study and, at random moments, play
    ``events``: ``"kill"`` SIGKILLs a random worker in the middle of a trial (and starts a new
    one in its place, as a scheduler would), ``"restart"`` calls ``restart()``. Then wait until
    every live worker exits."""
    from optuna.trial import TrialState

    from mnistmax.studies.engine import load_stored_study

    rng = random.Random(seed)
    name = spec_path.stem
    command = [
        sys.executable, "-m", "mnistmax", "study", "run", str(spec_path), "--root", str(root),
        "--heartbeat", str(heartbeat_s), "--quiet", *storage_args,
    ]  # fmt: skip
    logs = root.parent / "chaos-logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", MNISTMAX_STORAGE_RETRY_S="60")

    def spawn(i: int) -> subprocess.Popen[bytes]:
        with open(logs / f"w{i}.err", "wb") as err:
            return subprocess.Popen(
                command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err
            )

    procs = {i: spawn(i) for i in range(workers)}
    killed: set[int] = set()
    chaos = Chaos()
    deadline = time.monotonic() + timeout
    pending = list(events)
    while pending and time.monotonic() < deadline:
        if all(p.poll() is not None for p in procs.values()):
            break  # the study ended before every event was played
        time.sleep(rng.uniform(0.5, 2.5))
        if pending[0] == "restart" and restart is not None:
            restart()
            chaos.restarted = True
            pending.pop(0)
            continue
        # A victim in the middle of a trial: a RUNNING trial whose worker is a live process.
        with contextlib.suppress(Exception):  # the study may not exist yet
            study, _ = load_stored_study(name, url)
            running = {
                t.user_attrs.get("worker", "").rpartition(":")[2]: t.user_attrs["unit"]
                for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            }
            alive = [i for i, p in procs.items() if p.poll() is None and str(p.pid) in running]
            if not alive:
                continue
            victim = rng.choice(alive)
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait()
            killed.add(victim)
            chaos.killed_units.append(running[str(procs[victim].pid)])
            procs[len(procs)] = spawn(len(procs))
            pending.pop(0)
    for i, p in procs.items():
        try:
            p.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        if i not in killed:
            chaos.exit_codes.append(p.returncode)
        chaos.stderr.append((logs / f"w{i}.err").read_text())
    assert not pending, f"events not played within {timeout} s: {pending}"
    return chaos


def epochs_of(run_dir: Path) -> list[int]:
    """The epochs recorded in a run folder's metrics.jsonl, in order."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [json.loads(r)["epoch"] for r in lines if json.loads(r)["kind"] == "epoch"]
