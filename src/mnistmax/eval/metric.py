"""Declared metrics: a number an evaluation writes to eval.json, declared once beside the code
that computes it.

A declaration says everything the rest of the program needs about the number: its ``name`` (the
eval.json key after the split: ``test/<name>``; a baseline's is ``baseline/<which>/<name>``),
the report column's ``label``, how values print (``fmt``) and whether higher is better (the
report marks the best method; ``None``: no direction). A family lists the declared metrics its
runs fill (:attr:`mnistmax.families.base.Family.metrics`); the report's columns are those
lists, in family order.

A new metric of frozen features is one function and one :func:`declare` call with
``from_features=``: the representation protocol computes it for every run and baseline
(``test/<name>``, ``baseline/<which>/<name>``), the baseline cache key includes it, and the
report shows it as a column. The built-in metrics are computed in groups by the protocol itself
(one kNN pass gives every k) and declared without a function.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from torch import Tensor

#: ``f(z_train, y_train, z_test, y_test) -> float``: a metric of frozen features (the training
#: split is the bank or support set; the test split is scored).
FeatureMetric = Callable[[Tensor, Tensor, Tensor, Tensor], float]

#: Digits after the point per format (``pct``: the value × 100).
FORMATS = {"pct": 2, "f4": 4, "f3": 3, "f2": 2, "f1": 1, "int": 0}


@dataclass(frozen=True)
class Metric:
    """One declared number: eval.json ``<split>/<name>``, shown as ``label`` in ``fmt``."""

    name: str
    label: str
    fmt: str = "pct"
    higher_is_better: bool | None = True
    from_features: FeatureMetric | None = None

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"metric {self.name!r}: fmt {self.fmt!r} is not one of {FORMATS}")

    def key(self, split: str = "test") -> str:
        """The eval.json key of this metric on ``split`` (``test``, ``val``)."""
        return f"{split}/{self.name}"

    def baseline_key(self, baseline: str) -> str:
        """The eval.json key of this metric for baseline ``baseline`` (``raw_pixels``, ...)."""
        return f"baseline/{baseline}/{self.name}"

    def format(self, values: Sequence[float]) -> str:
        """``mean ± std`` (sample std) for several values, the value for one, ``—`` for none."""
        if not values:
            return "—"
        scale = 100.0 if self.fmt == "pct" else 1.0
        mean = statistics.fmean(values) * scale
        digits = FORMATS[self.fmt]
        text = f"{mean:,.{digits}f}" if self.fmt == "int" else f"{mean:.{digits}f}"
        if len(values) > 1:
            std = statistics.stdev(values) * scale
            text += f" ± {std:.{max(digits, 1) if self.fmt == 'int' else digits}f}"
        return text


#: Every declared metric by name.
METRICS: dict[str, Metric] = {}


def declare(
    name: str,
    label: str,
    fmt: str = "pct",
    *,
    higher_is_better: bool | None = True,
    from_features: FeatureMetric | None = None,
) -> Metric:
    """Declare (register) a metric; a name declared twice is a programming error."""
    if name in METRICS:
        raise ValueError(f"metric {name!r} is declared twice")
    metric = Metric(name, label, fmt, higher_is_better, from_features)
    METRICS[name] = metric
    return metric


def feature_metrics() -> list[Metric]:
    """The declared metrics with a function of frozen features, in declaration order."""
    return [m for m in METRICS.values() if m.from_features is not None]
