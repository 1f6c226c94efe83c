"""2-D projections of embeddings and scatter plots with one fixed colour per class."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def class_colors(num_classes: int) -> np.ndarray:
    """A fixed RGBA colour per class (tab10, then tab20 for more classes)."""

    cmap = colormaps["tab10" if num_classes <= 10 else "tab20"]
    return np.asarray([cmap(i % cmap.N) for i in range(num_classes)])


def pca_basis(z: np.ndarray, n_components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Mean and top principal directions (D, n_components) of ``z`` via SVD."""
    mean = z.mean(0)
    _, _, vt = np.linalg.svd(z - mean, full_matrices=False)
    basis = vt[:n_components].T
    # Fix the sign so the same data always gives the same picture.
    signs = np.sign(basis[np.abs(basis).argmax(0), range(basis.shape[1])])
    return mean, basis * np.where(signs == 0, 1.0, signs)


def pca_2d(z: np.ndarray) -> np.ndarray:
    """Project ``z`` (N, D) onto its first two principal components."""
    mean, basis = pca_basis(z)
    return (z - mean) @ basis


def scatter_ax(
    ax: Axes, coords: np.ndarray, labels: np.ndarray, class_names: Sequence[str]
) -> None:
    """Scatter ``coords`` coloured by class with a legend."""
    colors = class_colors(len(class_names))
    for c, name in enumerate(class_names):
        m = labels == c
        ax.scatter(
            coords[m, 0], coords[m, 1], s=10, color=colors[c], label=name, alpha=0.85, linewidths=0
        )
    ax.legend(
        loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, markerscale=1.5, frameon=False
    )


def embedding_scatter(
    coords: np.ndarray, labels: np.ndarray, class_names: Sequence[str], *, title: str = ""
) -> Figure:
    """A 2-D scatter of an embedding, one colour per class."""
    fig = Figure(figsize=(6.4, 5.0), dpi=100)
    ax = fig.add_subplot()
    scatter_ax(ax, coords, labels, class_names)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    return fig
