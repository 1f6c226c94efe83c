"""Triplet loss on L2-normalised embeddings (Schroff et al., "FaceNet", CVPR 2015).

``max(0, d(a, p) - d(a, n) + margin)`` averaged over the given triplets, with ``d`` either
the squared Euclidean distance between unit vectors (the reference project's choice, range
[0, 4]) or the cosine distance ``1 - cos`` (range [0, 2]; note that for unit vectors the squared
Euclidean distance is exactly twice the cosine distance, so the two differ only in margin scale).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mnistmax.errors import ConfigError

DISTANCES = ("squared_euclidean", "cosine")


def pairwise_distances(z: torch.Tensor, distance: str = "squared_euclidean") -> torch.Tensor:
    """(B, B) distances between the rows of ``z`` after L2 normalisation."""
    u = F.normalize(z, dim=1)
    cos = u @ u.T
    if distance == "squared_euclidean":
        return (2.0 - 2.0 * cos).clamp_min(0.0)
    if distance == "cosine":
        return (1.0 - cos).clamp_min(0.0)
    raise ConfigError(f"unknown distance {distance!r}; choose one of: {', '.join(DISTANCES)}")


def triplet_loss(
    z: torch.Tensor,
    a: torch.Tensor,
    p: torch.Tensor,
    n: torch.Tensor,
    *,
    margin: float = 1.0,
    distance: str = "squared_euclidean",
) -> torch.Tensor:
    """Mean hinge over triplets ``(z[a], z[p], z[n])``; a differentiable zero if there are none.

    Args:
        z: embeddings (B, D), not necessarily normalised.
        a, p, n: index tensors of equal length T into ``z``.
        margin: hinge margin (1.0 in the reference, with squared Euclidean distances).
        distance: ``squared_euclidean`` or ``cosine``.
    """
    if a.numel() == 0:
        return z.sum() * 0.0
    u = F.normalize(z, dim=1)
    ua, up, un = u[a], u[p], u[n]
    cos_ap = (ua * up).sum(1)
    cos_an = (ua * un).sum(1)
    if distance == "squared_euclidean":
        d_ap, d_an = 2.0 - 2.0 * cos_ap, 2.0 - 2.0 * cos_an
    elif distance == "cosine":
        d_ap, d_an = 1.0 - cos_ap, 1.0 - cos_an
    else:
        raise ConfigError(f"unknown distance {distance!r}; choose one of: {', '.join(DISTANCES)}")
    return F.relu(d_ap - d_an + margin).mean()


def triplet_accuracy_from_indices(
    z: torch.Tensor, a: torch.Tensor, p: torch.Tensor, n: torch.Tensor
) -> torch.Tensor:
    """Share of triplets with the positive closer than the negative (0-dim tensor, no grad)."""
    with torch.no_grad():
        if a.numel() == 0:
            return z.new_zeros(())
        u = F.normalize(z, dim=1)
        return ((u[a] * u[p]).sum(1) > (u[a] * u[n]).sum(1)).float().mean()
