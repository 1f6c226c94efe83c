"""Triplet miners: ``mine(dist, y) -> (a, p, n)`` index tensors into the batch.

Which triplets to learn from is an axis of its own (Hermans et al., "In Defense of the Triplet
Loss", 2017; Schroff et al. 2015 for semi-hard), so miners are separate from the loss:

- ``random``: for every anchor, one uniformly random positive (same class, not itself) and one
  uniformly random negative (other class). Needs labels only (``dist`` may be ``None``): this is
  the reference project's sampling, applied inside a P×K batch.
- ``batch_all``: every valid (a, p, n) in the batch.
- ``batch_hard``: for every anchor, its farthest positive and its closest negative.
- ``semi_hard``: for every (a, p) pair, the closest negative that is still farther than the
  positive (d(a,p) < d(a,n)); pairs with no such negative are skipped. This follows FaceNet's
  definition; unlike TF-Addons we do not fall back to the hardest negative.
"""

from __future__ import annotations

from typing import Protocol

import torch

from mnistmax.registry import Registry

Triplets = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


class Miner(Protocol):
    """Selects triplets from a batch's distance matrix and labels."""

    # True: the method gathers each triplet's three images and embeds them as separate
    # inputs (so a triplet can share one augmentation draw, as in the reference); False: the
    # batch is embedded once and triplets index into it.
    embeds_triplets: bool

    def __call__(
        self,
        dist: torch.Tensor | None,
        y: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> Triplets: ...


MINERS: Registry[Miner] = Registry("miner")


def _masks(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    same = y[:, None] == y[None, :]
    eye = torch.eye(len(y), dtype=torch.bool, device=y.device)
    return same & ~eye, ~same


def _empty(y: torch.Tensor) -> Triplets:
    e = torch.empty(0, dtype=torch.long, device=y.device)
    return e, e, e


def _random_true(mask: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Per row, the column of one uniformly random True entry (rows must have one)."""
    noise = torch.rand(mask.shape, generator=generator, device=mask.device)
    return torch.where(mask, noise, -1.0).argmax(1)


class RandomMiner:
    """One random positive and one random negative per anchor (labels only)."""

    embeds_triplets = True

    def __call__(
        self,
        dist: torch.Tensor | None,
        y: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> Triplets:
        pos, neg = _masks(y)
        valid = pos.any(1) & neg.any(1)
        a = torch.nonzero(valid).squeeze(1)
        if a.numel() == 0:
            return _empty(y)
        return a, _random_true(pos[a], generator), _random_true(neg[a], generator)


class BatchAllMiner:
    """Every valid triplet of the batch."""

    embeds_triplets = False

    def __call__(
        self,
        dist: torch.Tensor | None,
        y: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> Triplets:
        pos, neg = _masks(y)
        a, p, n = torch.nonzero(pos[:, :, None] & neg[:, None, :], as_tuple=True)
        return a, p, n


class BatchHardMiner:
    """Farthest positive and closest negative for every anchor."""

    embeds_triplets = False

    def __call__(
        self,
        dist: torch.Tensor | None,
        y: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> Triplets:
        assert dist is not None
        pos, neg = _masks(y)
        valid = pos.any(1) & neg.any(1)
        a = torch.nonzero(valid).squeeze(1)
        if a.numel() == 0:
            return _empty(y)
        d = dist[a]
        p = torch.where(pos[a], d, float("-inf")).argmax(1)
        n = torch.where(neg[a], d, float("inf")).argmin(1)
        return a, p, n


class SemiHardMiner:
    """Closest negative beyond the positive, for every (anchor, positive) pair."""

    embeds_triplets = False

    def __call__(
        self,
        dist: torch.Tensor | None,
        y: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> Triplets:
        assert dist is not None
        pos, neg = _masks(y)
        a, p = torch.nonzero(pos, as_tuple=True)
        if a.numel() == 0:
            return _empty(y)
        d_ap = dist[a, p]
        d_an = dist[a]  # (T, B)
        ok = neg[a] & (d_an > d_ap[:, None])
        n = torch.where(ok, d_an, float("inf")).argmin(1)
        keep = ok.any(1)
        return a[keep], p[keep], n[keep]


MINERS.register("random")(RandomMiner)
MINERS.register("batch_all")(BatchAllMiner)
MINERS.register("batch_hard")(BatchHardMiner)
MINERS.register("semi_hard")(SemiHardMiner)
