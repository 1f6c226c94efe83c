"""Training-time noise: per-image random intensity, a clean ratio and a curriculum ramp.

``NoiseSampler(op, low, high, clean_ratio, ramp_steps)(x, step, generator=g)`` corrupts a batch:
each image gets ``I ~ U(low, high)`` scaled by the curriculum factor ``min(1, (step + 1) /
ramp_steps)`` (1 when ``ramp_steps`` is 0), and a share ``clean_ratio`` of images is passed
through clean (``I = 0``), so the model also learns to leave clean digits alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mnistmax.errors import ConfigError
from mnistmax.noise.ops import Noise


@dataclass(frozen=True)
class NoiseSampler:
    """Random per-image intensities for training.

    Attributes:
        op: the noise.
        low: smallest intensity drawn.
        high: largest intensity drawn (after the ramp ends).
        clean_ratio: share of images left clean.
        ramp_steps: curriculum length in optimiser steps (0: no curriculum).
    """

    op: Noise
    low: float = 0.0
    high: float = 1.0
    clean_ratio: float = 0.0
    ramp_steps: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.low <= self.high <= 1.0:
            raise ConfigError(
                f"noise intensities need 0 <= low <= high <= 1, got low={self.low} high={self.high}"
            )
        if not 0.0 <= self.clean_ratio < 1.0:
            raise ConfigError(f"clean_ratio must be in [0, 1), got {self.clean_ratio}")

    def ramp(self, step: int) -> float:
        """The curriculum factor at optimiser step ``step`` (0-based)."""
        if self.ramp_steps <= 0:
            return 1.0
        return min(1.0, (step + 1) / self.ramp_steps)

    def intensities(self, n: int, step: int, generator: torch.Generator) -> torch.Tensor:
        """(n,) intensities on the generator's device."""
        u = torch.rand(n, generator=generator, device=generator.device)
        keep = torch.rand(n, generator=generator, device=generator.device) >= self.clean_ratio
        i = (self.low + (self.high - self.low) * u) * self.ramp(step)
        return torch.where(keep, i, torch.zeros_like(i)).clamp(0.0, 1.0)

    def __call__(
        self, x: torch.Tensor, step: int, *, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (x_noisy, intensities) for a batch at optimiser step ``step``."""
        i = self.intensities(len(x), step, generator).to(x.device)
        return self.op(x, i, generator=generator), i
