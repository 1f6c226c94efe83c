"""The one eval.json schema, for every family.

Every run's ``eval.json`` is one JSON object with:

* run facts (:data:`RUN_FACTS`): ``run``, ``method``, ``preset``, ``epochs``, ``best_epoch``,
  ``train_seconds``, ``train_img_per_s``, ``train_precision``; ``wall_seconds`` (train, figures
  and evaluation) when trained and evaluated in one process; ``timings`` (phase → seconds);
* metrics: ``<split>/<name>`` numbers (split ``test``, ``val`` or ``all``); the declared
  metrics (:mod:`mnistmax.eval.metric`) are among them; ``baseline/<which>/<name>`` the same
  for a baseline;
* ``details``: the family's own structured results, read only by that family (the denoisers'
  sweep rows and summary);
* ``eval_config``: the evaluation config, when it replaced the run's own.

:func:`problems` checks a record against this; the tests run it on every preset's eval.json.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mnistmax.config import RunConfig

RUN_FACTS = (
    "run",
    "method",
    "preset",
    "epochs",
    "best_epoch",
    "train_seconds",
    "train_img_per_s",
    "train_precision",
)
OPTIONAL = ("wall_seconds", "timings", "details", "eval_config")
METRIC_KEY = re.compile(r"^(test|val|all)/\S+$|^baseline/[^/\s]+/\S+$")


def run_facts(path: object, cfg: RunConfig, last: Mapping[str, Any]) -> dict[str, Any]:
    """The run facts of the run folder ``path`` from its config and last checkpoint ``last``."""
    seconds = float(last["train_seconds"])
    return {
        "run": str(path),
        "method": cfg.method,
        "preset": cfg.preset,
        "epochs": int(last["epoch"]),
        "best_epoch": int(last["best_epoch"]),
        "train_seconds": seconds,
        "train_img_per_s": float(last["images_seen"]) / max(seconds, 1e-9),
        "train_precision": str(last.get("precision", "fp32")),
    }


def problems(record: Mapping[str, Any]) -> list[str]:
    """What in ``record`` breaks the schema (empty: it conforms)."""
    out = [f"missing {k!r}" for k in RUN_FACTS if k not in record]
    for key, value in record.items():
        if key in RUN_FACTS or key in OPTIONAL:
            continue
        if not METRIC_KEY.match(key):
            out.append(f"{key!r} is neither a run fact nor a <split>/<metric> key")
        elif not isinstance(value, int | float) or isinstance(value, bool):
            out.append(f"{key!r} is not a number ({value!r})")
    return out
