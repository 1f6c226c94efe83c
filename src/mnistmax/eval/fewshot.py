"""Few-shot evaluation: a classifier fit on ``n`` labelled training items per class.

Protocol (DESIGN.md §5): for each draw, ``n`` items per class are drawn uniformly without
replacement from the training split (stratified: exactly ``n`` of every class present in
``train_y``), a classifier is fit on them, and accuracy is measured on the whole test split. We
report the mean and the sample standard deviation (ddof = 1; 0 for a single draw) over draws.

Draws are nested: draw ``d`` shuffles every class once and the ``n``-shot set is the first ``n``
items of each shuffled class, so the 1-shot set lies inside the 5-shot set of the same draw. This
makes differences between shot counts less noisy; draws are independent of each other. Sampling
uses a CPU ``torch.Generator`` seeded with ``seed``, so the same seed gives the same draws on any
device.

Classifiers, both on L2-normalised features:

- ``"logreg"``: multinomial logistic regression (the L-BFGS solver of
  :mod:`mnistmax.eval.linear_probe`) with a fixed penalty and no validation split. The default
  penalty is scikit-learn's default ``C = 1`` (``weight_decay = 1 / n_support``), as in Tian et
  al., "Rethinking Few-Shot Image Classification" (ECCV 2020), who fit scikit-learn's logistic
  regression on L2-normalised features.
- ``"ncm"``: nearest class mean (Mensink et al., 2013): each test item goes to the class whose
  support mean is nearest in Euclidean distance (ties to the smaller class).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor

from mnistmax.eval.knn import check_labels, l2_normalize
from mnistmax.eval.linear_probe import fit_logistic, predict_logistic
from mnistmax.eval.metric import declare

#: The table's few-shot column (``fewshot@N`` for every N in ``eval.fewshot_shots``).
FEWSHOT_10 = declare("fewshot@10", "10-shot")

__all__ = ["fewshot_eval", "fewshot_splits", "ncm_predict"]


def fewshot_splits(
    train_y: Tensor, *, shots: Sequence[int], draws: int, seed: int = 0
) -> list[dict[int, Tensor]]:
    """Stratified, nested support sets: ``result[d][n]`` holds ``n`` indices per class.

    Args:
        train_y: Training labels (N,), any device.
        shots: Items per class, e.g. ``(1, 5, 10, 100)``.
        draws: Number of independent draws.
        seed: Seed of the CPU generator.

    Returns:
        One ``{n: int64 indices into train_y}`` per draw, on ``train_y``'s device, grouped by
        class (ascending label) and in draw order within a class.

    Raises:
        ValueError: If a class has fewer than ``max(shots)`` items, or the arguments are invalid.
    """
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    if not shots or any(int(n) < 1 for n in shots):
        raise ValueError(f"shots must be positive integers, got {shots}")
    if train_y.dim() != 1:
        raise ValueError(f"train_y must be 1-D, got shape {tuple(train_y.shape)}")
    y = check_labels(train_y, train_y.shape[0], "train_y", torch.device("cpu"))
    n_max = max(int(n) for n in shots)
    classes, counts = torch.unique(y, return_counts=True)
    if classes.numel() == 0:
        raise ValueError("train_y is empty")
    short = counts < n_max
    if bool(short.any()):
        c = int(classes[short][0])
        raise ValueError(
            f"class {c} has {int(counts[short][0])} training items, fewer than the {n_max} shots asked"
        )
    members = [torch.nonzero(y == c).squeeze(1) for c in classes.tolist()]
    g = torch.Generator().manual_seed(seed)
    out: list[dict[int, Tensor]] = []
    for _ in range(draws):
        shuffled = [m[torch.randperm(m.numel(), generator=g)[:n_max]] for m in members]
        out.append(
            {int(n): torch.cat([s[: int(n)] for s in shuffled]).to(train_y.device) for n in shots}
        )
    return out


def ncm_predict(support_z: Tensor, support_y: Tensor, query_z: Tensor, num_classes: int) -> Tensor:
    """Nearest-class-mean predictions (Euclidean to each class mean, ties to the smaller class).

    Args:
        support_z: Support features (S, D), already preprocessed.
        support_y: Support labels (S,) in ``[0, num_classes)``; every class must be present.
        query_z: Query features (Q, D).
        num_classes: K.

    Returns:
        int64 predictions (Q,).
    """
    sums = torch.zeros(
        num_classes, support_z.shape[1], dtype=support_z.dtype, device=support_z.device
    )
    sums.index_add_(0, support_y, support_z)
    counts = torch.bincount(support_y, minlength=num_classes).clamp_min(1).to(support_z.dtype)
    means = sums / counts.unsqueeze(1)
    # argmin ||q - m||^2 = argmax (2 q.m - ||m||^2); ||q||^2 is the same for every class.
    scores = 2.0 * (query_z @ means.t()) - means.pow(2).sum(dim=1)
    return scores.argmax(dim=1)


def fewshot_eval(
    train_z: Tensor,
    train_y: Tensor,
    test_z: Tensor,
    test_y: Tensor,
    *,
    shots: Sequence[int] = (1, 5, 10, 100),
    draws: int = 5,
    seed: int = 0,
    classifier: Literal["logreg", "ncm"] = "logreg",
    weight_decay: float | None = None,
    max_iter: int = 100,
) -> dict[str, float]:
    """Few-shot test accuracy, mean and std over draws, for each shot count.

    Args:
        train_z: Training features (N, D) to draw support sets from.
        train_y: Training labels (N,).
        test_z: Test features (T, D) on the same device.
        test_y: Test labels (T,).
        shots: Labelled items per class.
        draws: Random draws per shot count (the protocol asks >= 5).
        seed: Seed of the draws.
        classifier: ``"logreg"`` or ``"ncm"``.
        weight_decay: Logistic-regression penalty; ``None`` means ``1 / n_support`` (scikit-learn's
            ``C = 1``). Ignored by ``"ncm"``.
        max_iter: L-BFGS iterations of the logistic regression.

    Returns:
        ``{"fewshot@{n}": mean accuracy, "fewshot@{n}_std": std}`` for every ``n`` in ``shots``.
    """
    if classifier not in ("logreg", "ncm"):
        raise ValueError(f"unknown few-shot classifier {classifier!r}; use 'logreg' or 'ncm'")
    if train_z.dim() != 2 or test_z.dim() != 2 or train_z.shape[1] != test_z.shape[1]:
        raise ValueError(
            f"train_z and test_z must be 2-D of one width, got {tuple(train_z.shape)}, {tuple(test_z.shape)}"
        )
    device = train_z.device
    y_tr = check_labels(train_y, train_z.shape[0], "train_y", device)
    y_te = check_labels(test_y, test_z.shape[0], "test_y", device)
    if y_te.numel() == 0:
        raise ValueError("few-shot evaluation needs at least one test item")
    x_tr = l2_normalize(train_z)
    x_te = l2_normalize(test_z.to(device))
    # Classes as they appear in train_y, mapped to 0..K-1 for the classifiers.
    classes = torch.unique(y_tr)
    splits = fewshot_splits(y_tr, shots=shots, draws=draws, seed=seed)
    accs: dict[int, list[Tensor]] = {int(n): [] for n in shots}
    for split in splits:
        for n, idx in split.items():
            sx = x_tr[idx]
            sy = torch.searchsorted(classes, y_tr[idx])
            if classifier == "ncm":
                pred = ncm_predict(sx, sy, x_te, classes.numel())
            else:
                wd = 1.0 / idx.numel() if weight_decay is None else weight_decay
                params = fit_logistic(sx, sy, classes.numel(), wd, max_iter=max_iter)
                pred = predict_logistic(x_te, params)
            accs[n].append((classes[pred] == y_te).to(torch.float64).mean())
    out: dict[str, float] = {}
    for n, values in accs.items():
        v = torch.stack(values).cpu().tolist()
        mean = sum(v) / len(v)
        std = math.sqrt(sum((a - mean) ** 2 for a in v) / (len(v) - 1)) if len(v) > 1 else 0.0
        out[f"fewshot@{n}"] = mean
        out[f"fewshot@{n}_std"] = std
    return out
