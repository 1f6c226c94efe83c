"""Train → figures → evaluate a run: what ``mnistmax train`` does, reusable by studies, the review
and notebooks. The pipeline itself is :meth:`mnistmax.families.Family.train`; this module keeps
the names callers import (``train_run``, ``trace_indices``, ``write_figures``, ``seed_everything``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnistmax.config import RunConfig
from mnistmax.families import family_of
from mnistmax.families.base import seed_everything
from mnistmax.families.representation import trace_indices, write_figures


def train_run(
    cfg: RunConfig,
    out: str | Path,
    *,
    quiet: bool = False,
    evaluate: bool = True,
    stop_after_epochs: int | None = None,
) -> dict[str, Any]:
    """Train (or resume) the run in ``out``, write its figures, evaluate it; return eval.json.

    eval.json's ``timings`` splits this call's wall time: ``setup`` (data and model), ``train``
    (the training steps), ``validation`` (the rest of the loop: per-epoch validation, traces,
    checkpoints, the optimiser's set-up), ``figures``, ``evaluation`` (with its parts) and
    ``baselines``.
    """
    return family_of(cfg.method).train(
        cfg, out, quiet=quiet, evaluate=evaluate, stop_after_epochs=stop_after_epochs
    )


__all__ = ["seed_everything", "trace_indices", "train_run", "write_figures"]
