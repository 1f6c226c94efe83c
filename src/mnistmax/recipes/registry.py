"""The preset registry: every named :class:`RunConfig`, one line on what it is for, and which
preset is its method's default. The presets themselves live beside this module, one module per
method family; :data:`PRESET_MODULES` lists them and they register on first look-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from mnistmax.config import RunConfig
from mnistmax.errors import ConfigError

# The modules that register presets with @preset (imported on first look-up: CLI start-up stays
# light, and a preset module may import what it likes).
PRESET_MODULES: tuple[str, ...] = (
    "mnistmax.recipes.triplet",
    "mnistmax.recipes.ssl",
    "mnistmax.recipes.denoise",
)


@dataclass(frozen=True)
class InReview:
    """A preset's place in a ``mnistmax review`` budget: the overrides and seeds it runs with."""

    budget: str
    overrides: tuple[str, ...] = ()
    seeds: tuple[int, ...] = (0,)


#: The quick review's evaluation: the table needs 10-shot only (1/5/100 shots triple the
#: few-shot cost) and three k-means restarts are plenty for 1,000 mini test digits.
QUICK_EVAL = ("eval.fewshot_shots=10", "eval.kmeans_n_init=3")


def _module_rank(preset: Preset) -> int:
    module = preset.module
    return PRESET_MODULES.index(module) if module in PRESET_MODULES else len(PRESET_MODULES)


@dataclass(frozen=True)
class Preset:
    """A registered preset: its factory, one line on what it is for, whether it is the default
    of its method (what ``mnistmax train METHOD`` runs without ``--preset``), and the review
    budgets it runs in."""

    factory: Callable[[], RunConfig]
    about: str
    default: bool = False
    review: tuple[InReview, ...] = ()
    module: str = ""  # where it was registered


PRESETS: dict[str, Preset] = {}


def _load_all() -> None:
    for module in PRESET_MODULES:
        importlib.import_module(module)


def preset(
    name: str, *, about: str, default: bool = False, review: tuple[InReview, ...] = ()
) -> Callable[[Callable[[], RunConfig]], Callable[[], RunConfig]]:
    """Register a preset factory under ``name`` (the config records the name); ``about`` is the
    line ``--list-presets`` shows; ``default`` makes it its method's preset when none is named;
    ``review``: the ``mnistmax review`` budgets that run it."""

    def deco(factory: Callable[[], RunConfig]) -> Callable[[], RunConfig]:
        PRESETS[name] = Preset(
            lambda: replace(factory(), preset=name), about, default, review, factory.__module__
        )
        return factory

    return deco


def get_preset(name: str, method: str | None = None) -> RunConfig:
    """The preset ``name``; if ``method`` is given it must be that preset's method."""
    _load_all()
    if name not in PRESETS:
        choices = [n for n in sorted(PRESETS) if method is None or _method(n) == method]
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(choices)}")
    cfg = PRESETS[name].factory()
    if method is not None and cfg.method != method:
        raise ConfigError(f"preset {name!r} is for method {cfg.method!r}, not {method!r}")
    return cfg


def _method(name: str) -> str:
    return PRESETS[name].factory().method


def default_preset(method: str) -> str:
    """The name of ``method``'s default preset."""
    _load_all()
    names = [n for n in sorted(PRESETS) if PRESETS[n].default and _method(n) == method]
    if len(names) != 1:
        raise ConfigError(f"method {method!r} has no default preset; name one with --preset")
    return names[0]


def preset_about(name: str) -> str:
    """The one line that says what preset ``name`` is for."""
    _load_all()
    return PRESETS[name].about


def preset_methods() -> list[str]:
    """Methods that have a preset (what ``mnistmax train METHOD`` accepts)."""
    _load_all()
    return sorted({_method(n) for n in PRESETS})


def preset_names(method: str | None = None) -> list[str]:
    """Preset names, optionally only those of one method."""
    _load_all()
    return [n for n in sorted(PRESETS) if method is None or _method(n) == method]


def preset_listing(method: str) -> str:
    """``--list-presets``: one line per preset of ``method``, the default marked."""
    names = preset_names(method)
    width = max(len(n) for n in names)
    default = default_preset(method)
    return "\n".join(
        f"{n:<{width}}  {'(default) ' if n == default else ''}{preset_about(n)}" for n in names
    )


def in_review(budget: str) -> list[tuple[str, InReview]]:
    """``(preset, its place)`` of every preset in review budget ``budget``, in registration
    order (triplet, the self-supervised methods, the denoisers)."""
    _load_all()
    entries = [(n, r) for n, p in PRESETS.items() for r in p.review if r.budget == budget]
    # PRESET_MODULES order, whichever preset module was imported first; then as registered.
    return sorted(entries, key=lambda e: _module_rank(PRESETS[e[0]]))
