"""Retrieval metrics on embeddings: precision@1, MAP@R and triplet accuracy.

Definitions follow Musgrave, Belongie and Lim, "A Metric Learning Reality Check" (ECCV 2020):
every item is a query against all *other* items of the same set (leave-one-out), similarity is the
cosine of L2-normalised features, and for a query of class ``c``, ``R`` is the number of other
items of class ``c``. Then

    MAP@R = mean over queries of  (1 / R) * sum_{i=1..R} P(i) * rel(i),

where ``rel(i)`` says whether the ``i``-th neighbour shares the query's class and ``P(i)`` is the
precision among the first ``i`` neighbours. As in the authors' library, queries whose class has no
other member (``R = 0``) are left out of both metrics.

Neighbours come from chunked similarity blocks and one ``topk(max R)`` per chunk (memory
``chunk * N`` floats plus ``chunk * max R`` indices), ranked with the same deterministic tie rule as
:mod:`mnistmax.eval.knn` (equal similarity: smaller index first; see there for the one caveat).
"""

from __future__ import annotations

import torch
from torch import Tensor

from mnistmax.eval.knn import chunked_topk, l2_normalize

__all__ = ["map_at_r", "precision_at_1", "retrieval_metrics", "triplet_accuracy"]


def _labels_and_counts(z: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Return labels as int64 on ``z``'s device and ``R`` per item (other items of its class)."""
    if z.dim() != 2:
        raise ValueError(f"features must be a 2-D (N, D) tensor, got shape {tuple(z.shape)}")
    if y.dim() != 1 or y.shape[0] != z.shape[0]:
        raise ValueError(f"labels must have shape ({z.shape[0]},), got {tuple(y.shape)}")
    if y.is_floating_point() or y.is_complex():
        raise ValueError(f"labels must be integers, got dtype {y.dtype}")
    if z.shape[0] < 2:
        raise ValueError("leave-one-out retrieval needs at least two items")
    # Any integer labels work: only equality matters, so map them to 0..C-1 first.
    _, inverse, counts = torch.unique(y.to(z.device), return_inverse=True, return_counts=True)
    return inverse, counts[inverse] - 1


def retrieval_metrics(z: Tensor, y: Tensor, *, chunk: int = 1024) -> dict[str, float]:
    """Compute ``precision_at_1`` and ``map_at_r`` in one pass over the similarities.

    Args:
        z: Embeddings (N, D).
        y: Integer labels (N,).
        chunk: Query rows per similarity block.

    Returns:
        ``{"precision_at_1": float, "map_at_r": float}``; queries with ``R = 0`` are left out.

    Raises:
        ValueError: If the inputs are malformed or no class has two or more items.
    """
    return _retrieval(z, y, chunk=chunk, full=True)


def precision_at_1(z: Tensor, y: Tensor, *, chunk: int = 1024) -> float:
    """Share of queries whose nearest other item (cosine) has the same label.

    Args:
        z: Embeddings (N, D).
        y: Integer labels (N,).
        chunk: Query rows per similarity block.

    Returns:
        Precision@1 in [0, 1] over queries with at least one other item of their class.
    """
    return _retrieval(z, y, chunk=chunk, full=False)["precision_at_1"]


def map_at_r(z: Tensor, y: Tensor, *, chunk: int = 1024) -> float:
    """Mean average precision at R (Musgrave et al., 2020), leave-one-out within ``z``.

    Args:
        z: Embeddings (N, D).
        y: Integer labels (N,).
        chunk: Query rows per similarity block.

    Returns:
        MAP@R in [0, 1] over queries with at least one other item of their class.
    """
    return _retrieval(z, y, chunk=chunk, full=True)["map_at_r"]


def _retrieval(z: Tensor, y: Tensor, *, chunk: int, full: bool) -> dict[str, float]:
    labels, r = _labels_and_counts(z, y)
    valid = r > 0
    n_valid = int(valid.sum().item())
    if n_valid == 0:
        raise ValueError("no class has two or more items, so no query has a relevant neighbour")
    k = int(r.max().item()) if full else 1
    zn = l2_normalize(z)
    # Per-query scores, summed once at the end: the total is then the same float for every chunk
    # size (summing per-chunk partial sums would change the rounding with the chunking).
    hit1 = torch.zeros(zn.shape[0], dtype=torch.float64, device=zn.device)
    ap = torch.zeros_like(hit1)
    # float64 for the per-query sums: cheap (chunk x max R) and keeps MAP@R exact to ~1e-15.
    ranks = torch.arange(1, k + 1, device=zn.device, dtype=torch.float64)
    for start, _, idx in chunked_topk(zn, zn, k, chunk=chunk, exclude_self=True):
        rows = slice(start, start + idx.shape[0])
        rel = (labels[idx] == labels[rows].unsqueeze(1)).to(torch.float64)
        hit1[rows] = rel[:, 0]
        if full:
            r_q = r[rows]
            # Only ranks 1..R of each query count; precision at rank i is hits so far / i.
            precision = rel.cumsum(dim=1) / ranks
            in_top_r = ranks <= r_q.unsqueeze(1)
            ap[rows] = (precision * rel * in_top_r).sum(dim=1) / r_q.clamp_min(1)
    out = {"precision_at_1": hit1[valid].sum().item() / n_valid}
    if full:
        out["map_at_r"] = ap[valid].sum().item() / n_valid
    return out


def triplet_accuracy(z_a: Tensor, z_p: Tensor, z_n: Tensor, *, squared: bool = True) -> float:
    """Share of triplets with ``d(a, p) < d(a, n)`` on L2-normalised embeddings.

    Ties (``d(a, p) == d(a, n)``) count as failures, so a collapsed embedding scores 0.

    Args:
        z_a: Anchors (T, D).
        z_p: Positives (T, D).
        z_n: Negatives (T, D).
        squared: Compare squared Euclidean distances (the ranking is the same either way; the
            flag only chooses which distance is computed).

    Returns:
        Accuracy in [0, 1].
    """
    if not (z_a.shape == z_p.shape == z_n.shape) or z_a.dim() != 2 or z_a.shape[0] == 0:
        raise ValueError(
            "anchors, positives and negatives must be non-empty (T, D) tensors of one shape, got "
            f"{tuple(z_a.shape)}, {tuple(z_p.shape)}, {tuple(z_n.shape)}"
        )
    a, p, n = l2_normalize(z_a), l2_normalize(z_p), l2_normalize(z_n)
    d_ap = (a - p).pow(2).sum(dim=1)
    d_an = (a - n).pow(2).sum(dim=1)
    if not squared:
        d_ap, d_an = d_ap.sqrt(), d_an.sqrt()
    return (d_ap < d_an).sum().item() / z_a.shape[0]
