"""Field rules of the config sections: ranges and choices, checked when a section is built.

A section lists ``RULES = {field: rule}`` and calls :func:`check_fields` from
``__post_init__``; a bad value is one sentence naming the field, the value and what is allowed
(``train.lr=-1.0: must be a finite number > 0``), raised as :class:`ConfigError` before any
folder is made or data is read. Rules that need two fields or the dataset (P×K against the
labelled images of a class) live with the code that knows them (``mnistmax.families``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mnistmax.errors import ConfigError


@dataclass(frozen=True)
class Rule:
    """``ok(value)`` says whether a value is allowed; ``text`` says what is."""

    ok: Callable[[Any], bool]
    text: str


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _integer(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def integer(lo: int, hi: int | None = None) -> Rule:
    """A whole number in ``[lo, hi]``."""
    top = f" and <= {hi:,}" if hi is not None else ""
    return Rule(
        lambda v: _integer(v) and v >= lo and (hi is None or v <= hi),
        f"must be a whole number >= {lo}{top}",
    )


def number(lo: float, hi: float | None = None, *, open_lo: bool = False) -> Rule:
    """A finite number in ``[lo, hi]`` (``(lo, hi]`` with ``open_lo``)."""
    low = f"> {lo:g}" if open_lo else f">= {lo:g}"
    top = f" and <= {hi:g}" if hi is not None else ""
    return Rule(
        lambda v: _number(v) and (v > lo if open_lo else v >= lo) and (hi is None or v <= hi),
        f"must be a finite number {low}{top}",
    )


def one_of(*choices: str) -> Rule:
    """One of ``choices``."""
    return Rule(lambda v: v in choices, f"must be one of {', '.join(choices)}")


def text(pattern: Callable[[str], bool], what: str) -> Rule:
    """A string for which ``pattern`` holds."""
    return Rule(lambda v: isinstance(v, str) and pattern(v), f"must be {what}")


def optional(rule: Rule) -> Rule:
    """``None`` or a value ``rule`` allows."""
    return Rule(lambda v: v is None or rule.ok(v), f"{rule.text}, or none")


def each(rule: Rule, *, non_empty: bool = True) -> Rule:
    """A list whose every item ``rule`` allows."""
    need = "a non-empty list whose items " if non_empty else "a list whose items "
    return Rule(
        lambda v: (
            isinstance(v, tuple | list)
            and (len(v) > 0 or not non_empty)
            and all(rule.ok(x) for x in v)
        ),
        need + rule.text.removeprefix("must "),
    )


def check_fields(section: Any, name: str) -> None:
    """Raise one :class:`ConfigError` sentence for the first field of ``section`` (a config
    dataclass whose class has ``RULES``) that breaks its rule."""
    rules: dict[str, Rule] = type(section).RULES
    for f in dataclasses.fields(section):
        rule = rules.get(f.name)
        if rule is None:
            continue
        value = getattr(section, f.name)
        try:
            ok = rule.ok(value)
        except TypeError:
            ok = False
        if not ok:
            shown = ",".join(map(str, value)) if isinstance(value, tuple | list) else value
            raise ConfigError(f"{name}.{f.name}={shown!r}: {rule.text}")
