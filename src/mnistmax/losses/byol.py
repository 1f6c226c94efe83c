"""BYOL: regression of the online prediction onto the target projection, and its EMA schedule.

Grill et al., "Bootstrap Your Own Latent", NeurIPS 2020:

* loss (eq. 2): ``‖p̄ − z̄′‖² = 2 − 2·cos(p, z′)`` for L2-normalised vectors, averaged over the
  batch; the method symmetrises it (both views through the online network) and sums the two
  directions, as the paper does.
* target update: ``ξ ← τ ξ + (1 − τ) θ`` after every optimiser step, with
  ``τ = 1 − (1 − τ_base)(cos(π k / K) + 1) / 2`` rising from ``τ_base`` to 1 over K steps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F

from mnistmax.errors import ConfigError

__all__ = ["byol_loss", "cosine_momentum", "ema_update"]


def byol_loss(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mean of ``2 − 2·cos(p_i, z_i)`` over the batch; ``z`` is treated as a constant target.

    Args:
        p: Online predictions (B, P).
        z: Target projections (B, P); detached here (the target gets no gradient).
    """
    if p.shape != z.shape or p.dim() != 2:
        raise ConfigError(
            f"byol needs predictions and targets of one (B, P) shape, got {p.shape}, {z.shape}"
        )
    cos = (F.normalize(p.float(), dim=1) * F.normalize(z.detach().float(), dim=1)).sum(dim=1)
    return (2.0 - 2.0 * cos).mean()


def cosine_momentum(step: int, total_steps: int, base: float) -> float:
    """BYOL's target momentum ``1 − (1 − base)(cos(π step / total) + 1) / 2``.

    ``base`` at step 0, 1 at ``total_steps`` (and after).
    """
    if not 0.0 <= base <= 1.0:
        raise ConfigError(f"ssl.ema_base must lie in [0, 1], got {base}")
    frac = min(max(step / max(total_steps, 1), 0.0), 1.0)
    return 1.0 - (1.0 - base) * (math.cos(math.pi * frac) + 1.0) / 2.0


@torch.no_grad()
def ema_update(
    target: Iterable[torch.Tensor], online: Iterable[torch.Tensor], momentum: float
) -> None:
    """``t ← m·t + (1 − m)·o`` for matching tensors, in place, batched with ``_foreach`` ops."""
    t, o = list(target), list(online)
    if len(t) != len(o):
        raise ValueError(f"target has {len(t)} tensors, online {len(o)}")
    floats = [(a, b) for a, b in zip(t, o, strict=True) if a.is_floating_point()]
    if floats:
        ts, os = [a for a, _ in floats], [b for _, b in floats]
        torch._foreach_lerp_(ts, os, 1.0 - momentum)
    # Integer buffers (BatchNorm's num_batches_tracked) are copied.
    for a, b in zip(t, o, strict=True):
        if not a.is_floating_point():
            a.copy_(b)
