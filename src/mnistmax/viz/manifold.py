"""2-D maps of embeddings: PCA, t-SNE (openTSNE) and UMAP behind one function.

``project_2d(z, kind, init=...)`` is what every plot, animation and the report's explorer call.
``init`` continues a finished map instead of starting afresh (animations: each frame from its
neighbour's map): t-SNE keeps the map's scale and runs 250 iterations with no early
exaggeration, UMAP runs 50 epochs from it. A full refit from a shrunk copy of the previous map
rearranges clusters almost as much as an independent fit (median point move 0.46 vs 0.47 of the
map radius between frames of a 12-epoch trace; continuing: 0.24; UMAP 0.77 / 0.54 / 0.37).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from mnistmax.errors import ConfigError
from mnistmax.extras import installed, missing, require
from mnistmax.viz.projections import pca_2d

Kind = Literal["pca", "tsne", "umap"]
KINDS: tuple[str, ...] = ("pca", "tsne", "umap")
# The maps that the 'maps' extra brings: kind -> (module, what needs it).
EXTRA_KINDS: dict[str, tuple[str, str]] = {
    "tsne": ("openTSNE", "t-SNE maps"),
    "umap": ("umap", "UMAP maps"),
}


def available_kinds() -> tuple[str, ...]:
    """PCA, and t-SNE and UMAP where the 'maps' extra is installed."""
    return tuple(k for k in KINDS if k not in EXTRA_KINDS or installed(EXTRA_KINDS[k][0]))


def check_kinds(kinds: Sequence[str]) -> None:
    """Fail early, in one sentence, on a map kind whose extra is not installed."""
    for kind in kinds:
        if kind in EXTRA_KINDS and not installed(EXTRA_KINDS[kind][0]):
            raise missing(EXTRA_KINDS[kind][1], "maps")


def _backend(kind: str) -> Any:
    module, feature = EXTRA_KINDS[kind]
    return require(module, "maps", feature)


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
    start = None if init is None else np.asarray(init, dtype=np.float64) - init.mean(0)
    if kind == "tsne":
        TSNE = _backend("tsne").TSNE

        # A continued map is wider than openTSNE's std-1e-4 starting point on purpose (no early
        # exaggeration phase to expand it), which it would warn about.
        tsne_log = logging.getLogger("openTSNE")
        level = tsne_log.level
        tsne_log.setLevel(logging.ERROR)
        try:
            emb = TSNE(
                n_components=2,
                perplexity=float(min(30.0, max(2.0, (len(z) - 1) / 3.0))),
                metric="euclidean",
                initialization="pca" if start is None else start,
                early_exaggeration_iter=250 if start is None else 0,
                n_iter=500 if start is None else 250,
                random_state=seed,
                n_jobs=n_jobs,
                verbose=False,
            ).fit(zn)
        finally:
            tsne_log.setLevel(level)
        return np.asarray(emb, dtype=np.float32)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap's n_jobs/random_state notice
        umap = _backend("umap")
        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=int(min(15, len(z) - 1)),
            min_dist=0.1,
            metric="euclidean",
            init="spectral" if start is None else start.astype(np.float32),
            n_epochs=None if start is None else 50,
            random_state=seed,
            n_jobs=n_jobs,
        )
        return np.asarray(reducer.fit_transform(zn), dtype=np.float32)
