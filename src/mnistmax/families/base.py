"""The family contract and the one pipeline every family's runs go through.

:meth:`Family.train` is the pipeline: set up, fit, figures, evaluation, each phase timed. A
family supplies only what differs: which configs it accepts (:meth:`Family.check`), what the
loop records after every epoch and which figures that becomes (:meth:`Family.tracer`), what it
writes after training (:meth:`Family.after_fit`) and how it evaluates a run folder
(:meth:`Family.evaluate`). For the report it declares the metrics its eval.json fills
(:attr:`Family.metrics`, the table's columns), its baselines (:attr:`Family.baselines`) and how
a baseline's rows group (:meth:`Family.baseline_ref`).

Everything outside ``mnistmax.families`` (review, studies, report, CLI) asks the family of a
method (:func:`family_of`) and never compares a method or family name with a literal.
"""

from __future__ import annotations

import importlib
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from matplotlib.figure import Figure

from mnistmax.config import RunConfig
from mnistmax.data import catalog
from mnistmax.data.splits import Splits, labelled, load_splits
from mnistmax.device import resolve_device
from mnistmax.errors import ConfigError
from mnistmax.eval.metric import Metric
from mnistmax.methods import build_method, method_class
from mnistmax.methods.base import Method
from mnistmax.registry import Registry
from mnistmax.timing import Stopwatch, format_timings
from mnistmax.training.loop import FitResult, fit
from mnistmax.training.runlog import RunDir
from mnistmax.training.tensorboard import log_run_outputs
from mnistmax.viz.dashboard import training_dashboard

# Modules that register families; imported on first look-up, like the methods.
FAMILY_MODULES = ("mnistmax.families.representation", "mnistmax.families.denoising")


@dataclass(frozen=True)
class Tracer:
    """What the loop records after every epoch (``trace``, in eval mode, no grad) and the
    figures written from it and the history once training ends."""

    trace: Callable[[Method], torch.Tensor]
    figures: Callable[[RunDir, FitResult], None]


