"""Preview figures of an augmentation preset: originals in the top row, augmented views below.

Array in, Figure out (matplotlib's object API on the Agg canvas; no pyplot state, never
``show()``); :func:`save_figure_atomic` writes it so a crash never leaves a half-written file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from mnistmax.augment.pipeline import Pipeline

__all__ = ["pick_examples", "plot_augment_grid", "render_views", "save_figure_atomic"]


def pick_examples(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` images cycling through the classes (0, 1, …, 9, 0, …), random within each.

    A class that runs out of images is skipped; fewer than ``n`` come back only when ``y`` holds
    fewer than ``n`` images.
    """
    rng = np.random.default_rng(seed)
    pools = [list(rng.permutation(np.flatnonzero(y == c))) for c in np.unique(y)]
    picked: list[int] = []
    while len(picked) < min(n, len(y)):
        for pool in pools:
            if pool and len(picked) < n:
                picked.append(int(pool.pop()))
    return np.asarray(picked, dtype=np.int64)


def render_views(images: np.ndarray, pipeline: Pipeline, *, views: int, seed: int) -> np.ndarray:
    """Originals and ``views`` augmented copies as one (1 + views, n, H, W) float array in [0, 1].

    All views are drawn in one batched call (every image of every view gets its own draw).

    Args:
        images: (n, H, W) uint8 images.
        pipeline: The augmentation to preview.
        views: Augmented rows to draw.
        seed: Seed of the torch generator.
    """
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0).unsqueeze(1)
    generator = torch.Generator().manual_seed(seed)
    out = pipeline(x.repeat(views, 1, 1, 1), generator=generator)
    rows = torch.cat([x, out]).view(1 + views, len(x), *x.shape[-2:])
    return rows.numpy()


def plot_augment_grid(rows: np.ndarray, *, title: str = "", gap: int = 2) -> Figure:
    """A grid of digits: row 0 labelled "original", rows 1… labelled "view 1", "view 2", ….

    Args:
        rows: (R, n, H, W) values in [0, 1]; row 0 holds the originals.
        title: Figure title.
        gap: Pixels between tiles (twice that under the originals).

    Returns:
        The Figure (Agg canvas); the caller saves or closes it.
    """
    n_rows, n_cols, h, w = rows.shape
    # One mosaic image and one Axes instead of R·n Axes: much faster to draw and save.
    row_y = [r * (h + gap) + (gap if r > 0 else 0) for r in range(n_rows)]
    height = row_y[-1] + h
    width = n_cols * (w + gap) - gap
    mosaic = np.full((height, width), 0.5, dtype=np.float32)
    for r in range(n_rows):
        for c in range(n_cols):
            x0 = c * (w + gap)
            mosaic[row_y[r] : row_y[r] + h, x0 : x0 + w] = rows[r, c]
    scale = 0.045  # inches per mosaic pixel
    fig = Figure(figsize=(width * scale + 1.2, height * scale + (0.5 if title else 0.2)))
    ax = fig.add_subplot()
    ax.imshow(mosaic, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([y + h / 2 - 0.5 for y in row_y])
    ax.set_yticklabels(["original"] + [f"view {r}" for r in range(1, n_rows)], fontsize=8)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def save_figure_atomic(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 120) -> Path:
    """Save ``fig`` to ``path`` via a temp file in the same folder and ``os.replace``.

    Parent folders are created. The format follows the file's extension (PNG by default).
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = out.suffix.lstrip(".").lower() or "png"
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
