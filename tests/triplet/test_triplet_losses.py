"""Triplet loss and miners against naive Python loops, in float32 and float64."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from mnistmax.losses.miners import MINERS
from mnistmax.losses.triplet import pairwise_distances, triplet_loss


def naive_dist(u: list[float], v: list[float], kind: str) -> float:
    nu = math.sqrt(sum(a * a for a in u))
    nv = math.sqrt(sum(b * b for b in v))
    cos = sum(a * b for a, b in zip(u, v, strict=True)) / (nu * nv)
    return 2 - 2 * cos if kind == "squared_euclidean" else 1 - cos


def naive_loss(
    z: torch.Tensor, trip: list[tuple[int, int, int]], margin: float, kind: str
) -> float:
    rows = z.tolist()
    terms = [
        max(0.0, naive_dist(rows[a], rows[p], kind) - naive_dist(rows[a], rows[n], kind) + margin)
        for a, p, n in trip
    ]
    return sum(terms) / len(terms)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", ["squared_euclidean", "cosine"])
def test_triplet_loss_matches_naive(dtype: torch.dtype, kind: str) -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(12, 5, generator=g, dtype=dtype)
    trip = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (9, 10, 11), (0, 5, 9)]
    a, p, n = (torch.tensor(c) for c in zip(*trip, strict=True))
    got = triplet_loss(z, a, p, n, margin=0.7, distance=kind)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert got.dtype == dtype
    assert abs(float(got) - naive_loss(z, trip, 0.7, kind)) < tol


def test_pairwise_distances_match_naive() -> None:
    z = torch.randn(6, 4, dtype=torch.float64)
    for kind in ("squared_euclidean", "cosine"):
        d = pairwise_distances(z, kind)
        for i, j in itertools.product(range(6), range(6)):
            assert abs(float(d[i, j]) - naive_dist(z[i].tolist(), z[j].tolist(), kind)) < 1e-10


def test_zero_loss_when_all_margins_hold() -> None:
    # Classes on orthogonal axes: d(a,p)=0, d(a,n)=2 > margin 1.
    z = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0], [0.0, 3.0]], requires_grad=True)
    loss = triplet_loss(
        z, torch.tensor([0, 2]), torch.tensor([1, 3]), torch.tensor([2, 0]), margin=1.0
    )
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert z.grad is not None and torch.all(z.grad == 0)


def test_empty_selection_is_a_differentiable_zero() -> None:
    z = torch.randn(4, 3, requires_grad=True)
    e = torch.empty(0, dtype=torch.long)
    loss = triplet_loss(z, e, e, e)
    assert float(loss.detach()) == 0.0 and loss.requires_grad
    loss.backward()
    assert z.grad is not None and torch.all(z.grad == 0)


def _valid(y: list[int]) -> set[tuple[int, int, int]]:
    n = len(y)
    return {
        (a, p, q)
        for a in range(n)
        for p in range(n)
        for q in range(n)
        if a != p and y[a] == y[p] and y[q] != y[a]
    }


def _batch(dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    y = torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    return torch.randn(10, 4, generator=g, dtype=dtype), y


def test_batch_all_is_every_valid_triplet() -> None:
    z, y = _batch()
    a, p, n = MINERS.build("batch_all")(pairwise_distances(z), y)
    got = set(zip(a.tolist(), p.tolist(), n.tolist(), strict=True))
    assert got == _valid(y.tolist())
    assert len(a) == len(got)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_batch_hard_matches_naive(dtype: torch.dtype) -> None:
    z, y = _batch(dtype)
    d = pairwise_distances(z)
    a, p, n = MINERS.build("batch_hard")(d, y)
    yl = y.tolist()
    assert a.tolist() == list(range(10))
    for i, (pi, ni) in enumerate(zip(p.tolist(), n.tolist(), strict=True)):
        pos = [j for j in range(10) if j != i and yl[j] == yl[i]]
        neg = [j for j in range(10) if yl[j] != yl[i]]
        assert float(d[i, pi]) == max(float(d[i, j]) for j in pos)
        assert float(d[i, ni]) == min(float(d[i, j]) for j in neg)


def test_semi_hard_matches_naive() -> None:
    z, y = _batch()
    d = pairwise_distances(z)
    a, p, n = MINERS.build("semi_hard")(d, y)
    yl = y.tolist()
    expected = {}
    for i, j in itertools.product(range(10), range(10)):
        if i == j or yl[i] != yl[j]:
            continue
        farther = [k for k in range(10) if yl[k] != yl[i] and float(d[i, k]) > float(d[i, j])]
        if farther:
            expected[(i, j)] = min(float(d[i, k]) for k in farther)
    got = {
        (ai, pi): float(d[ai, ni])
        for ai, pi, ni in zip(a.tolist(), p.tolist(), n.tolist(), strict=True)
    }
    assert got == expected


def test_random_miner_draws_valid_triplets_and_uses_the_generator() -> None:
    y = torch.arange(8).repeat_interleave(4)
    miner = MINERS.build("random")
    a, p, n = miner(None, y, generator=torch.Generator().manual_seed(0))
    assert a.tolist() == list(range(32))
    assert torch.all(y[a] == y[p]) and torch.all(a != p) and torch.all(y[a] != y[n])
    _a2, p2, n2 = miner(None, y, generator=torch.Generator().manual_seed(0))
    assert torch.equal(p, p2) and torch.equal(n, n2)
    _, p3, _ = miner(None, y, generator=torch.Generator().manual_seed(1))
    assert not torch.equal(p, p3)


def test_miners_skip_anchors_without_positives() -> None:
    y = torch.tensor([0, 1, 1, 2])
    z = torch.randn(4, 3)
    for name in ("random", "batch_hard"):
        a, _, _ = MINERS.build(name)(pairwise_distances(z), y)
        assert a.tolist() == [1, 2]
    a, _, _ = MINERS.build("random")(None, torch.zeros(5, dtype=torch.long))
    assert a.numel() == 0
