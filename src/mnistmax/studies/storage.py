"""Where a study lives: its folder, its optuna storage, and the lock workers claim trials under.

A study folder ``<root>/<name>/`` (root ``runs/studies`` unless ``--root``) holds ``study.json``
(name, storage URL without its password), ``spec.json``, ``study.db`` when the storage is the
default SQLite file, and ``trials/<cell>_seed<k>/``: one ordinary run folder per trial.

Storage is any SQLAlchemy URL optuna's RDBStorage takes; this module supports SQLite (default,
nothing to start) and PostgreSQL (workers on many machines share one study).

Why a lock: optuna claims a queued trial with ``SELECT ... FOR UPDATE``, which SQLite ignores,
so two processes on one SQLite file can both take the same queued trial (and both retry the
same stale one). Every claim therefore runs under :class:`StudyLock`: an ``flock`` on a file
beside the SQLite database, or a PostgreSQL advisory lock keyed by the study name. Both are
released by the operating system or the server when a worker dies, so a killed worker never
leaves the study locked.

Why a second lock, around opening: optuna's RDBStorage creates its tables (``create_all``), its
version row and its alembic stamp with check-then-create steps, and ``create_study`` likewise, so
workers started together on a new database collide (SQLite: "table studies already exists";
PostgreSQL: a unique violation in ``pg_type``). :func:`open_storage` and the engine's
``open_study`` therefore run under :func:`schema_lock` (the same file lock, or an advisory lock
with a per-database key), and a creation race that still slips through (another tool creating
the schema) is retried.

Why retries: a database server restarts, a connection drops, a SQLite writer holds the file
longer than the busy timeout. Every storage call goes through :func:`retry_transient`, which
retries such errors with exponential backoff for at most :func:`retry_budget_s` seconds
(``MNISTMAX_STORAGE_RETRY_S``, default 120), printing one line per retry; what persists becomes
a :class:`StorageError`: one sentence naming the URL (password hidden), exit status 1.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import hashlib
import importlib.util
import logging
import os
import random
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from mnistmax.errors import ConfigError, MnistmaxError
from mnistmax.extras import require
from mnistmax.io import read_json, write_json_atomic

log = logging.getLogger(__name__)

DEFAULT_ROOT = "runs/studies"
DIALECTS = ("sqlite", "postgresql")
#: Seconds a transient storage error is retried before it is reported (MNISTMAX_STORAGE_RETRY_S).
DEFAULT_RETRY_S = 120.0
#: Messages of database errors that go away by themselves: a server (re)starting or stopping,
#: a dropped connection, a busy SQLite file. Anything else (a wrong password, a missing
#: database, a bug) is reported at once.
TRANSIENT = (
    "connection refused",
    "could not connect",
    "server closed the connection",
    "terminating connection",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "connection reset",
    "connection already closed",
    "connection timed out",
    "timeout expired",
    "no connection to the server",
    "could not receive data",
    "could not send data",
    "ssl syscall error",
    "database is locked",
)
#: Messages of a schema or study creation race (a second line of defence behind the lock).
CREATION_RACE = ("already exists", "duplicate key value violates unique constraint")

T = TypeVar("T")


class StorageError(MnistmaxError):
    """The study's database failed or stayed unreachable: a run failure (exit status 1)."""

    exit_code = 1


def study_dir(name: str, root: str | Path | None = None) -> Path:
    """The folder of study ``name``."""
    return Path(root if root is not None else DEFAULT_ROOT) / name


def default_storage_url(folder: Path) -> str:
    """``sqlite:///<folder>/study.db`` (absolute, so workers may run from any directory)."""
    return f"sqlite:///{(folder / 'study.db').resolve()}"


