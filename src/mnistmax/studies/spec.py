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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistmax.config import RunConfig, apply_overrides
from mnistmax.errors import ConfigError

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
        )

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
        from mnistmax.presets import get_preset

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


def spec_from_toml(data: Mapping[str, Any], *, where: str, default_name: str = "") -> StudySpec:
    """Validate a parsed TOML document and build its :class:`StudySpec`."""

    def fail(msg: str) -> typing.NoReturn:
        raise ConfigError(f"study spec {where}: {msg}")

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        fail(f"unknown key {unknown[0]!r}; keys are: {', '.join(sorted(_TOP_KEYS))}")
    name = _get(data, "name", str, default_name, fail)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        fail(f"name {name!r} must be letters, digits, '_', '-' or '.' (it names a folder)")
    base = _get(data, "base", str, "", fail)
    if not base:
        fail("'base' (the preset every trial starts from) is required")
    from mnistmax.presets import get_preset

    try:
        base_cfg = get_preset(base)
    except ConfigError as exc:
        fail(f"base: {exc}")
    kind = _get(data, "kind", str, "grid", fail)
    if kind not in KINDS:
        fail(f"kind {kind!r} is not one of {', '.join(KINDS)}")

    seeds_raw = data.get("seeds", 1)
    if isinstance(seeds_raw, int) and not isinstance(seeds_raw, bool) and seeds_raw >= 1:
        seeds = tuple(range(seeds_raw))
    elif (
        isinstance(seeds_raw, list)
        and seeds_raw
        and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds_raw)
        and len(set(seeds_raw)) == len(seeds_raw)
    ):
        seeds = tuple(seeds_raw)
    else:
        fail("seeds must be a count ≥ 1 or a non-empty list of distinct integers")

    obj = _table(data, "objective", fail)
    bad = sorted(set(obj) - {"metric", "direction", "select"})
    if bad:
        fail(f"[objective] unknown key {bad[0]!r}; keys are: metric, direction, select")
    objective = Objective(
        metric=_get(obj, "metric", str, "val/knn@20", fail),
        direction=_get(obj, "direction", str, "maximize", fail),
        select=_get(obj, "select", str, "best", fail),
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

    extra = data.get("extra_metrics", [])
    if not isinstance(extra, list) or not all(isinstance(m, str) for m in extra):
        fail("extra_metrics must be a list of metric names")
    evaluate = _get(data, "evaluate", bool, True, fail)
    if not evaluate and any(m.startswith("test/") for m in extra):
        fail("extra_metrics name test metrics, which need evaluate = true")

    overrides = _fields(_table(data, "overrides", fail), base_cfg, "overrides", fail)
    for key, value in overrides:
        _check_value(base_cfg, key, value, "overrides", fail)
    cfg = apply_overrides(base_cfg, [_override(k, v) for k, v in overrides])

    params: list[Param] = []
    if kind == "grid":
        if "space" in data:
            fail("a grid study lists values under [grid], not [space]")
        if "budget" in data:
            fail("a grid study runs every cell; [budget] is for tpe and random studies")
        for key, values in _fields(_table(data, "grid", fail), cfg, "grid", fail):
            if not isinstance(values, list) or not values:
                fail(f"[grid] {key} must be a non-empty list of values")
            if len(set(map(repr, values))) != len(values):
                fail(f"[grid] {key} lists a value twice")
            for v in values:
                _check_value(cfg, key, v, "grid", fail)
            params.append(Param(field=key, choices=tuple(values)))
        if not params:
            fail("[grid] must name at least one field to vary")
    else:
        if "grid" in data:
            fail(f"a {kind} study declares its search space under [space], not [grid]")
        for key, dist in _fields(_table(data, "space", fail), cfg, "space", fail):
            params.append(_space_param(cfg, key, dist, fail))
        if not params:
            fail("[space] must name at least one field to search")

    budget = _table(data, "budget", fail)
    bad = sorted(set(budget) - {"trials", "time_s", "startup_trials", "sampler_seed"})
    if bad:
        fail(
            f"[budget] unknown key {bad[0]!r}; keys are: trials, time_s, startup_trials, sampler_seed"
        )
    n_trials = budget.get("trials")
    time_s = budget.get("time_s")
    if n_trials is not None and (not isinstance(n_trials, int) or n_trials < 1):
        fail("[budget] trials must be a positive integer")
    if time_s is not None and (not isinstance(time_s, int | float) or time_s <= 0):
        fail("[budget] time_s must be a positive number of seconds")
    if kind != "grid" and n_trials is None and time_s is None:
        fail(f"a {kind} study needs a [budget] with trials and/or time_s")

    return StudySpec(
        name=name,
        base=base,
        kind=kind,
        params=tuple(params),
        seeds=seeds,
        objective=objective,
        extra_metrics=tuple(extra),
        overrides=tuple(overrides),
        evaluate=evaluate,
        n_trials=n_trials,
        time_s=None if time_s is None else float(time_s),
        startup_trials=_get(budget, "startup_trials", int, 10, fail),
        sampler_seed=_get(budget, "sampler_seed", int, 0, fail),
        description=_get(data, "description", str, "", fail),
    )


def check_buildable(spec: StudySpec) -> None:
    """Build the method of every grid cell (or every categorical choice) once, untrained.

    Catches values that parse but name nothing (an unknown miner, encoder or noise) before any
    trial starts. Imports torch, so the CLI calls it only when running a study.
    """
    from mnistmax.methods import build_method

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
