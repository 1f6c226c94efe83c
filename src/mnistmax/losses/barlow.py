"""Barlow Twins: drive the cross-correlation of two views' embeddings to the identity.

Zbontar et al., "Barlow Twins: Self-Supervised Learning via Redundancy Reduction", ICML 2021,
eq. (1): with each dimension standardised over the batch (mean 0, biased std 1, as the official
code's ``BatchNorm1d(affine=False)`` in training mode), ``C = Z̃ᵀ Z̃′ / B`` and

    L = Σ_i (1 − C_ii)² + λ Σ_i Σ_{j≠i} C_ij²

λ = 5e-3 in the paper (D = 8192). Departure: none; ``eps`` guards constant dimensions.
"""

from __future__ import annotations

import torch

from mnistmax.errors import ConfigError

__all__ = ["barlow_twins_loss", "cross_correlation"]


def cross_correlation(z1: torch.Tensor, z2: torch.Tensor, *, eps: float = 1e-5) -> torch.Tensor:
    """``C`` (D, D): batch-standardised ``z1ᵀ z2 / B``."""
    if z1.shape != z2.shape or z1.dim() != 2 or z1.shape[0] < 2:
        raise ConfigError(
            f"barlow twins needs two (B >= 2, D) views of one shape, got {z1.shape}, {z2.shape}"
        )

    def standardise(z: torch.Tensor) -> torch.Tensor:
        z = z.float()
        return (z - z.mean(dim=0)) / torch.sqrt(z.var(dim=0, unbiased=False) + eps)

    return standardise(z1).T @ standardise(z2) / z1.shape[0]


def barlow_twins_loss(z1: torch.Tensor, z2: torch.Tensor, *, lambd: float = 5e-3) -> torch.Tensor:
    """Invariance (diagonal to 1) plus ``lambd`` × redundancy (off-diagonal to 0)."""
    c = cross_correlation(z1, z2)
    diag = torch.diagonal(c)
    on = (1.0 - diag).pow(2).sum()
    off = c.pow(2).sum() - diag.pow(2).sum()
    return on + lambd * off
