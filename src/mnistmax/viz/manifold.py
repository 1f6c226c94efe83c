"""2-D maps of embeddings: PCA, t-SNE (openTSNE) and UMAP behind one function.

``project_2d(z, kind, init=...)`` is what every plot, animation and the report's explorer call.
``init`` lets an animation start each frame from the previous frame's map so points do not jump
(t-SNE and UMAP are otherwise free to rotate, mirror and shuffle clusters between runs).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from mnistmax.errors import ConfigError
from mnistmax.viz.projections import pca_2d

Kind = Literal["pca", "tsne", "umap"]
KINDS: tuple[str, ...] = ("pca", "tsne", "umap")


def _standardise(y: np.ndarray) -> np.ndarray:
    """Centre a map and scale its first axis to std 1e-4 (openTSNE's own initialisations)."""
    y = y - y.mean(0)
    return y / (y[:, 0].std() + 1e-12) * 1e-4


def project_2d(
    z: np.ndarray,
    kind: str,
    *,
    seed: int = 0,
    init: np.ndarray | None = None,
    n_jobs: int = 1,
) -> np.ndarray:
    """Map ``z`` (N, D) to (N, 2) float32 with ``kind`` in pca|tsne|umap.

    ``init`` (N, 2), optional: start t-SNE/UMAP from this map (e.g. the previous frame's);
    ignored by PCA, which is deterministic. Inputs are L2-normalised first for t-SNE and UMAP
    (cosine geometry, like the kNN evaluation).
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown projection {kind!r}; choose one of {', '.join(KINDS)}")
    z = np.asarray(z, dtype=np.float32)
    if z.ndim != 2 or len(z) < 5:
        raise ConfigError(f"need an (N >= 5, D) array of embeddings, got shape {z.shape}")
    if init is not None and init.shape != (len(z), 2):
        raise ConfigError(f"init must have shape ({len(z)}, 2), got {init.shape}")
    if kind == "pca":
        return pca_2d(z).astype(np.float32)
    zn = z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-12)
    if kind == "tsne":
        from openTSNE import TSNE

        start: np.ndarray | str = "pca" if init is None else _standardise(init.astype(np.float64))
        perplexity = float(min(30.0, max(2.0, (len(z) - 1) / 3.0)))
        emb = TSNE(
            n_components=2,
            perplexity=perplexity,
            metric="euclidean",
            initialization=start,
            random_state=seed,
            n_jobs=n_jobs,
            verbose=False,
        ).fit(zn)
        return np.asarray(emb, dtype=np.float32)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap's n_jobs/random_state notice
        import umap

        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=int(min(15, len(z) - 1)),
            min_dist=0.1,
            metric="euclidean",
            init="spectral" if init is None else init.astype(np.float32),
            random_state=seed,
            n_jobs=n_jobs,
        )
        return np.asarray(reducer.fit_transform(zn), dtype=np.float32)