@dataclass(frozen=True)
class BaselineRef:
    """Where a baseline's numbers from one run go in the report: the row's ``label`` and
    ``data`` text, the ``group`` of runs that share one row, and the ``draw`` (numbers from the
    same draw, computed again by several runs, count once; different draws are seeds)."""

    label: str
    group: str
    draw: str
    data: str


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) global generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Family:
    """One kind of run (representation learning, denoising, ...). Subclasses set the class
    attributes and implement :meth:`tracer` and :meth:`evaluate`; each method class names its
    family in ``Method.family``."""

    name: ClassVar[str]
    #: The command that trains one run of a method of this family; ``{method}`` is filled in.
    command: ClassVar[str]
    #: The declared metrics every run of the family writes as ``test/<name>``, in column order.
    metrics: ClassVar[tuple[Metric, ...]] = ()
    #: Baselines its eval.json holds as ``baseline/<name>/<metric>``: name → label, in table order.
    baselines: ClassVar[Mapping[str, str]] = {}

    #: The figures :meth:`figure` draws (``Run.plot(kind)``).
    figure_kinds: ClassVar[tuple[str, ...]] = ("dashboard",)

    def figure(self, run: Any, kind: str) -> Figure:
        """Figure ``kind`` of ``run`` (a :class:`mnistmax.api.Run`); the base draws the training
        dashboard from the per-epoch history."""

        self._check_kind(kind)
        return training_dashboard(run.history, title=run.path.name)

    def _check_kind(self, kind: str) -> None:
        if kind not in self.figure_kinds:
            raise ConfigError(
                f"figure {kind!r}: a {self.name} run draws {', '.join(self.figure_kinds)}"
            )

    def report_metrics(self) -> tuple[Metric, ...]:
        """The report's columns for this family (default: :attr:`metrics`)."""
        return self.metrics

    def data_note(self, cfg: RunConfig) -> str:
        """What the report's data column adds for a run of this family (default: nothing)."""
        del cfg
        return ""

    def summary_lines(self, metrics: Mapping[str, Any]) -> list[str]:
        """The family's headline numbers of an eval.json, as lines for the terminal."""
        raise NotImplementedError

    def summary(self, metrics: Mapping[str, Any]) -> str:
        """What ``train`` and ``eval`` print once a run is evaluated: the family's headline
        lines, then where the time went."""
        lines = self.summary_lines(metrics)
        if metrics.get("timings"):
            lines.append(f"time: {format_timings(metrics['timings'])}")
        return "\n".join(lines)

    def upgrade_eval(self, cfg: RunConfig, eval_json: dict[str, Any]) -> dict[str, Any]:
        """An eval.json written by an older version, in today's schema (default: as it is)."""
        del cfg
        return eval_json

    def baseline_ref(
        self, cfg: RunConfig, eval_json: Mapping[str, Any], name: str, values: Mapping[str, float]
    ) -> BaselineRef:
        """The report row of baseline ``name`` measured by the run (``values``: its numbers).
        Default: one row per dataset and baseline, equal numbers counted once."""
        del eval_json
        ds = cfg.data.dataset
        return BaselineRef(
            label=self.baselines.get(name, name),
            group=f"{self.name}/{ds}/{name}",
            draw=json.dumps(dict(values), sort_keys=True),
            data=ds,
        )

    def train_command(self, method: str) -> str:
        """The shell command that trains ``method`` (``mnistmax train simclr``, ...)."""
        return self.command.format(method=method)

    def check(self, cfg: RunConfig) -> None:
        """Refuse a config this family cannot train, before anything is written or loaded: a
        method of another family, an unknown dataset, a batch larger than the training split,
        what the method's own rules refuse (names of its parts, P×K against the labels), and
        the fields' ranges (checked when the config was built, :mod:`mnistmax.rules`)."""

        owner = family_of(cfg.method)
        if owner.name != self.name:
            raise ConfigError(
                f"preset/config is for method {cfg.method!r}, which `{owner.train_command(cfg.method)}` "
                f"trains, not `{self.train_command(cfg.method)}`"
            )
        info = catalog.get(cfg.data.dataset)
        n_train = catalog.train_images(cfg.data)
        if cfg.train.steps_per_epoch is None and cfg.train.batch_size > n_train:
            raise ConfigError(
                f"train.batch_size={cfg.train.batch_size}: larger than the {n_train:,} training "
                "images of this config; lower it or set train.steps_per_epoch"
            )
        method_class(cfg.method).check_config(cfg, num_classes=info.num_classes)
        build_method(cfg)  # resolves every named part (encoder, augmentation, noise, loss ...)

    def tracer(self, splits: Splits, cfg: RunConfig) -> Tracer:
        """The per-epoch trace and the figures made from it (``splits``: the labelled ones)."""
        raise NotImplementedError

    def after_fit(self, run: RunDir, result: FitResult, *, wall_seconds: float) -> None:
        """Anything the family writes once training ends, before the evaluation (default: none)."""

    def evaluate(
        self,
        run: RunDir,
        *,
        device: torch.device,
        splits: Splits,
        started: float | None,
        clock: Stopwatch,
        quiet: bool,
    ) -> dict[str, Any]:
        """Evaluate the finished run folder (``splits``: the full ones); returns eval.json."""
        raise NotImplementedError

    def train(
        self,
        cfg: RunConfig,
        out: str | Path,
        *,
        quiet: bool = False,
        evaluate: bool = True,
        stop_after_epochs: int | None = None,
    ) -> dict[str, Any]:
        """Train (or resume) the run in ``out``, write its figures, evaluate it: eval.json.

        The phases are timed: ``setup`` (data and model), ``train`` (the training steps),
        ``validation`` (the rest of the loop: per-epoch validation, traces, checkpoints, the
        optimiser's set-up), ``figures``, then what the family's evaluation records.
        """

        self.check(cfg)
        wall = time.perf_counter()
        clock = Stopwatch()
        with clock("setup"):
            device = resolve_device(cfg.train.device)
            run = RunDir(out)
            if not (run.path / "config.json").exists():
                run.create(cfg, str(device))
            full = load_splits(cfg.data, device)
            splits = labelled(full, cfg.data)
            tracer = self.tracer(splits, cfg)
            seed_everything(cfg.train.seed)  # before the model is built: its init draws from it
            method = build_method(cfg)
        tic = time.perf_counter()
        result = fit(
            method,
            splits,
            cfg,
            run,
            trace=tracer.trace,
            quiet=quiet,
            stop_after_epochs=stop_after_epochs,
        )
        clock.add("train", result.step_seconds)
        clock.add("validation", time.perf_counter() - tic - result.step_seconds)
        if stop_after_epochs is not None and stop_after_epochs < cfg.train.epochs:
            return {}
        if cfg.eval.figures:
            with clock("figures"):
                tracer.figures(run, result)
        self.after_fit(run, result, wall_seconds=time.perf_counter() - wall)
        metrics = (
            self.evaluate(run, device=device, splits=full, started=wall, clock=clock, quiet=quiet)
            if evaluate
            else {}
        )
        if cfg.train.tensorboard:
            log_run_outputs(run.path, cfg.train.epochs)
        return metrics


FAMILIES: Registry[Family] = Registry("family")


def _load_families() -> None:
    for module in FAMILY_MODULES:
        importlib.import_module(module)


def family_of(method: str) -> Family:
    """The family of the registered method ``method`` (unknown names: one clear ConfigError)."""

    cls = method_class(method)
    _load_families()
    return FAMILIES.build(cls.family)


def families() -> list[Family]:
    """Every family in :data:`FAMILY_MODULES` order (the report's column and row order), then
    any registered elsewhere."""
    _load_families()
    built = [FAMILIES.build(name) for name in FAMILIES.in_order()]

    def rank(family: Family) -> int:
        module = type(family).__module__
        return FAMILY_MODULES.index(module) if module in FAMILY_MODULES else len(FAMILY_MODULES)

    return sorted(built, key=rank)


def train_run(
    cfg: RunConfig,
    out: str | Path,
    *,
    quiet: bool = False,
    evaluate: bool = True,
    stop_after_epochs: int | None = None,
) -> dict[str, Any]:
    """Train (or resume) the run of ``cfg`` in ``out`` through its family's pipeline
    (:meth:`Family.train`); returns eval.json (empty without the evaluation)."""
    return family_of(cfg.method).train(
        cfg, out, quiet=quiet, evaluate=evaluate, stop_after_epochs=stop_after_epochs
    )
