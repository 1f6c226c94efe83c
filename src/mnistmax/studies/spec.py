"""Study specs: what a study varies, how it searches and what it optimises.

A spec is a frozen :class:`StudySpec`, written as a TOML file (``studies/*.toml``) or registered
in Python (:data:`STUDY_PRESETS`). Every field a spec names is checked against the real
:class:`~mnistmax.config.RunConfig` of its base preset when the spec is loaded, through the same
:func:`~mnistmax.config.apply_overrides` the CLI's ``--set`` uses, so a typo fails at once with
one sentence instead of after an hour of trials.

TOML layout (``docs/studies.md`` has the full reference)::

    name = "smoke"                 # study name (default: the file's stem)
    base = "triplet_quick"         # a preset of `mnistmax train` or `mnistmax denoise train`
    kind = "grid"                  # grid | tpe | random
    seeds = 2                      # 2 means [0, 1]; or a list [0, 1, 2]
    evaluate = true                # run the test evaluation after training (extra metrics)
    extra_metrics = ["test/knn@20", "train_seconds"]

    [objective]
    metric = "val/knn@20"          # a validation metric: never test
    direction = "maximize"
    select = "best"                # value at the validation-selected epoch, or "last"

    [overrides]                    # fixed changes to the base preset for every trial
    train.epochs = 2

    [grid]                         # kind = "grid": every combination × every seed
    triplet.miner = ["semi_hard", "batch_hard"]

    [space]                        # kind = "tpe" | "random"
    train.lr = { low = 1e-4, high = 1e-2, log = true }
    train.batch_size = { choices = [64, 128, 256] }

    [budget]                       # tpe | random: configurations and/or summed trial seconds
    trials = 20
    time_s = 1800
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import tomllib
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistmax.config import RunConfig, apply_overrides
from mnistmax.errors import ConfigError
from mnistmax.methods import build_method
from mnistmax.recipes import get_preset

#: A value a spec can give a config field (TOML scalars; lists become tuple fields).
Value = str | int | float | bool

KINDS = ("grid", "tpe", "random")
DIRECTIONS = ("maximize", "minimize")
SELECTS = ("best", "last")
#: Fields a study may not vary: the seed is the study's own axis (``seeds``).
RESERVED = ("train.seed", "method", "preset")

_TOP_KEYS = {
    "name",
    "description",
    "base",
    "kind",
    "seeds",
    "evaluate",
    "extra_metrics",
    "objective",
    "overrides",
    "grid",
    "space",
    "budget",
}


@dataclass(frozen=True)
class Param:
    """One varied config field: a list of values (grid, categorical) or a numeric range.

    Attributes:
        field: dotted RunConfig field (``triplet.miner``).
        choices: the values of a grid axis or a categorical search parameter.
        low: lower bound of a range (inclusive).
        high: upper bound of a range (inclusive).
        log: sample the range on a log scale.
        integer: the field is an ``int`` (from its annotation), so the range is of integers.
    """

    field: str
    choices: tuple[Value, ...] = ()
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False

    @property
    def is_range(self) -> bool:
        """True for a numeric range, False for a list of values."""
        return not self.choices

    def distribution(self) -> Any:
        """The optuna distribution of this parameter."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it

        if not self.is_range:
            return CategoricalDistribution(list(self.choices))
        assert self.low is not None and self.high is not None
        if self.integer:
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(float(self.low), float(self.high), log=self.log)

    def suggest(self, trial: Any) -> Value:
        """Ask an optuna trial for this parameter (a fixed value when the trial was enqueued)."""
        if not self.is_range:
            value: Value = trial.suggest_categorical(self.field, list(self.choices))
            return value
        assert self.low is not None and self.high is not None
        if self.integer:
            return int(trial.suggest_int(self.field, int(self.low), int(self.high), log=self.log))
        return float(trial.suggest_float(self.field, self.low, self.high, log=self.log))


@dataclass(frozen=True)
class Objective:
    """The validation metric a study optimises.

    Attributes:
        metric: a ``val/...`` key of the run's per-epoch ``metrics.jsonl`` or of ``eval.json``.
        direction: ``maximize`` or ``minimize``.
        select: for per-epoch metrics, the value at the run's validation-selected (best) epoch,
            or at the last epoch.
    """

    metric: str = "val/knn@20"
    direction: str = "maximize"
    select: str = "best"


