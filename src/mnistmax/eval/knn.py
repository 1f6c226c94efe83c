"""Weighted k-nearest-neighbour classification on frozen features.

The protocol is the one self-supervised papers report (InstDisc, Wu et al. 2018; DINO, Caron et
al. 2021): features are L2-normalised, similarity is the cosine, and each of the ``k`` nearest
training items votes for its class with weight ``exp(s / tau)``. ``k = 1`` is plain 1-NN (one vote).

Speed: queries are processed in chunks of ``chunk`` rows, so memory is ``chunk x N_train`` floats
(2,048 x 55,000 x 4 B = 450 MB at the default; lower ``chunk`` on small machines), and a single
``topk(max(ks))`` per chunk serves every ``k``.

Determinism: neighbours with equal similarity are ranked by ascending training index, and a tie
in the vote goes to the smallest class label, whatever the chunk size or device. One caveat: BLAS
picks kernels by matrix shape, so the last bit of a float32 dot product can change with the chunk
size (e.g. 1-row chunks take a matrix-vector path). Similarities that are equal only in exact
arithmetic (say, from different integer-valued vectors) can then order differently; results on
real features are identical across chunk sizes in our tests.

The chunked, tie-stable top-k helpers here are shared with :mod:`mnistmax.eval.retrieval`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from mnistmax.eval.metric import declare

#: The table's kNN column (``test/knn@k`` for every k in ``eval.knn_ks`` is written).
KNN_AT_20 = declare("knn@20", "kNN@20")

__all__ = ["knn_accuracy", "knn_predict", "l2_normalize", "topk_stable"]


def l2_normalize(z: Tensor) -> Tensor:
    """Return float32 rows scaled to unit L2 norm (zero rows stay zero).

    Args:
        z: Features of shape (N, D), any floating or integer dtype.

    Returns:
        A float32 tensor of shape (N, D) on the same device.
    """
    if z.dim() != 2:
        raise ValueError(f"features must be a 2-D (N, D) tensor, got shape {tuple(z.shape)}")
    return F.normalize(z.detach().to(torch.float32), dim=1)


def check_labels(y: Tensor, n: int, name: str, device: torch.device) -> Tensor:
    """Validate a label vector of length ``n`` and return it as int64 on ``device``."""
    if y.dim() != 1 or y.shape[0] != n:
        raise ValueError(f"{name} must be a 1-D tensor of length {n}, got shape {tuple(y.shape)}")
    if y.is_floating_point() or y.is_complex():
        raise ValueError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    return y.detach().to(device=device, dtype=torch.int64)


def infer_num_classes(*ys: Tensor) -> int:
    """Number of classes implied by non-negative integer labels: ``max + 1`` over all vectors."""
    nonempty = [y for y in ys if y.numel() > 0]
    if not nonempty:
        raise ValueError("cannot infer the number of classes from empty label tensors")
    lo = min(int(y.min().item()) for y in nonempty)
    if lo < 0:
        raise ValueError(f"class labels must be non-negative, found {lo}")
    return max(int(y.max().item()) for y in nonempty) + 1


def topk_stable(sim: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Row-wise top-``k`` ranked by (similarity descending, column index ascending).

    ``torch.topk`` leaves the choice among equal values unspecified; equal similarities are common
    (duplicate images, collapsed encoders), and the answer must not depend on chunk size or device.
    The rule is: a smaller column index wins a tie, both for entering the top-k and for its order.

    Args:
        sim: Similarities of shape (C, N).
        k: Number of entries to keep, ``1 <= k <= N``.

    Returns:
        ``(values, indices)``, each of shape (C, k), best first.
    """
    n = sim.shape[1]
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, {n}], got {k}")
    top_vals, top_idx = sim.topk(min(k + 1, n), dim=1, largest=True, sorted=True)
    vals, idx = top_vals[:, :k], top_idx[:, :k]
    # Rows whose kept list holds equal values: topk ordered those arbitrarily. Checking this is
    # cheap, and on real features few rows need the two extra sorts below.
    reorder = (vals[:, 1:] == vals[:, :-1]).any(dim=1)
    if k < n:
        # One extra entry tells whether the k-th value ties with an entry left out: then topk's
        # choice among the tied columns is arbitrary and those rows are redone with the explicit
        # rule. This costs nothing extra, where counting `sim >= kth` would be a second pass.
        fix = (top_vals[:, k] == top_vals[:, k - 1]).nonzero().squeeze(1)
        if fix.numel() > 0:
            sub = sim[fix]
            kth = vals[fix, k - 1 :]
            above = sub > kth
            equal = sub == kth
            room = k - above.sum(dim=1, keepdim=True)
            take = above | (equal & (equal.cumsum(dim=1) <= room))
            # Exactly k entries are taken per row; nonzero() lists them row-major.
            new_idx = take.nonzero()[:, 1].view(-1, k)
            idx[fix] = new_idx
            vals[fix] = sub.gather(1, new_idx)
            reorder[fix] = True
    rows = reorder.nonzero().squeeze(1)
    if rows.numel() > 0:
        # Order by index ascending first, then a stable sort on value descending.
        sub_idx, order = idx[rows].sort(dim=1)
        sub_vals, order = vals[rows].gather(1, order).sort(dim=1, descending=True, stable=True)
        idx[rows] = sub_idx.gather(1, order)
        vals[rows] = sub_vals
    return vals, idx


