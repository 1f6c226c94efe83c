"""Clustering quality of features: k-means (or a Gaussian mixture), then ACC, NMI and ARI.

Protocol (DESIGN.md §5): features are L2-normalised first, so that clustering sees the same cosine
geometry as kNN and retrieval (on the unit sphere squared Euclidean distance is ``2 - 2 cos``) and
the feature scale of an encoder does not matter. Optionally (``pca_dim``) the normalised features
are then projected on their own top principal components (an unsupervised step: no labels). Then

- ``kmeans``: scikit-learn ``KMeans`` (Lloyd, k-means++ seeding) with ``n_init`` restarts, keeping
  the lowest inertia;
- ``gmm``: scikit-learn ``GaussianMixture`` with ``n_init`` restarts (k-means initialisation),
  keeping the highest likelihood. ``covariance="diag"`` on the raw normalised features is cheap;
  ``covariance="full"`` models elongated, correlated clusters but needs ``D (D + 1) / 2`` numbers
  per component, so the evaluation pairs it with ``pca_dim`` (32 by default, see
  :class:`~mnistmax.config.EvalConfig`): a 32 x 32 covariance per class is well determined by 1k
  test points per class, and PCA-32 keeps most of the variance of a 64-128-d embedding.

Scores: ``acc`` is the clustering accuracy under the best one-to-one matching of clusters to
classes (Hungarian algorithm, ``scipy.optimize.linear_sum_assignment``), ``nmi`` is scikit-learn's
normalised mutual information (arithmetic mean normalisation) and ``ari`` the adjusted Rand index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from mnistmax.eval.knn import l2_normalize
from mnistmax.eval.metric import declare

#: k-means on the test features: Hungarian accuracy, NMI, ARI.
KMEANS_ACC = declare("kmeans_acc", "k-means ACC")
KMEANS_NMI = declare("kmeans_nmi", "NMI")
KMEANS_ARI = declare("kmeans_ari", "ARI")

__all__ = ["cluster_metrics", "hungarian_accuracy", "pca_reduce"]

Labels = Tensor | NDArray[np.integer] | Sequence[int]


def _as_numpy_labels(y: Labels, name: str) -> NDArray[np.int64]:
    if isinstance(y, Tensor):
        y = y.detach().cpu().numpy()
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer labels, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def hungarian_accuracy(y_true: Labels, y_pred: Labels) -> float:
    """Accuracy of ``y_pred`` after the best one-to-one relabelling of its values.

    Works with any integer label values and with different numbers of clusters and classes
    (unmatched clusters then count as wrong).

    Args:
        y_true: Ground-truth labels (N,).
        y_pred: Cluster assignments (N,).

    Returns:
        ``max over matchings m of mean(m(y_pred) == y_true)`` in [0, 1].
    """

    t = _as_numpy_labels(y_true, "y_true")
    p = _as_numpy_labels(y_pred, "y_pred")
    if t.shape != p.shape or t.size == 0:
        raise ValueError(
            f"y_true and y_pred must be non-empty and of one length, got {t.size}, {p.size}"
        )
    t_vals, t_idx = np.unique(t, return_inverse=True)
    p_vals, p_idx = np.unique(p, return_inverse=True)
    counts = np.bincount(p_idx * t_vals.size + t_idx, minlength=p_vals.size * t_vals.size)
    counts = counts.reshape(p_vals.size, t_vals.size)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum()) / t.size


def cluster_metrics(
    z: Tensor,
    y: Tensor,
    *,
    n_clusters: int | None = None,
    n_init: int = 10,
    seed: int = 0,
    method: Literal["kmeans", "gmm"] = "kmeans",
    covariance: Literal["diag", "full", "tied", "spherical"] = "diag",
    pca_dim: int | None = None,
) -> dict[str, float]:
    """Cluster L2-normalised features and score the clusters against the labels.

    Args:
        z: Features (N, D), any device.
        y: Integer labels (N,).
        n_clusters: Number of clusters; the number of distinct labels when ``None``.
        n_init: Restarts (the best by inertia / likelihood is kept); the protocol asks >= 10.
        seed: Seed of the restarts.
        method: ``"kmeans"`` or ``"gmm"``.
        covariance: The GMM's ``covariance_type`` (ignored by k-means).
        pca_dim: Project the normalised features on their top ``pca_dim`` principal components
            before clustering (``None``: no projection; a value >= D is no projection either).

    Returns:
        ``{"acc": ..., "nmi": ..., "ari": ...}``.
    """
    from sklearn.metrics import (  # scikit-learn: ~0.7 s to import; only the clustering here needs it
        adjusted_rand_score,
        normalized_mutual_info_score,
    )

    labels = _as_numpy_labels(y, "y")
    if z.dim() != 2 or z.shape[0] != labels.size:
        raise ValueError(f"z must have shape ({labels.size}, D), got {tuple(z.shape)}")
    if n_init < 1:
        raise ValueError(f"n_init must be at least 1, got {n_init}")
    k = int(np.unique(labels).size) if n_clusters is None else int(n_clusters)
    if not 1 <= k <= labels.size:
        raise ValueError(f"n_clusters must be in [1, {labels.size}], got {k}")
    # scikit-learn runs on the host; this is the one transfer, at the end of the torch work.
    x = l2_normalize(z).cpu().numpy()
    if pca_dim is not None:
        x = pca_reduce(x, pca_dim)
    pred = _fit_predict(x, k, n_init=n_init, seed=seed, method=method, covariance=covariance)
    return {
        "acc": hungarian_accuracy(labels, pred),
        "nmi": float(normalized_mutual_info_score(labels, pred)),
        "ari": float(adjusted_rand_score(labels, pred)),
    }


def pca_reduce(x: NDArray[np.float32], dim: int) -> NDArray[np.float32]:
    """``x`` (N, D) centred and projected on its top ``dim`` principal directions (float32).

    Deterministic (a full SVD; the sign of each direction is fixed by its largest entry). When
    ``dim >= D`` the input is returned unchanged: there is nothing to reduce.
    """
    if dim < 1:
        raise ValueError(f"pca_dim must be at least 1, got {dim}")
    if dim >= x.shape[1]:
        return x
    x64 = x.astype(np.float64)
    xc = x64 - x64.mean(axis=0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    basis = vt[:dim].T
    signs = np.sign(basis[np.abs(basis).argmax(axis=0), np.arange(dim)])
    basis = basis * np.where(signs == 0, 1.0, signs)
    return np.asarray(xc @ basis, dtype=np.float32)


def _fit_predict(
    x: NDArray[np.float32],
    k: int,
    *,
    n_init: int,
    seed: int,
    method: str,
    covariance: str = "diag",
) -> NDArray[np.int64]:
    if method == "kmeans":
        from sklearn.cluster import (
            KMeans,  # scikit-learn: ~0.7 s to import; only the clustering here needs it
        )

        km = KMeans(n_clusters=k, n_init=n_init, random_state=seed)
        return np.asarray(km.fit_predict(x), dtype=np.int64)
    if method == "gmm":
        from sklearn.mixture import (
            GaussianMixture,  # scikit-learn: ~0.7 s to import; only the clustering here needs it
        )

        if covariance not in ("diag", "full", "tied", "spherical"):
            raise ValueError(
                f"unknown GMM covariance {covariance!r}; use 'diag', 'full', 'tied' or 'spherical'"
            )
        gm = GaussianMixture(
            n_components=k,
            covariance_type=covariance,
            n_init=n_init,
            random_state=seed,
            reg_covar=1e-5,
        )
        return np.asarray(gm.fit_predict(x), dtype=np.int64)
    raise ValueError(f"unknown clustering method {method!r}; use 'kmeans' or 'gmm'")