@dataclass(frozen=True)
class StudySpec:
    """A study: base preset, fixed overrides, varied parameters, seeds, objective and budget.

    Attributes:
        name: study name; names the study folder and the optuna study.
        base: preset every trial starts from.
        kind: ``grid`` (every combination of ``params``), ``tpe`` or ``random`` (sampled).
        params: the varied fields, in declaration order.
        seeds: ``train.seed`` values; every configuration runs once per seed.
        objective: the validation metric and its direction.
        extra_metrics: further keys recorded per trial (``test/knn@20``, ``train_seconds``).
        overrides: ``(field, value)`` pairs applied to the base before the varied fields.
        evaluate: run the end-of-run evaluation (test metrics) after training.
        n_trials: tpe/random: stop after this many configurations (each with every seed).
        time_s: tpe/random: stop starting configurations once finished trials have used this
            many seconds in total (summed over workers and restarts: a compute budget).
        startup_trials: tpe: random configurations before TPE takes over.
        sampler_seed: seed of the tpe/random sampler.
        description: free text shown by ``status`` and the report.
    """

    name: str
    base: str
    kind: str
    params: tuple[Param, ...]
    seeds: tuple[int, ...] = (0,)
    objective: Objective = field(default_factory=Objective)
    extra_metrics: tuple[str, ...] = ()
    overrides: tuple[tuple[str, Value], ...] = ()
    evaluate: bool = True
    n_trials: int | None = None
    time_s: float | None = None
    startup_trials: int = 10
    sampler_seed: int = 0
    description: str = ""

    def base_config(self) -> RunConfig:
        """The base preset with the fixed overrides applied."""

        return apply_overrides(get_preset(self.base), [_override(k, v) for k, v in self.overrides])

    def run_config(
        self, params: Mapping[str, Value], seed: int, data_root: str | None = None
    ) -> RunConfig:
        """The full config of one trial: base, overrides, ``params``, then the seed."""
        cfg = apply_overrides(self.base_config(), [_override(k, v) for k, v in params.items()])
        cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, seed=seed))
        if data_root is not None:
            cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, root=data_root))
        return cfg

    def grid_cells(self) -> list[dict[str, Value]]:
        """Every combination of the grid's values, first parameter varying slowest."""
        if self.kind != "grid":
            return []
        return [
            dict(zip([p.field for p in self.params], values, strict=True))
            for values in itertools.product(*(p.choices for p in self.params))
        ]

    def identity(self) -> dict[str, Any]:
        """What must match for a stored study to be resumed with this spec (not the budget)."""
        d = to_dict(self)
        for key in ("n_trials", "time_s", "description"):
            d.pop(key)
        return d


def to_dict(spec: StudySpec) -> dict[str, Any]:
    """A JSON-able dictionary of ``spec`` (stored in the study; :func:`from_dict` inverts it)."""
    d = dataclasses.asdict(spec)
    d["params"] = [dataclasses.asdict(p) | {"choices": list(p.choices)} for p in spec.params]
    d["seeds"] = list(spec.seeds)
    d["extra_metrics"] = list(spec.extra_metrics)
    d["overrides"] = [list(kv) for kv in spec.overrides]
    return d


def from_dict(d: Mapping[str, Any]) -> StudySpec:
    """Rebuild a spec from :func:`to_dict` output."""
    return StudySpec(
        **{
            **d,
            "params": tuple(Param(**{**p, "choices": tuple(p["choices"])}) for p in d["params"]),
            "seeds": tuple(d["seeds"]),
            "objective": Objective(**d["objective"]),
            "extra_metrics": tuple(d["extra_metrics"]),
            "overrides": tuple((k, v) for k, v in d["overrides"]),
        }
    )


def cell_id(index: int, params: Mapping[str, Value], prefix: str = "c") -> str:
    """A folder-safe cell name: its index, then its values (``c003-semi_hard-0.5``)."""
    slug = "-".join(_slug(v) for v in params.values())
    return f"{prefix}{index:03d}" + (f"-{slug[:60]}" if slug else "")


def cell_label(params: Mapping[str, Value]) -> str:
    """``miner=semi_hard, margin=0.5``: the last component of each field."""
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={_fmt(v)}" for k, v in params.items())


def unit_name(cell: str, seed: int) -> str:
    """A cell × seed: the trial's run-folder name."""
    return f"{cell}_seed{seed}"


def _fmt(v: Value) -> str:
    if isinstance(v, float) and not isinstance(v, bool):
        return f"{v:.4g}"
    return str(v)