def chunked_topk(
    bank: Tensor,
    query: Tensor,
    k: int,
    *,
    chunk: int,
    exclude_self: bool = False,
) -> Iterator[tuple[int, Tensor, Tensor]]:
    """Yield ``(start, sims, indices)`` of the top-``k`` bank rows for each chunk of queries.

    Both inputs must already be L2-normalised float32. With ``exclude_self`` query ``i`` never
    retrieves bank row ``i`` (leave-one-out when the query set is the bank).
    """
    if chunk < 1:
        raise ValueError(f"chunk must be a positive number of query rows, got {chunk}")
    n_query, n_bank = query.shape[0], bank.shape[0]
    bank_t = bank.t()
    # One similarity buffer for all chunks: a fresh chunk x N allocation per chunk costs about a
    # third of the matmul itself in page faults on CPU.
    buffer = torch.empty(min(chunk, n_query) * n_bank, dtype=bank.dtype, device=bank.device)
    for start in range(0, n_query, chunk):
        rows = min(chunk, n_query - start)
        sim = buffer[: rows * n_bank].view(rows, n_bank)
        torch.mm(query[start : start + rows], bank_t, out=sim)
        if exclude_self:
            r = torch.arange(rows, device=sim.device)
            sim[r, r + start] = float("-inf")
        vals, idx = topk_stable(sim, k)
        yield start, vals, idx


def _check_pair(train_z: Tensor, query_z: Tensor) -> None:
    if train_z.dim() != 2 or query_z.dim() != 2 or train_z.shape[1] != query_z.shape[1]:
        raise ValueError(
            "train and query features must be 2-D with the same width, got "
            f"{tuple(train_z.shape)} and {tuple(query_z.shape)}"
        )
    if train_z.device != query_z.device:
        raise ValueError(f"train and query features are on {train_z.device} and {query_z.device}")


