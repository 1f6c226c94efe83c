"""Naive reference implementations for tests: plain Python loops over samples, float64.

They are written for clarity, straight from the definitions, and share no code with
``src/mnistmax``: a test that compares the batched version with one of these can fail when either
is wrong. Keep inputs small (a few hundred items): everything here is O(N^2) in Python.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import torch

Matrix = list[list[float]]


def _rows(z: torch.Tensor | np.ndarray) -> Matrix:
    """Rows as float64 lists, L2-normalised (zero rows stay zero)."""
    a = z.detach().cpu().numpy() if isinstance(z, torch.Tensor) else np.asarray(z)
    out = []
    for row in a.astype(np.float64):
        norm = math.sqrt(sum(v * v for v in row))
        out.append([v / norm if norm > 0 else 0.0 for v in row])
    return out


def _labels(y: torch.Tensor | np.ndarray | Sequence[int]) -> list[int]:
    if isinstance(y, torch.Tensor):
        return [int(v) for v in y.tolist()]
    return [int(v) for v in np.asarray(y).tolist()]


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _ranked(query: list[float], bank: Matrix, skip: int | None) -> list[tuple[float, int]]:
    """Bank items by cosine similarity, best first; equal similarity: smaller index first."""
    sims = [(_dot(query, b), j) for j, b in enumerate(bank) if j != skip]
    return sorted(sims, key=lambda t: (-t[0], t[1]))


def naive_knn_predict(
    bank_z: torch.Tensor,
    bank_y: torch.Tensor,
    query_z: torch.Tensor,
    *,
    k: int,
    tau: float,
    num_classes: int,
    exclude_self: bool = False,
) -> list[int]:
    """Weighted kNN: the ``k`` most cosine-similar bank items vote ``exp(s / tau)`` for their class.

    A vote tie goes to the smallest class label.
    """
    bank, labels, queries = _rows(bank_z), _labels(bank_y), _rows(query_z)
    preds = []
    for i, q in enumerate(queries):
        neighbours = _ranked(q, bank, i if exclude_self else None)[:k]
        votes = [0.0] * num_classes
        for s, j in neighbours:
            votes[labels[j]] += math.exp(s / tau)
        best = 0
        for c in range(1, num_classes):
            if votes[c] > votes[best]:
                best = c
        preds.append(best)
    return preds


def naive_precision_at_1(z: torch.Tensor, y: torch.Tensor) -> float:
    """Leave-one-out P@1 over queries that have another item of their class."""
    rows, labels = _rows(z), _labels(y)
    hits, n = 0, 0
    for i, q in enumerate(rows):
        if labels.count(labels[i]) < 2:
            continue
        n += 1
        _, j = _ranked(q, rows, i)[0]
        hits += labels[j] == labels[i]
    return hits / n


def naive_map_at_r(z: torch.Tensor, y: torch.Tensor) -> float:
    """MAP@R of Musgrave et al. (2020), leave-one-out, queries with R = 0 left out."""
    rows, labels = _rows(z), _labels(y)
    total, n = 0.0, 0
    for i, q in enumerate(rows):
        r = labels.count(labels[i]) - 1
        if r == 0:
            continue
        n += 1
        ranked = _ranked(q, rows, i)[:r]
        hits, ap = 0, 0.0
        for rank, (_, j) in enumerate(ranked, start=1):
            if labels[j] == labels[i]:
                hits += 1
                ap += hits / rank
        total += ap / r
    return total / n


def naive_triplet_accuracy(a: torch.Tensor, p: torch.Tensor, n: torch.Tensor) -> float:
    """Share of triplets with squared distance d(a, p) < d(a, n) on L2-normalised rows."""
    ra, rp, rn = _rows(a), _rows(p), _rows(n)
    good = 0
    for x, xp, xn in zip(ra, rp, rn, strict=True):
        d_ap = sum((u - v) ** 2 for u, v in zip(x, xp, strict=True))
        d_an = sum((u - v) ** 2 for u, v in zip(x, xn, strict=True))
        good += d_ap < d_an
    return good / len(ra)


def naive_ncm_predict(
    support_z: torch.Tensor, support_y: torch.Tensor, query_z: torch.Tensor
) -> list[int]:
    """Nearest class mean (Euclidean) on L2-normalised rows; ties to the smaller class."""
    rows, labels, queries = _rows(support_z), _labels(support_y), _rows(query_z)
    classes = sorted(set(labels))
    means = {}
    for c in classes:
        members = [r for r, lab in zip(rows, labels, strict=True) if lab == c]
        means[c] = [sum(col) / len(members) for col in zip(*members, strict=True)]
    preds = []
    for q in queries:
        dists = [(sum((u - v) ** 2 for u, v in zip(q, means[c], strict=True)), c) for c in classes]
        preds.append(min(dists)[1])
    return preds


def brute_force_matching_accuracy(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Clustering accuracy by trying every one-to-one map of cluster ids to class ids."""
    t, p = list(y_true), list(y_pred)
    classes, clusters = sorted(set(t)), sorted(set(p))
    # Pad with dummy classes so that every cluster can map somewhere (extra clusters are wrong).
    targets = classes + [None] * max(0, len(clusters) - len(classes))
    best = 0
    for perm in itertools.permutations(targets, len(clusters)):
        mapping = dict(zip(clusters, perm, strict=True))
        best = max(best, sum(mapping[b] == a for a, b in zip(t, p, strict=True)))
    return best / len(t)


def make_blobs(
    n: int, d: int, k: int, *, spread: float, seed: int, centre_seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points around ``k`` random centres (labels 0..k-1, every class present).

    Calls with the same ``centre_seed`` share centres (a train and a test split of one problem);
    ``seed`` draws the points.
    """
    centres = torch.randn(k, d, generator=torch.Generator().manual_seed(centre_seed))
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % k
    y = y[torch.randperm(n, generator=g)]
    return centres[y] + spread * torch.randn(n, d, generator=g), y
