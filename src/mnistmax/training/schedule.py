"""Learning-rate schedules: constant or cosine (per step, with linear warm-up), or plateau.

Plateau halving watches a *validation* metric (never the test set, unlike the reference).
"""

from __future__ import annotations

import math

import torch

from mnistmax.config import (
    SCHEDULES,
    TrainConfig,
)
from mnistmax.errors import ConfigError


def lr_factor(step: int, total: int, warmup: int, kind: str) -> float:
    """Multiplier of the base learning rate at ``step`` (0-based) of ``total``."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    if kind == "cosine":
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return 1.0


class Scheduler:
    """Per-step warm-up/cosine factor times a plateau factor updated at epoch ends."""

    def __init__(
        self, optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int
    ) -> None:
        if cfg.schedule not in SCHEDULES:
            raise ConfigError(
                f"unknown schedule {cfg.schedule!r}; choose one of: {', '.join(SCHEDULES)}"
            )
        self.optimizer = optimizer
        self.cfg = cfg
        self.total = cfg.epochs * steps_per_epoch
        self.warmup = round(cfg.warmup_epochs * steps_per_epoch)
        self.base = [g["lr"] for g in optimizer.param_groups]
        self.step_count = 0
        self.plateau = 1.0
        self.best = -math.inf
        self.bad_epochs = 0
        self._apply()

    def _apply(self) -> None:
        f = lr_factor(self.step_count, self.total, self.warmup, self.cfg.schedule) * self.plateau
        for group, base in zip(self.optimizer.param_groups, self.base, strict=True):
            group["lr"] = base * f

    def step(self) -> None:
        """Advance one optimisation step."""
        self.step_count += 1
        self._apply()

    def epoch_end(self, monitor: float) -> None:
        """Plateau schedule: halve (``plateau_factor``) after ``plateau_patience`` flat epochs."""
        if self.cfg.schedule != "plateau":
            return
        if monitor > self.best:
            self.best, self.bad_epochs = monitor, 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs > self.cfg.plateau_patience:
                self.plateau *= self.cfg.plateau_factor
                self.bad_epochs = 0
                self._apply()

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict[str, float | int]:
        return {
            "step_count": self.step_count,
            "plateau": self.plateau,
            "best": self.best,
            "bad_epochs": self.bad_epochs,
        }

    def load_state_dict(self, state: dict[str, float | int]) -> None:
        self.step_count = int(state["step_count"])
        self.plateau = float(state["plateau"])
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
        self._apply()