def _slug(v: Value) -> str:
    return re.sub(r"[^A-Za-z0-9.+]+", "_", _fmt(v)).strip("_") or "x"


def _override(key: str, value: Value | list[Value] | tuple[Value, ...]) -> str:
    """``key=value`` text for :func:`apply_overrides` from a TOML value."""
    if isinstance(value, list | tuple):
        return f"{key}=" + ",".join(_text(v) for v in value)
    return f"{key}={_text(value)}"


def _text(v: Value) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


# ---------------------------------------------------------------------------------------------
# Loading and validation


def load_spec(path: str | Path) -> StudySpec:
    """Read and validate a TOML study spec; a bad spec raises ConfigError with one sentence."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"study spec {p} does not exist; pass a .toml file or a study preset")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"study spec {p} is not valid TOML: {exc}") from None
    return spec_from_toml(data, where=str(p), default_name=p.stem)


#: How the validation steps report a problem: raise ConfigError naming the spec.
_Fail = Callable[[str], typing.NoReturn]

_OBJECTIVE_KEYS = ("metric", "direction", "select")
_BUDGET_KEYS = ("trials", "time_s", "startup_trials", "sampler_seed")


def spec_from_toml(data: Mapping[str, Any], *, where: str, default_name: str = "") -> StudySpec:
    """Validate a parsed TOML document and build its :class:`StudySpec`.

    One step per key or section, in the order below; the first problem raises
    :class:`ConfigError` with one sentence that starts ``study spec {where}:``.
    """

    def fail(msg: str) -> typing.NoReturn:
        raise ConfigError(f"study spec {where}: {msg}")

    _check_keys(data, sorted(_TOP_KEYS), "", fail)
    name = _name(data, default_name, fail)
    base, base_cfg = _base(data, fail)
    kind = _kind(data, fail)
    seeds = _seeds(data, fail)
    objective = _objective(data, fail)
    extra, evaluate = _extra_metrics(data, fail)
    overrides = _overrides(data, base_cfg, fail)
    cfg = apply_overrides(base_cfg, [_override(k, v) for k, v in overrides])
    _check_sections(data, kind, fail)
    params = _params(data, kind, cfg, fail)
    budget = _budget(data, kind, fail)
    return StudySpec(
        name=name,
        base=base,
        kind=kind,
        params=params,
        seeds=seeds,
        objective=objective,
        extra_metrics=extra,
        overrides=tuple(overrides),
        evaluate=evaluate,
        n_trials=budget.n_trials,
        time_s=budget.time_s,
        startup_trials=budget.startup_trials,
        sampler_seed=budget.sampler_seed,
        description=_get(data, "description", str, "", fail),
    )


def _check_keys(table: Mapping[str, Any], keys: Sequence[str], section: str, fail: _Fail) -> None:
    """Fail on the first key (sorted) of ``table`` that is not one of ``keys``."""
    unknown = sorted(set(table) - set(keys))
    if unknown:
        where = f"[{section}] " if section else ""
        fail(f"{where}unknown key {unknown[0]!r}; keys are: {', '.join(keys)}")


def _name(data: Mapping[str, Any], default_name: str, fail: _Fail) -> str:
    """The study name (default: the file's stem); it names a folder."""
    name: str = _get(data, "name", str, default_name, fail)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        fail(f"name {name!r} must be letters, digits, '_', '-' or '.' (it names a folder)")
    return name


def _base(data: Mapping[str, Any], fail: _Fail) -> tuple[str, RunConfig]:
    """The required base preset: its name and its config."""
    base: str = _get(data, "base", str, "", fail)
    if not base:
        fail("'base' (the preset every trial starts from) is required")

    try:
        return base, get_preset(base)
    except ConfigError as exc:
        fail(f"base: {exc}")


def _kind(data: Mapping[str, Any], fail: _Fail) -> str:
    """``grid`` (the default), ``tpe`` or ``random``."""
    kind: str = _get(data, "kind", str, "grid", fail)
    if kind not in KINDS:
        fail(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    return kind


def _seeds(data: Mapping[str, Any], fail: _Fail) -> tuple[int, ...]:
    """``seeds = N`` means ``0 .. N-1``; a list of distinct integers names them."""
    seeds = data.get("seeds", 1)
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 1:
        return tuple(range(seeds))
    if (
        isinstance(seeds, list)
        and seeds
        and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
        and len(set(seeds)) == len(seeds)
    ):
        return tuple(seeds)
    fail("seeds must be a count ≥ 1 or a non-empty list of distinct integers")


def _objective(data: Mapping[str, Any], fail: _Fail) -> Objective:
    """The ``[objective]`` table: a validation metric, its direction and the epoch selection."""
    table = _table(data, "objective", fail)
    _check_keys(table, _OBJECTIVE_KEYS, "objective", fail)
    objective = Objective(
        metric=_get(table, "metric", str, "val/knn@20", fail),
        direction=_get(table, "direction", str, "maximize", fail),
        select=_get(table, "select", str, "best", fail),
    )
    if not objective.metric.startswith("val/"):
        fail(
            f"objective metric {objective.metric!r} must be a validation metric (val/...): "
            "selection on test would leak"
        )
    if objective.direction not in DIRECTIONS:
        fail(f"objective direction {objective.direction!r} is not maximize or minimize")
    if objective.select not in SELECTS:
        fail(f"objective select {objective.select!r} is not best or last")
    return objective


def _extra_metrics(data: Mapping[str, Any], fail: _Fail) -> tuple[tuple[str, ...], bool]:
    """``extra_metrics`` and ``evaluate``, checked together: test metrics need the evaluation."""
    extra = data.get("extra_metrics", [])
    if not isinstance(extra, list) or not all(isinstance(m, str) for m in extra):
        fail("extra_metrics must be a list of metric names")
    evaluate: bool = _get(data, "evaluate", bool, True, fail)
    if not evaluate and any(m.startswith("test/") for m in extra):
        fail("extra_metrics name test metrics, which need evaluate = true")
    return tuple(extra), evaluate


def _overrides(data: Mapping[str, Any], base_cfg: RunConfig, fail: _Fail) -> list[tuple[str, Any]]:
    """The ``[overrides]`` table as ``(field, value)`` pairs, each checked on the base config."""
    overrides = _fields(_table(data, "overrides", fail), base_cfg, "overrides", fail)
    for key, value in overrides:
        _check_value(base_cfg, key, value, "overrides", fail)
    return overrides


def _check_sections(data: Mapping[str, Any], kind: str, fail: _Fail) -> None:
    """A grid study has ``[grid]`` and no budget; a tpe or random study has ``[space]``."""
    if kind == "grid":
        if "space" in data:
            fail("a grid study lists values under [grid], not [space]")
        if "budget" in data:
            fail("a grid study runs every cell; [budget] is for tpe and random studies")
    elif "grid" in data:
        fail(f"a {kind} study declares its search space under [space], not [grid]")


def _params(data: Mapping[str, Any], kind: str, cfg: RunConfig, fail: _Fail) -> tuple[Param, ...]:
    """The varied fields: ``[grid]`` for a grid study, ``[space]`` otherwise (at least one)."""
    section, verb = ("grid", "vary") if kind == "grid" else ("space", "search")
    param = _grid_param if kind == "grid" else _space_param
    entries = _fields(_table(data, section, fail), cfg, section, fail)
    params = tuple(param(cfg, key, value, fail) for key, value in entries)
    if not params:
        fail(f"[{section}] must name at least one field to {verb}")
    return params


@dataclass(frozen=True)
class _Budget:
    """The ``[budget]`` table of a tpe or random study (see :class:`StudySpec`)."""

    n_trials: int | None
    time_s: float | None
    startup_trials: int
    sampler_seed: int


def _budget(data: Mapping[str, Any], kind: str, fail: _Fail) -> _Budget:
    """The ``[budget]`` table; a tpe or random study needs trials and/or time_s."""
    budget = _table(data, "budget", fail)
    _check_keys(budget, _BUDGET_KEYS, "budget", fail)
    n_trials = budget.get("trials")
    time_s = budget.get("time_s")
    if n_trials is not None and (not isinstance(n_trials, int) or n_trials < 1):
        fail("[budget] trials must be a positive integer")
    if time_s is not None and (not isinstance(time_s, int | float) or time_s <= 0):
        fail("[budget] time_s must be a positive number of seconds")
    if kind != "grid" and n_trials is None and time_s is None:
        fail(f"a {kind} study needs a [budget] with trials and/or time_s")
    return _Budget(
        n_trials=n_trials,
        time_s=None if time_s is None else float(time_s),
        startup_trials=_get(budget, "startup_trials", int, 10, fail),
        sampler_seed=_get(budget, "sampler_seed", int, 0, fail),
    )


def check_buildable(spec: StudySpec) -> None:
    """Build the method of every grid cell (or every categorical choice) once, untrained.

    Catches values that parse but name nothing (an unknown miner, encoder or noise) before any
    trial starts. Imports torch, so the CLI calls it only when running a study.
    """

    cells: list[dict[str, Value]] = spec.grid_cells() or [{}]
    if spec.kind != "grid":
        cells = [{p.field: c} for p in spec.params for c in p.choices] or [{}]
    for cell in cells:
        try:
            build_method(spec.run_config(cell, spec.seeds[0]))
        except ConfigError as exc:
            raise ConfigError(f"study {spec.name}: {cell_label(cell) or 'base'}: {exc}") from None


def _get(
    table: Mapping[str, Any], key: str, tp: type, default: Any, fail: Callable[[str], Any]
) -> Any:
    value = table.get(key, default)
    ok = isinstance(value, tp) and not (tp is int and isinstance(value, bool))
    if not ok:
        fail(f"{key} must be a {tp.__name__}, not {value!r}")
    return value


def _table(data: Mapping[str, Any], key: str, fail: Callable[[str], Any]) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        fail(f"[{key}] must be a table")
    return value


def _fields(
    table: Mapping[str, Any], cfg: RunConfig, section: str, fail: Callable[[str], Any]
) -> list[tuple[str, Any]]:
    """Flatten a TOML table into ``(dotted field, value)`` pairs, guided by the config schema.

    ``train.lr = 1`` (a TOML dotted key, i.e. a nested table) and ``"train.lr" = 1`` both give
    ``("train.lr", 1)``; a nested table stops at the first path that is a config field, so a
    ``[space]`` entry's ``{low, high}`` table stays whole.
    """
    out: list[tuple[str, Any]] = []

    def walk(node: Mapping[str, Any], prefix: list[str]) -> None:
        for key, value in node.items():
            path = [*prefix, *key.split(".")]
            obj: Any = cfg
            for i, part in enumerate(path):
                if not dataclasses.is_dataclass(obj):
                    fail(f"[{section}] {'.'.join(path)}: {'.'.join(path[:i])} is not a section")
                names = [f.name for f in dataclasses.fields(obj)]
                if part not in names:
                    where = ".".join(path[:i]) or "the config"
                    fail(
                        f"[{section}] {'.'.join(path)}: unknown field {part!r}; "
                        f"fields of {where}: {', '.join(names)}"
                    )
                obj = getattr(obj, part)
            dotted = ".".join(path)
            if dataclasses.is_dataclass(obj):
                if not isinstance(value, dict):
                    fail(f"[{section}] {dotted} is a section; name one of its fields")
                walk(value, path)
            else:
                if dotted in RESERVED:
                    fail(f"[{section}] {dotted} cannot be set by a study (use seeds)")
                out.append((dotted, value))

    walk(table, [])
    return out


def _check_value(
    cfg: RunConfig, key: str, value: Any, section: str, fail: Callable[[str], Any]
) -> None:
    if isinstance(value, list):
        # Lists only set tuple fields (eval.knn_ks = [1, 20]), and only as fixed overrides.
        if section != "overrides" or not _is_tuple_field(cfg, key):
            fail(f"[{section}] {key}: {value!r} is not a single value")
    elif isinstance(value, dict) or not isinstance(value, str | int | float | bool):
        fail(f"[{section}] {key}: {value!r} is not a string, number or boolean")
    try:
        apply_overrides(cfg, [_override(key, value)])
    except ConfigError as exc:
        fail(f"[{section}] {exc}")


def _is_tuple_field(cfg: RunConfig, key: str) -> bool:
    return typing.get_origin(_field_type(cfg, key)) is tuple


def _field_type(cfg: RunConfig, key: str) -> Any:
    obj: Any = cfg
    *sections, name = key.split(".")
    for part in sections:
        obj = getattr(obj, part)
    return typing.get_type_hints(type(obj))[name]


def _grid_param(cfg: RunConfig, key: str, values: Any, fail: _Fail) -> Param:
    """One ``[grid]`` axis: a non-empty list of distinct values, each valid for the field."""
    if not isinstance(values, list) or not values:
        fail(f"[grid] {key} must be a non-empty list of values")
    if len(set(map(repr, values))) != len(values):
        fail(f"[grid] {key} lists a value twice")
    for v in values:
        _check_value(cfg, key, v, "grid", fail)
    return Param(field=key, choices=tuple(values))


def _space_param(cfg: RunConfig, key: str, dist: Any, fail: Callable[[str], Any]) -> Param:
    where = f"[space] {key}"
    if not isinstance(dist, dict):
        fail(f"{where} must be a table: {{ low = ..., high = ... }} or {{ choices = [...] }}")
    if "choices" in dist:
        if set(dist) != {"choices"}:
            fail(f"{where}: a categorical parameter takes only 'choices'")
        choices = dist["choices"]
        if not isinstance(choices, list) or len(choices) < 2:
            fail(f"{where}: choices must list at least two values")
        for v in choices:
            _check_value(cfg, key, v, "space", fail)
        return Param(field=key, choices=tuple(choices))
    bad = sorted(set(dist) - {"low", "high", "log"})
    if bad or "low" not in dist or "high" not in dist:
        fail(f"{where} needs low and high (and optionally log = true), or choices")
    low, high, log = dist["low"], dist["high"], dist.get("log", False)
    tp = _field_type(cfg, key)
    tp = next((a for a in typing.get_args(tp) if a is not type(None)), tp)
    if tp not in (int, float):
        fail(f"{where}: a range needs a numeric field; {key} is {getattr(tp, '__name__', tp)}")
    integer = tp is int
    for v in (low, high):
        if isinstance(v, bool) or not isinstance(v, int | float):
            fail(f"{where}: low and high must be numbers")
        if integer and not isinstance(v, int):
            fail(f"{where}: {key} is an integer field; low and high must be integers")
        if isinstance(v, float) and not math.isfinite(v):
            fail(f"{where}: low and high must be finite")
    if not low < high:
        fail(f"{where}: low must be below high")
    if not isinstance(log, bool):
        fail(f"{where}: log must be true or false")
    if log and low <= 0:
        fail(f"{where}: a log range needs low > 0")
    for v in (low, high):
        _check_value(cfg, key, v, "space", fail)
    return Param(field=key, low=low, high=high, log=log, integer=integer)


# ---------------------------------------------------------------------------------------------
# Study presets in Python


STUDY_PRESETS: dict[str, Callable[[], StudySpec]] = {}


def study_preset(name: str) -> Callable[[Callable[[], StudySpec]], Callable[[], StudySpec]]:
    """Register a spec factory as a named study preset."""

    def deco(factory: Callable[[], StudySpec]) -> Callable[[], StudySpec]:
        STUDY_PRESETS[name] = factory
        return factory

    return deco


def resolve_spec(spec: str) -> StudySpec:
    """A TOML file path, or the name of a study preset."""
    if spec in STUDY_PRESETS and not Path(spec).is_file():
        return STUDY_PRESETS[spec]()
    if not spec.endswith(".toml") and not Path(spec).is_file():
        raise ConfigError(
            f"study spec {spec!r} is neither a .toml file nor a study preset; presets: "
            f"{', '.join(sorted(STUDY_PRESETS))}"
        )
    return load_spec(spec)


#: Overrides that make a trial's evaluation cheap: kNN and P@1/MAP@R only, no figures.
CHEAP_EVAL: tuple[tuple[str, Value], ...] = (
    ("eval.linear_probe", False),
    ("eval.fewshot", False),
    ("eval.clustering", False),
    ("eval.baselines", False),
    ("eval.figures", False),
)


@study_preset("smoke")
def smoke() -> StudySpec:
    """The same study as ``studies/smoke.toml`` (a test keeps the two equal)."""
    return StudySpec(
        name="smoke",
        description="Smoke test: miner × margin on mnist-mini, 2 seeds (about a minute).",
        base="triplet_quick",
        kind="grid",
        params=(
            Param(field="triplet.miner", choices=("semi_hard", "batch_hard")),
            Param(field="triplet.margin", choices=(0.2, 0.5)),
        ),
        seeds=(0, 1),
        objective=Objective(metric="val/knn@20", direction="maximize", select="best"),
        extra_metrics=("test/knn@20", "test/knn@1", "train_seconds"),
        overrides=(("train.epochs", 2), *CHEAP_EVAL),
    )


def iter_units(spec: StudySpec) -> Iterator[tuple[str, dict[str, Value], int]]:
    """Every grid ``(cell id, params, seed)``: the study's units of work, in a fixed order.

    Seed-major (every cell's first seed, then every cell's second...), so a study stopped
    early has covered the whole grid once before it repeats any cell.
    """
    cells = spec.grid_cells()
    for seed in spec.seeds:
        for i, cell in enumerate(cells):
            yield cell_id(i, cell), cell, seed
