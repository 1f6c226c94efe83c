"""Representation learning (triplet and the self-supervised methods): an encoder whose features
are evaluated by kNN, linear probe, retrieval, few-shot and clustering next to baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnistmax.config import RunConfig
from mnistmax.families.base import FAMILIES, Family


@FAMILIES.register("representation")
class Representation(Family):
    """Trained by ``mnistmax train METHOD`` through :func:`mnistmax.runner.train_run`."""

    name = "representation"
    command = "mnistmax train {method}"

    def train(
        self,
        cfg: RunConfig,
        out: str | Path,
        *,
        quiet: bool = False,
        evaluate: bool = True,
        stop_after_epochs: int | None = None,
    ) -> dict[str, Any]:
        from mnistmax.runner import train_run

        return train_run(
            cfg, out, quiet=quiet, evaluate=evaluate, stop_after_epochs=stop_after_epochs
        )
