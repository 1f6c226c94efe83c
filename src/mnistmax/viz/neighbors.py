"""Nearest-neighbour grids: fixed test queries and their closest training images.

Each row shows one query (a test digit) and its ``k`` most similar training images under the
cosine similarity of encoder features (the geometry of the kNN evaluation), best first. A
neighbour whose label differs from the query's gets a red frame, so the errors of the embedding
are visible at a glance. ``mnistmax viz RUN --kind neighbors`` picks fixed queries with
:func:`mnistmax.augment.preview.pick_examples` (cycling through the classes, a seeded draw within
each), so two runs on one dataset show the same digits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from mnistmax.eval.knn import l2_normalize, topk_stable

__all__ = ["nearest_neighbors", "neighbor_grid"]

WRONG = "#d62728"


def nearest_neighbors(
    query_z: torch.Tensor, bank_z: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosine top-``k`` of each query in the bank: ``(similarities, indices)``, each (Q, k).

    Features are L2-normalised first; equal similarities go to the smaller bank index.
    """
    q = l2_normalize(query_z)
    b = l2_normalize(bank_z).to(q.device)
    return topk_stable(q @ b.t(), k)


def neighbor_grid(
    query_x: np.ndarray,
    query_y: np.ndarray,
    neighbor_x: np.ndarray,
    neighbor_y: np.ndarray,
    sims: np.ndarray,
    class_names: Sequence[str],
    *,
    title: str = "",
) -> Figure:
    """A (Q, 1 + k) grid: the query, then its neighbours; wrong-label neighbours framed in red.

    Args:
        query_x: (Q, H, W) query images in [0, 1].
        query_y: (Q,) query labels.
        neighbor_x: (Q, k, H, W) neighbour images, best first.
        neighbor_y: (Q, k) neighbour labels.
        sims: (Q, k) cosine similarities, shown under each neighbour.
        class_names: Names of the classes.
        title: Figure title.
    """
    q, k = neighbor_y.shape
    fig = Figure(figsize=(1.0 * (k + 1) + 0.4, 1.15 * q + 0.5), dpi=100)
    axes = fig.subplots(q, k + 1, squeeze=False)
    for r in range(q):
        cells = [(query_x[r], None, None)] + [
            (neighbor_x[r, j], int(neighbor_y[r, j]), float(sims[r, j])) for j in range(k)
        ]
        for c, (img, label, sim) in enumerate(cells):
            ax = axes[r, c]
            ax.imshow(img, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if label is None:
                ax.set_title(f"query {class_names[int(query_y[r])]}", fontsize=7)
                for spine in ax.spines.values():
                    spine.set_edgecolor("#1f77b4")
                    spine.set_linewidth(2.0)
                continue
            wrong = label != int(query_y[r])
            ax.set_title(
                f"{class_names[label]} {sim:.2f}", fontsize=7, color=WRONG if wrong else "k"
            )
            for spine in ax.spines.values():
                spine.set_edgecolor(WRONG if wrong else "white")
                spine.set_linewidth(3.0 if wrong else 0.5)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
