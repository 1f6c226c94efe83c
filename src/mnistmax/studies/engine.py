"""Running a study: the optuna study, the units of work, and the worker loop.

A *unit* is one configuration (a *cell*) × one seed, and each unit is one optuna trial with one
run folder ``<study>/trials/<cell>_seed<k>/``. Grid studies enqueue every unit once, when the
study is created; TPE and random studies sample a new cell when no unit is waiting and enqueue
its other seeds, so every cell of every kind has one trial per seed.

Workers (processes on one or many machines) loop: under the study's lock
(:class:`~mnistmax.studies.storage.StudyLock`), fail stale trials and claim the next waiting
unit (or sample a new cell); outside it, train the unit, then report. That gives the
guarantees the tests check:

* no unit is claimed twice: claims are serialised by the lock, and a claimed unit is RUNNING;
* a crashed trial is FAIL with its error (user attribute ``error``, traceback in the run
  folder's ``error.txt``); the study goes on;
* a killed worker's trial stops heartbeating; after the grace period (3 heartbeats) a worker
  marks it FAIL (optuna's ``fail_stale_trials``) and optuna's
  ``RetryHeartbeatStaleTrialCallback`` enqueues the unit again (``lost`` counts this, at most
  :data:`MAX_LOST`), and the retry resumes the same run folder from its last checkpoint;
* workers may start together on a new database: creating the schema and the study runs under
  :func:`~mnistmax.studies.storage.schema_lock`, and transient storage errors (a restarting
  server, a busy SQLite file) are retried (:func:`~mnistmax.studies.storage.retry_transient`);
* Ctrl-C (or SIGTERM) re-queues the running unit at once, so running the command again
  resumes it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mnistmax.errors import ConfigError, MnistmaxError, RunError
from mnistmax.families import family_of
from mnistmax.io import read_json, write_json_atomic, write_text_atomic
from mnistmax.logs import configure as configure_logs
from mnistmax.signals import sigterm_as_interrupt
from mnistmax.studies.spec import (
    StudySpec,
    Value,
    cell_id,
    cell_label,
    from_dict,
    iter_units,
    to_dict,
    unit_name,
)
from mnistmax.studies.storage import (
    StudyLock,
    default_storage_url,
    open_storage,
    redact,
    schema_lock,
    study_dir,
    write_study_json,
)
from mnistmax.training.checkpoint import load_checkpoint
from mnistmax.training.runlog import RunDir

log = logging.getLogger(__name__)

#: Times a unit is re-queued after its worker was lost before it is left failed.
MAX_LOST = 3
#: User attributes that identify a unit (kept when a unit is re-queued).
UNIT_ATTRS = ("unit", "cell", "seed", "label", "run_dir")
DEFAULT_HEARTBEAT_S = 30


@dataclass
class Handle:
    """An open study: optuna study, its (cached) storage, its id in the storage, the claim
    lock, and the RDB storage under the cache (for the heartbeat thread)."""

    study: Any
    storage: Any
    study_id: int
    lock: StudyLock
    spec: StudySpec
    rdb: Any = None


@dataclass
class Claim:
    """A unit a worker has claimed (its trial is RUNNING)."""

    trial: Any
    trial_id: int
    unit: str
    cell: str
    seed: int
    params: dict[str, Value]


def make_sampler(spec: StudySpec, index: int = 0) -> Any:
    """TPE or random sampler, seeded by the spec's seed and the index of the cell it samples.

    Seeding per cell (not per process) makes a single-worker search reproducible across
    restarts and keeps parallel workers from proposing the same random configurations.
    """
    import optuna  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it

    seed = spec.sampler_seed * 100_003 + index
    if spec.kind == "tpe":
        return optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=spec.startup_trials, constant_liar=True
        )
    return optuna.samplers.RandomSampler(seed=seed)


def open_study(spec: StudySpec, url: str, *, heartbeat_s: int | None = None) -> Handle:
    """Create or load the optuna study of ``spec`` in ``url``."""
    import optuna  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it

    storage = open_storage(url, heartbeat_s=heartbeat_s, on_stale=RequeueLostUnit())
    with schema_lock(url):  # two workers creating one study at once: one creates, one loads
        study = optuna.create_study(
            storage=storage,
            study_name=spec.name,
            direction=optuna.study.StudyDirection[spec.objective.direction.upper()],
            sampler=make_sampler(spec),
            load_if_exists=True,
        )
    # The study wraps the RDBStorage in optuna's trial cache; claims must go through that
    # wrapper (as Study.ask does) or the study will not know the trials they claim.
    cached = study._storage
    study_id = cached.get_study_id_from_name(spec.name)
    return Handle(study, cached, study_id, StudyLock(url, spec.name), spec, storage)


def load_stored_study(name: str, url: str) -> tuple[Any, StudySpec]:
    """An existing study and the spec stored in it (for ``status`` and ``report``)."""
    import optuna  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it

    storage = open_storage(url)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = ", ".join(s.study_name for s in optuna.get_all_study_summaries(storage)) or "none"
        raise ConfigError(
            f"storage {redact(url)} has no study {name!r}; studies there: {names}"
        ) from None
    stored = study.user_attrs.get("spec")
    if stored is None:
        raise ConfigError(f"study {name!r} in {redact(url)} was not made by `mnistmax study run`")
    return study, from_dict(stored)


def unit_attrs(cell: str, seed: int, params: Mapping[str, Value]) -> dict[str, Any]:
    """The user attributes that name a unit."""
    unit = unit_name(cell, seed)
    return {
        "unit": unit,
        "cell": cell,
        "seed": seed,
        "label": cell_label(params),
        "run_dir": f"trials/{unit}",
    }


def setup_study(
    spec: StudySpec,
    url: str,
    *,
    folder: Path | None = None,
    retry_failed: bool = False,
    spec_source: str = "",
) -> None:
    """Create the study if needed, check the spec matches, and enqueue missing grid units.

    Safe to call from every worker on every machine: it runs under the study lock and enqueues
    a unit only if no trial of that unit exists.
    """
    from optuna.trial import (
        TrialState,  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it
    )

    h = open_study(spec, url)
    try:
        with h.lock.hold():
            stored = h.study.user_attrs.get("spec")
            if stored is not None and from_dict(stored).identity() != spec.identity():
                old = from_dict(stored).identity()
                diff = [k for k, v in spec.identity().items() if old.get(k) != v]
                raise ConfigError(
                    f"study {spec.name!r} in {redact(url)} was made from a different spec "
                    f"(differs in: {', '.join(diff)}); rename the new spec or delete the study"
                )
            h.study.set_user_attr("spec", to_dict(spec))  # a changed budget is recorded
            trials = h.study.get_trials(deepcopy=False)
            seen = {t.user_attrs.get("unit") for t in trials}
            for cell, params, seed in iter_units(spec):
                if unit_name(cell, seed) not in seen:
                    h.study.enqueue_trial(params, user_attrs=unit_attrs(cell, seed, params))
            if retry_failed:
                by_unit: dict[str, list[Any]] = {}
                for t in trials:
                    if "unit" in t.user_attrs:
                        by_unit.setdefault(t.user_attrs["unit"], []).append(t)
                for ts in by_unit.values():
                    if all(t.state == TrialState.FAIL for t in ts):
                        _requeue(h.study, max(ts, key=lambda t: t.number), lost=0, history=[])
    finally:
        h.lock.close()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        write_study_json(folder, spec.name, url, spec_source)
        write_json_atomic(folder / "spec.json", to_dict(spec))


def _unit_copy(trial: Any, *, lost: int) -> dict[str, Any]:
    """The user attributes of a re-queued copy of ``trial``: its unit, and why it is a copy
    (the worker, timings and errors of the first try stay with the first try)."""
    attrs = {k: trial.user_attrs[k] for k in UNIT_ATTRS if k in trial.user_attrs}
    return attrs | {"lost": lost, "retry_of": trial.number}


def _requeue(study: Any, trial: Any, *, lost: int, history: list[int] | None = None) -> None:
    """Queue ``trial``'s unit again, the way optuna's stale-trial retry does (a WAITING copy
    with its parameters and system attributes, so its retry history carries over) but
    without counting a retry: Ctrl-C and ``--retry-failed`` (``history=[]`` resets it)."""
    import optuna  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it

    system = dict(trial.system_attrs)
    if history is not None:
        system["retry_history"] = history
        system.pop("failed_trial", None)
    study.add_trial(
        optuna.create_trial(
            state=optuna.trial.TrialState.WAITING,
            params=trial.params,
            distributions=trial.distributions,
            user_attrs=_unit_copy(trial, lost=lost),
            system_attrs=system,
        )
    )


class RequeueLostUnit:
    """Heartbeat-stale callback: optuna's ``RetryHeartbeatStaleTrialCallback`` (a WAITING copy
    of the stale trial, at most :data:`MAX_LOST` times per unit, counted in the system
    attribute ``retry_history``), keeping only the unit's identity and ``lost`` (the retry
    count) as user attributes.

    Runs inside :func:`claim_next`, under the study lock; optuna calls it only for the trial a
    worker itself moved from RUNNING to FAIL, so one stale trial is re-queued once.
    """

    def __init__(self) -> None:
        from optuna.storages import (
            RetryHeartbeatStaleTrialCallback,  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it
        )

        self._retry = RetryHeartbeatStaleTrialCallback(max_retry=MAX_LOST)

    def __call__(self, study: Any, trial: Any) -> None:
        if "unit" not in trial.user_attrs:
            return  # died before it became a unit (between ask and its first attribute)
        lost = len(trial.system_attrs.get("retry_history", [])) + 1
        trial.user_attrs = _unit_copy(trial, lost=lost)  # a deep copy, made by optuna
        self._retry(study, trial)


def _pop_waiting(h: Handle) -> tuple[Any, int] | None:
    """Claim the oldest WAITING trial (call under the lock): ``(trial, trial_id)`` or None.

    A waiting trial whose unit is already complete or running is a duplicate (a queueing
    write retried after its commit had reached a restarting server): it is failed, not run.
    """
    import optuna  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it
    from optuna.trial import (
        TrialState,  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it
    )

    trials = h.storage.get_all_trials(h.study_id, deepcopy=False)
    taken = {
        t.user_attrs.get("unit")
        for t in trials
        if t.state in (TrialState.COMPLETE, TrialState.RUNNING)
    }
    waiting = [t for t in trials if t.state == TrialState.WAITING]
    for t in sorted(waiting, key=lambda t: t.number):
        trial_id = h.storage.get_trial_id_from_study_id_trial_number(h.study_id, t.number)
        if t.user_attrs.get("unit") in taken - {None}:
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                h.storage.set_trial_user_attr(trial_id, "error", "duplicate of a taken unit")
                h.storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
            continue
        # Optuna never calls a RUNNING trial without a heartbeat stale, so beat first: a worker
        # killed right after the claim still leaves a trial that goes stale.
        if h.storage.get_heartbeat_interval() is not None:
            h.storage.record_heartbeat(trial_id)
        try:
            if h.storage.set_trial_state_values(trial_id, state=TrialState.RUNNING):
                return optuna.Trial(h.study, trial_id), trial_id
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


def budget_left(trials: list[Any], spec: StudySpec) -> bool:
    """tpe/random: may another cell be sampled? (configurations and summed trial seconds)."""
    if spec.kind == "grid":
        return False
    cells = {t.user_attrs["cell"] for t in trials if "cell" in t.user_attrs}
    if spec.n_trials is not None and len(cells) >= spec.n_trials:
        return False
    used = sum(float(t.user_attrs.get("wall_seconds", 0.0)) for t in trials)
    return spec.time_s is None or used < spec.time_s


def claim_next(h: Handle) -> Claim | None:
    """Fail stale trials, then claim a waiting unit or sample a new cell. Hold the lock."""
    from optuna.storages import (
        fail_stale_trials,  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it
    )

    fail_stale_trials(h.study)
    popped = _pop_waiting(h)
    spec = h.spec
    if popped is not None:
        trial, trial_id = popped
        attrs = h.storage.get_trial(trial_id).user_attrs
        params = {p.field: p.suggest(trial) for p in spec.params}
        return Claim(trial, trial_id, attrs["unit"], attrs["cell"], int(attrs["seed"]), params)
    trials = h.study.get_trials(deepcopy=False)
    if not budget_left(trials, spec):
        return None
    index = len({t.user_attrs["cell"] for t in trials if "cell" in t.user_attrs})
    h.study.sampler = make_sampler(spec, index)
    with warnings.catch_warnings():  # our own heartbeat thread beats outside Study.optimize
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")
        trial = h.study.ask()
    trial_id = h.storage.get_trial_id_from_study_id_trial_number(h.study_id, trial.number)
    if h.storage.get_heartbeat_interval() is not None:
        h.storage.record_heartbeat(trial_id)
    params = {p.field: p.suggest(trial) for p in spec.params}
    cell = cell_id(index, params, prefix="t")
    for key, value in unit_attrs(cell, spec.seeds[0], params).items():
        trial.set_user_attr(key, value)
    for seed in spec.seeds[1:]:
        h.study.enqueue_trial(params, user_attrs=unit_attrs(cell, seed, params))
    return Claim(trial, trial_id, unit_name(cell, spec.seeds[0]), cell, spec.seeds[0], params)


class Heartbeat:
    """Records a trial's heartbeat every ``interval`` seconds from a thread, while training.

    Not optuna's heartbeat thread: that one dies at the first database error, and a trial whose
    beats stop while it trains is declared stale and trained a second time in parallel. This
    one outlives errors and, after a failed beat, tries again within a second (not after a
    backoff) so that a server restart costs the trial no more than the restart itself.
    """

    def __init__(self, storage: Any, trial_id: int, interval: float) -> None:
        self._storage, self._trial_id, self._interval = storage, trial_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        beat = getattr(self._storage, "record_heartbeat_once", self._storage.record_heartbeat)
        while True:
            wait = self._interval
            try:
                beat(self._trial_id)
            except Exception:  # a database hiccup: beat again soon
                wait = min(self._interval, 1.0)
            if self._stop.wait(wait):
                return

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------------------------------------
# Results of a run folder


def flat_metrics(result: Mapping[str, Any]) -> dict[str, float]:
    """The numbers of an ``eval.json`` by key (one schema for every family,
    :mod:`mnistmax.eval.schema`: denoisers write ``test/psnr@0.5``, ``test/<noise>/psnr@0.5``
    and the gains as metric keys too)."""
    return {
        k: float(v)
        for k, v in result.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def read_results(
    run_dir: Path, spec: StudySpec, result: Mapping[str, Any] | None = None
) -> tuple[float, dict[str, float], list[tuple[int, float]]]:
    """``(objective, extra metrics, per-epoch objective curve)`` of a finished run folder."""

    records = [r for r in RunDir(run_dir).read_metrics() if r.get("kind") == "epoch"]
    if result is None and (run_dir / "eval.json").is_file():
        result = read_json(run_dir / "eval.json")
    flat = flat_metrics(result or {})
    metric = spec.objective.metric
    curve = [(int(r["epoch"]), float(r[metric])) for r in records if metric in r]
    best = records[-1].get("best_epoch") if records else None
    chosen = next((r for r in records if r["epoch"] == best), records[-1] if records else {})
    if spec.objective.select == "last" and records:
        chosen = records[-1]
    if curve:
        value = float(chosen.get(metric, curve[-1][1]))
    elif metric in flat:
        value = flat[metric]
    else:
        logged = sorted({k for r in records for k in r if k.startswith("val/")} | set(flat))
        raise RunError(
            f"objective {metric!r} is not logged by {run_dir}; available: {', '.join(logged)}"
        )
    extras: dict[str, float] = {}
    for key in spec.extra_metrics:
        if key in flat:
            extras[key] = flat[key]
        elif isinstance(chosen.get(key), int | float):
            extras[key] = float(chosen[key])
    return value, extras, curve


def _last_epoch(run_dir: Path) -> int:
    """The epoch a unit's run resumes from: its last checkpoint's (0 when it has none)."""

    path = RunDir(run_dir).last_checkpoint
    return int(load_checkpoint(path)["epoch"]) if path.is_file() else 0


def train_unit(cfg: Any, run_dir: Path, *, evaluate: bool) -> dict[str, Any]:
    """Train (or resume) one unit's run folder the way its family's command does."""

    return family_of(cfg.method).train(cfg, run_dir, quiet=True, evaluate=evaluate)


def run_claim(
    h: Handle,
    claim: Claim,
    folder: Path,
    *,
    heartbeat_s: float,
    data_root: str | None = None,
    worker: str = "w0",
) -> tuple[str, float | None, str]:
    """Train one claimed unit and tell the study: ``(state, objective or None, error)``."""
    import optuna  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it
    from optuna.trial import (
        TrialState,  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it
    )

    spec, trial = h.spec, claim.trial
    run_dir = folder / "trials" / claim.unit
    resumed = _last_epoch(run_dir)
    trial.set_user_attr("host", socket.gethostname())
    trial.set_user_attr("worker", f"{worker}:{os.getpid()}")
    if resumed:
        trial.set_user_attr("resumed_from_epoch", resumed)
    tic = time.perf_counter()
    try:
        with Heartbeat(h.rdb or h.storage, claim.trial_id, heartbeat_s):
            cfg = spec.run_config(claim.params, claim.seed, data_root)
            result = train_unit(cfg, run_dir, evaluate=spec.evaluate)
            value, extras, curve = read_results(run_dir, spec, result or None)
            if not math.isfinite(value):
                raise RunError(f"objective {spec.objective.metric} is {value}")
    except KeyboardInterrupt:
        trial.set_user_attr("error", "interrupted (Ctrl-C or SIGTERM); re-queued")
        trial.set_user_attr("wall_seconds", time.perf_counter() - tic)
        with h.lock.hold():
            frozen = h.storage.get_trial(claim.trial_id)
            _requeue(h.study, frozen, lost=int(frozen.user_attrs.get("lost", 0)))
            h.study.tell(trial, state=TrialState.FAIL)
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {str(exc).strip()}".splitlines()[0][:500]
        run_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(run_dir / "error.txt", traceback.format_exc())
        with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
            trial.set_user_attr("error", error)
            trial.set_user_attr("wall_seconds", time.perf_counter() - tic)
            h.study.tell(trial, state=TrialState.FAIL)
        return "FAIL", None, error
    try:
        trial.set_user_attr("wall_seconds", time.perf_counter() - tic)
        trial.set_user_attr("metrics", extras)
        for epoch, v in curve:
            if math.isfinite(v):
                trial.report(v, step=epoch)
        h.study.tell(trial, value, state=TrialState.COMPLETE)
    except optuna.exceptions.UpdateFinishedTrialError:
        if (h.rdb or h.storage).get_trial(claim.trial_id).state == TrialState.COMPLETE:
            return "COMPLETE", value, ""  # a retried tell whose first try had gone through
        # Declared stale while alive (a heartbeat longer than the grace period): the unit was
        # re-queued and its retry resumes this finished run folder, so nothing is lost.
        return "LOST", value, "another worker declared this trial stale and re-queued it"
    return "COMPLETE", value, ""


def unit_progress(study: Any, spec: StudySpec) -> tuple[int, int | None]:
    """``(units complete, units planned)``; planned is None for a time-budgeted search."""
    from optuna.trial import (
        TrialState,  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it
    )

    trials = study.get_trials(deepcopy=False)
    done = len({t.user_attrs.get("unit") for t in trials if t.state == TrialState.COMPLETE})
    if spec.kind == "grid":
        return done, len(spec.grid_cells()) * len(spec.seeds)
    if spec.n_trials is not None and spec.time_s is None:
        return done, spec.n_trials * len(spec.seeds)
    return done, None


def run_worker(
    spec: StudySpec,
    url: str,
    folder: Path,
    *,
    heartbeat_s: int = DEFAULT_HEARTBEAT_S,
    data_root: str | None = None,
    quiet: bool = False,
    worker: str = "w0",
    threads: int | None = None,
    max_trials: int | None = None,
) -> int:
    """Claim and run units until none is left (waiting for other workers' running units, which
    may come back if their worker dies); returns the number of trials this worker ran."""
    from optuna.trial import (
        TrialState,  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it
    )

    if threads is not None:
        torch.set_num_threads(threads)
    h = open_study(spec, url, heartbeat_s=heartbeat_s)
    poll = min(float(heartbeat_s), 5.0)
    ran = 0
    try:
        with sigterm_as_interrupt():
            while max_trials is None or ran < max_trials:
                with h.lock.hold():
                    claim = claim_next(h)
                if claim is None:
                    busy = h.study.get_trials(
                        deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)
                    )
                    if not busy:
                        break
                    # Other workers hold the last units: wait, and take them over if they die.
                    time.sleep(poll)
                    continue
                state, value, error = run_claim(
                    h, claim, folder, heartbeat_s=heartbeat_s, data_root=data_root, worker=worker
                )
                ran += 1
                if not quiet:
                    done, total = unit_progress(h.study, spec)
                    shown = f"{spec.objective.metric}={value:.4f}" if value is not None else error
                    log.info(
                        "[%s] %s: %s %s (%d/%s units done)",
                        worker,
                        claim.unit,
                        state,
                        shown,
                        done,
                        total or "?",
                    )
    finally:
        h.lock.close()
    return ran


def _worker_main(
    spec: StudySpec,
    url: str,
    folder: Path,
    heartbeat_s: int,
    data_root: str | None,
    quiet: bool,
    worker: str,
    threads: int,
) -> None:
    configure_logs(logging.WARNING if quiet else logging.INFO)  # this process is ours
    try:
        run_worker(
            spec,
            url,
            folder,
            heartbeat_s=heartbeat_s,
            data_root=data_root,
            quiet=quiet,
            worker=worker,
            threads=threads,
        )
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except MnistmaxError as exc:  # one sentence, as the command line prints it
        print(f"mnistmax: error: [{worker}] {exc}", file=sys.stderr, flush=True)
        raise SystemExit(int(getattr(exc, "exit_code", 2))) from None


def cpu_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_study(
    spec: StudySpec,
    *,
    root: str | Path | None = None,
    storage: str | None = None,
    workers: int = 1,
    heartbeat_s: int = DEFAULT_HEARTBEAT_S,
    data_root: str | None = None,
    quiet: bool = False,
    retry_failed: bool = False,
    spec_source: str = "",
) -> Path:
    """Set the study up and run ``workers`` worker processes on this machine until it is done.

    Returns the study folder. ``workers=1`` runs in this process (torch keeps its thread
    count); more spawn processes with ``cores // workers`` torch threads each.
    """
    if workers < 1:
        raise ConfigError(f"--workers {workers}: need at least one worker")
    if heartbeat_s < 1:
        raise ConfigError(f"--heartbeat {heartbeat_s}: need at least one second")
    folder = study_dir(spec.name, root)
    url = storage or default_storage_url(folder)
    setup_study(spec, url, folder=folder, retry_failed=retry_failed, spec_source=spec_source)
    if workers == 1:
        run_worker(spec, url, folder, heartbeat_s=heartbeat_s, data_root=data_root, quiet=quiet)
        return folder
    threads = max(1, cpu_cores() // workers)
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(
            target=_worker_main,
            args=(spec, url, folder, heartbeat_s, data_root, quiet, f"w{i}", threads),
        )
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    try:
        with sigterm_as_interrupt():
            for p in procs:
                p.join()
    except KeyboardInterrupt:
        for p in procs:  # a terminal's Ctrl-C reached them already; a signal to us did not
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)  # workers re-queue their unit and exit
        for p in procs:
            p.join()
        raise
    bad = [p.exitcode for p in procs if p.exitcode != 0]
    if bad:
        raise RunError(
            f"{len(bad)} of {workers} workers exited abnormally (exit codes {bad}); "
            "run the same command again to finish the study"
        )
    return folder


__all__ = [
    "Claim",
    "Handle",
    "claim_next",
    "load_stored_study",
    "open_study",
    "read_results",
    "run_study",
    "run_worker",
    "setup_study",
]
