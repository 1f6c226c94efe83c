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
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mnistmax.errors import ConfigError
from mnistmax.io import read_json, write_json_atomic

DEFAULT_ROOT = "runs/studies"
DIALECTS = ("sqlite", "postgresql")


def study_dir(name: str, root: str | Path | None = None) -> Path:
    """The folder of study ``name``."""
    return Path(root if root is not None else DEFAULT_ROOT) / name


def default_storage_url(folder: Path) -> str:
    """``sqlite:///<folder>/study.db`` (absolute, so workers may run from any directory)."""
    return f"sqlite:///{(folder / 'study.db').resolve()}"


def check_url(url: str) -> Any:
    """Parse a storage URL; ConfigError unless it is a SQLite file or a PostgreSQL database."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

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
    import importlib.util

    parsed = check_url(url)
    if parsed.drivername == "postgresql" and importlib.util.find_spec("psycopg") is None:
        return str(parsed.set(drivername="postgresql+psycopg2").render_as_string(False))
    return url


def redact(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable URL>"


def open_storage(
    url: str, *, heartbeat_s: int | None = None, on_stale: Callable[[Any, Any], None] | None = None
) -> Any:
    """An optuna RDBStorage for ``url`` (tables created if needed), heartbeats every
    ``heartbeat_s`` seconds; a trial silent for 3 × that is stale and handed to
    ``on_stale(study, trial)`` (the engine re-queues its unit)."""
    import optuna

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
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(driver_url(url), **kwargs)
    except ImportError as exc:
        raise ConfigError(
            f"storage {redact(url)} needs a database driver that is not installed ({exc})"
        ) from None
    except Exception as exc:  # sqlalchemy's OperationalError and friends: one sentence
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"cannot open storage {redact(url)}: {first}") from None


class StudyLock:
    """A mutex shared by every worker of one study, on any machine that reaches the storage."""

    def __init__(self, url: str, name: str) -> None:
        parsed = check_url(url)
        self.url = driver_url(url)
        self.dialect = parsed.get_backend_name()
        self.key = int(hashlib.sha1(f"mnistmax-study:{name}".encode()).hexdigest()[:15], 16)
        self._path = Path(f"{parsed.database}.lock") if self.dialect == "sqlite" else None
        self._engine: Any = None
        self._conn: Any = None

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the ``with`` block."""
        if self._path is not None:
            import fcntl

            self._path.parent.mkdir(parents=True, exist_ok=True)
            with open(self._path, "a+b") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return
        from sqlalchemy import text

        conn = self._connection()
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})

    def _connection(self) -> Any:
        if self._conn is None:
            from sqlalchemy import create_engine
            from sqlalchemy.pool import NullPool

            self._engine = create_engine(self.url, poolclass=NullPool)
            # Session-level advisory locks outlive transactions; autocommit keeps no
            # transaction open while the lock is held.
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def close(self) -> None:
        """Close the lock's database connection (PostgreSQL)."""
        if self._conn is not None:
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