def _knn_predictions(
    train_z: Tensor,
    train_y: Tensor,
    query_z: Tensor,
    ks: Sequence[int],
    tau: float,
    num_classes: int | None,
    chunk: int,
    exclude_self: bool,
    extra_labels: Sequence[Tensor] = (),
) -> dict[int, Tensor]:
    """Predicted labels for each ``k``: one similarity pass and one top-k per chunk for all ``k``."""
    _check_pair(train_z, query_z)
    if not ks or any(int(k) < 1 for k in ks):
        raise ValueError(f"ks must be a non-empty sequence of positive integers, got {ks}")
    if tau <= 0:
        raise ValueError(f"tau must be positive, got {tau}")
    n_train, n_query = train_z.shape[0], query_z.shape[0]
    if exclude_self and n_train != n_query:
        raise ValueError(
            f"exclude_self needs the query set to be the bank, got {n_query} queries and "
            f"{n_train} bank rows"
        )
    available = n_train - int(exclude_self)
    if available < 1:
        raise ValueError("the training bank has no items to vote")
    device = train_z.device
    bank_y = check_labels(train_y, n_train, "train_y", device)
    if num_classes is None:
        num_classes = infer_num_classes(bank_y, *extra_labels)
    # A k larger than the bank means "all of it"; clamping keeps small test banks usable.
    eff = {int(k): min(int(k), available) for k in ks}
    kmax = max(eff.values())
    bank = l2_normalize(train_z)
    query = l2_normalize(query_z)
    out = {k: torch.empty(n_query, dtype=torch.int64, device=device) for k in eff}
    for start, sims, idx in chunked_topk(bank, query, kmax, chunk=chunk, exclude_self=exclude_self):
        # Shifting by the row's best similarity leaves every vote ratio unchanged and keeps
        # exp() finite for small tau (exp(1 / 0.01) = e^100 overflows float32).
        weights = torch.exp((sims - sims[:, :1]) / tau)
        votes = F.one_hot(bank_y[idx], num_classes).to(weights.dtype) * weights.unsqueeze(-1)
        for k, ke in eff.items():
            # argmax returns the first maximum: vote ties go to the smallest class label.
            out[k][start : start + sims.shape[0]] = votes[:, :ke].sum(dim=1).argmax(dim=1)
    return out


def knn_predict(
    train_z: Tensor,
    train_y: Tensor,
    query_z: Tensor,
    *,
    k: int = 20,
    tau: float = 0.07,
    num_classes: int | None = None,
    chunk: int = 2048,
    exclude_self: bool = False,
) -> Tensor:
    """Predict labels of ``query_z`` by weighted kNN over the bank ``(train_z, train_y)``.

    Args:
        train_z: Bank features (N, D).
        train_y: Bank labels (N,), integers in ``[0, num_classes)``.
        query_z: Query features (M, D) on the same device.
        k: Number of neighbours; clamped to the bank size.
        tau: Temperature of the vote weights ``exp(s / tau)``.
        num_classes: Number of classes; inferred from ``train_y`` when ``None``.
        chunk: Query rows per similarity block.
        exclude_self: Leave-one-out: query ``i`` ignores bank row ``i`` (needs ``M == N``).

    Returns:
        int64 predictions of shape (M,) on the features' device.
    """
    preds = _knn_predictions(train_z, train_y, query_z, (k,), tau, num_classes, chunk, exclude_self)
    return preds[int(k)]


def knn_accuracy(
    train_z: Tensor,
    train_y: Tensor,
    query_z: Tensor,
    query_y: Tensor,
    *,
    ks: Sequence[int] = (1, 20, 200),
    tau: float = 0.07,
    num_classes: int | None = None,
    chunk: int = 2048,
    exclude_self: bool = False,
) -> dict[int, float]:
    """Weighted-kNN accuracy of the queries for every ``k`` in ``ks`` (one pass for all ``k``).

    Args:
        train_z: Bank features (N, D).
        train_y: Bank labels (N,).
        query_z: Query features (M, D) on the same device.
        query_y: Query labels (M,).
        ks: Neighbour counts; each is clamped to the bank size.
        tau: Temperature of the vote weights ``exp(s / tau)`` (0.07 as in InstDisc/DINO).
        num_classes: Number of classes; inferred from both label vectors when ``None``.
        chunk: Query rows per similarity block (memory ``chunk * N * 4`` bytes).
        exclude_self: Leave-one-out: query ``i`` ignores bank row ``i`` (needs ``M == N``).

    Returns:
        ``{k: accuracy in [0, 1]}``.
    """
    device = train_z.device
    qy = check_labels(query_y, query_z.shape[0], "query_y", device)
    if qy.numel() == 0:
        raise ValueError("knn_accuracy needs at least one query")
    preds = _knn_predictions(
        train_z, train_y, query_z, ks, tau, num_classes, chunk, exclude_self, extra_labels=(qy,)
    )
    correct = {k: (p == qy).sum() for k, p in preds.items()}
    # The only host transfers happen here, once per k.
    return {int(k): correct[int(k)].item() / qy.numel() for k in ks}