def check_url(url: str) -> Any:
    """Parse a storage URL; ConfigError unless it is a SQLite file or a PostgreSQL database."""
    from sqlalchemy.engine import make_url  # sqlalchemy: comes with optuna (the 'studies' extra)
    from sqlalchemy.exc import ArgumentError  # sqlalchemy: comes with optuna (the 'studies' extra)

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"storage {url!r} is not a database URL; use sqlite:///path/study.db or "
            "postgresql://user:password@host/dbname"
        ) from None
    if parsed.get_backend_name() not in DIALECTS:
        raise ConfigError(
            f"storage {redact(url)}: {parsed.get_backend_name()} is not supported; use SQLite "
            "(sqlite:///path) or PostgreSQL (postgresql://...)"
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigError(
            f"storage {url!r}: a study needs a SQLite file (sqlite:///path/study.db), not memory"
        )
    return parsed


def driver_url(url: str) -> str:
    """``url`` with a PostgreSQL driver that is installed.

    SQLAlchemy 2.1 reads a bare ``postgresql://`` as psycopg 3; the pinned driver is psycopg2
    (``psycopg2-binary``), so a bare URL uses it unless psycopg 3 is installed.
    """

    parsed = check_url(url)
    if parsed.drivername == "postgresql" and importlib.util.find_spec("psycopg") is None:
        require("psycopg2", "studies", "PostgreSQL study storage")
        return str(parsed.set(drivername="postgresql+psycopg2").render_as_string(False))
    return url


def redact(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    from sqlalchemy.engine import make_url  # sqlalchemy: comes with optuna (the 'studies' extra)

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable URL>"


def retry_budget_s() -> float:
    """Seconds to keep retrying a transient storage error (``MNISTMAX_STORAGE_RETRY_S``)."""
    raw = os.environ.get("MNISTMAX_STORAGE_RETRY_S")
    try:
        return DEFAULT_RETRY_S if raw is None else max(0.0, float(raw))
    except ValueError:
        raise ConfigError(
            f"MNISTMAX_STORAGE_RETRY_S={raw!r} is not a number of seconds; unset it or give one"
        ) from None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from (optuna wraps SQLAlchemy's errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _database_error(exc: BaseException) -> BaseException | None:
    """The SQLAlchemy or DB-API error behind ``exc``, if there is one."""
    for e in _chain(exc):
        module = type(e).__module__.split(".")[0]
        if module in ("sqlalchemy", "psycopg2", "psycopg", "sqlite3"):
            return e
    return None


def is_transient(exc: BaseException, also: tuple[str, ...] = ()) -> bool:
    """Whether ``exc`` is a database error that may go away if the call is made again."""
    db = _database_error(exc)
    if db is None:
        return False
    if getattr(db, "connection_invalidated", False):
        return True
    text = " ".join(str(e) for e in _chain(exc)).lower()
    return any(m in text for m in TRANSIENT + also)


def error_line(exc: BaseException) -> str:
    """The first line of the database's own message (not SQLAlchemy's boilerplate)."""
    db = _database_error(exc)
    inner = getattr(db, "orig", None) or db or exc
    text = str(inner).strip()
    return text.splitlines()[0].strip() if text else type(inner).__name__


def retry_transient(
    fn: Callable[[], T], url: str, *, also: tuple[str, ...] = (), budget_s: float | None = None
) -> T:
    """``fn()``, retrying transient database errors with backoff (0.5 s doubling to 8 s, with
    jitter) for at most ``budget_s`` seconds (default :func:`retry_budget_s`), one stderr line
    per retry; then :class:`StorageError`. Errors that are not transient propagate unchanged.
    """
    budget = retry_budget_s() if budget_s is None else budget_s
    start, delay, attempt = time.monotonic(), 0.5, 0
    while True:
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc, also):
                raise
            waited = time.monotonic() - start
            if waited + delay > budget:
                raise StorageError(
                    f"storage {redact(url)} is unreachable: {error_line(exc)} (retried for "
                    f"{waited:.0f} s); check that the database is up and reachable, then run "
                    "the same command again"
                ) from None
            attempt += 1
            log.warning(
                "mnistmax: storage %s: %s; retry %d in %.1f s (%.0f of %.0f s)",
                redact(url),
                error_line(exc),
                attempt,
                delay,
                waited,
                budget,
            )
            time.sleep(delay * random.uniform(1.0, 1.5))
            delay = min(2 * delay, 8.0)


#: RDBStorage methods that talk to the database, retried by :func:`resilient_storage_class`.
_RETRIED = (
    "create_new_study",
    "delete_study",
    "set_study_user_attr",
    "set_study_system_attr",
    "get_study_id_from_name",
    "get_study_name_from_id",
    "get_study_directions",
    "get_study_user_attrs",
    "get_study_system_attrs",
    "get_trial_user_attrs",
    "get_trial_system_attrs",
    "get_all_studies",
    "create_new_trial",
    "set_trial_param",
    "get_trial_param",
    "set_trial_state_values",
    "set_trial_intermediate_value",
    "set_trial_user_attr",
    "set_trial_system_attr",
    "get_trial_id_from_study_id_trial_number",
    "get_trial",
    "get_all_trials",
    "get_best_trial",
    "record_heartbeat",
    "_get_stale_trial_ids",
)


@functools.cache
def resilient_storage_class() -> type:
    """optuna's RDBStorage with every database call wrapped in :func:`retry_transient`.

    Retrying is safe for reads and idempotent writes. A write whose commit reached the server
    but whose answer was lost is applied twice when retried; the engine tolerates that (a
    claim seen finished is skipped, a duplicate queued unit is dropped at claim time).
    ``record_heartbeat_once`` is the unretried beat for the heartbeat thread, which has a loop
    of its own.
    """
    from optuna.storages import (
        RDBStorage,  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it
    )

    def retried(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            url = getattr(self, "user_url", self.url)  # as the user wrote it (no driver)
            return retry_transient(lambda: method(self, *args, **kwargs), url)

        return call

    attrs: dict[str, Any] = {name: retried(getattr(RDBStorage, name)) for name in _RETRIED}
    attrs["record_heartbeat_once"] = RDBStorage.record_heartbeat
    attrs["__doc__"] = resilient_storage_class.__doc__
    return type("ResilientRDBStorage", (RDBStorage,), attrs)


def open_storage(
    url: str, *, heartbeat_s: int | None = None, on_stale: Callable[[Any, Any], None] | None = None
) -> Any:
    """An optuna RDBStorage for ``url`` (tables created if needed, under :func:`schema_lock`),
    heartbeats every ``heartbeat_s`` seconds; a trial silent for 3 × that is stale and handed to
    ``on_stale(study, trial)`` (the engine re-queues its unit). Every database call of the
    storage retries transient errors (:func:`retry_transient`)."""
    import optuna  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it

    parsed = check_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Several worker processes write one file: wait for its lock rather than fail at 5 s.
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 120}}
    else:
        kwargs["engine_kwargs"] = {"pool_pre_ping": True}
    if heartbeat_s is not None:
        kwargs |= {
            "heartbeat_interval": heartbeat_s,
            "grace_period": 3 * heartbeat_s,
            "heartbeat_stale_trial_callback": on_stale,
        }
    cls = resilient_storage_class()

    def build() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = cls(driver_url(url), **kwargs)
        storage.user_url = url
        return storage

    try:
        with schema_lock(url):
            return retry_transient(build, url, also=CREATION_RACE)
    except ImportError as exc:
        raise ConfigError(
            f"storage {redact(url)} needs a database driver that is not installed ({exc})"
        ) from None
    except MnistmaxError:
        raise
    except Exception as exc:  # a wrong password, a missing database, ...: one sentence
        raise StorageError(f"cannot open storage {redact(url)}: {error_line(exc)}") from None


@contextlib.contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Hold the lock that serialises creating optuna's tables and studies in ``url``'s database.

    SQLite: the same file lock as the claims (never nest the two); PostgreSQL: an advisory lock
    with a key of its own, on a connection of its own, taken before optuna touches the schema.
    """
    lock = StudyLock(url, "", key_name="mnistmax-schema")
    try:
        with lock.hold():
            yield
    finally:
        lock.close()


class StudyLock:
    """A mutex shared by every worker of one study, on any machine that reaches the storage."""

    def __init__(self, url: str, name: str, *, key_name: str | None = None) -> None:
        parsed = check_url(url)
        self.user_url, self.url = url, driver_url(url)
        self.dialect = parsed.get_backend_name()
        key_name = key_name if key_name is not None else f"mnistmax-study:{name}"
        self.key = int(hashlib.sha1(key_name.encode()).hexdigest()[:15], 16)
        self._path = Path(f"{parsed.database}.lock") if self.dialect == "sqlite" else None
        self._engine: Any = None
        self._conn: Any = None

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the ``with`` block."""
        if self._path is not None:
            import fcntl  # POSIX only; the SQLite lock alone needs it

            self._path.parent.mkdir(parents=True, exist_ok=True)
            with open(self._path, "a+b") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return
        from sqlalchemy import text  # sqlalchemy: comes with optuna (the 'studies' extra)

        def acquire() -> Any:
            try:
                conn = self._connection()
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
                return conn
            except Exception:
                self.close()  # a dead connection (server restarted): the retry opens a new one
                raise

        conn = retry_transient(acquire, self.user_url)
        try:
            yield
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            except Exception:
                # The connection died, and the server released the lock with it.
                self.close()

    def _connection(self) -> Any:
        if self._conn is None:
            from sqlalchemy import (
                create_engine,  # sqlalchemy: comes with optuna (the 'studies' extra)
            )
            from sqlalchemy.pool import (
                NullPool,  # sqlalchemy: comes with optuna (the 'studies' extra)
            )

            self._engine = create_engine(self.url, poolclass=NullPool)
            # Session-level advisory locks outlive transactions; autocommit keeps no
            # transaction open while the lock is held.
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def close(self) -> None:
        """Close the lock's database connection (PostgreSQL)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already dead: nothing left to release
                self._conn.close()
                self._engine.dispose()
            self._conn = self._engine = None


def write_study_json(folder: Path, name: str, url: str, spec_source: str) -> None:
    """Record the study's storage (password removed) so ``status``/``report`` find it."""
    path = folder / "study.json"
    if path.exists():
        return
    write_json_atomic(
        path,
        {
            "name": name,
            "storage": redact(url),
            "spec": spec_source,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        },
    )


def resolve_storage(name: str, root: str | Path | None, storage: str | None) -> tuple[Path, str]:
    """The folder and storage URL of an existing study ``name``.

    ``storage`` (``--storage``) wins; otherwise the URL recorded in ``<root>/<name>/study.json``.
    """
    folder = study_dir(name, root)
    if storage is not None:
        check_url(storage)
        return folder, storage
    info = folder / "study.json"
    if not info.is_file():
        raise ConfigError(
            f"no study {name!r} under {folder.parent}/ (no {info}); pass --root DIR or "
            "--storage URL"
        )
    url = str(read_json(info)["storage"])
    if "***" in url:
        raise ConfigError(
            f"study {name!r} uses {url}, whose password is not stored; pass --storage URL"
        )
    return folder, url
