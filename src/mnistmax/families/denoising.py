"""Denoising: a model that maps noisy digits to clean ones, evaluated by a sweep over noise types
and intensities next to classical filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnistmax.config import RunConfig
from mnistmax.families.base import FAMILIES, Family


@FAMILIES.register("denoising")
class Denoising(Family):
    """Trained by ``mnistmax denoise train`` through
    :func:`mnistmax.denoise.runner.train_denoiser`."""

    name = "denoising"
    command = "mnistmax denoise train"

    def train(
        self,
        cfg: RunConfig,
        out: str | Path,
        *,
        quiet: bool = False,
        evaluate: bool = True,
        stop_after_epochs: int | None = None,
    ) -> dict[str, Any]:
        from mnistmax.denoise.runner import train_denoiser

        return train_denoiser(
            cfg, out, quiet=quiet, evaluate=evaluate, stop_after_epochs=stop_after_epochs
        )
