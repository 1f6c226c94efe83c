"""The clustering-evolution animation: one frame per epoch in ONE PCA basis with fixed axes.

The reference re-fitted PCA each epoch, so clusters jumped around; here the basis is fitted once
on the final epoch's embeddings and every epoch is projected onto it, so the frames show
clusters forming.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from mnistmax.io import atomic_path
from mnistmax.viz.projections import class_colors, pca_basis

_AXIS_LABELS = {
    "pca": ("PC 1 (final-epoch basis)", "PC 2"),
    "tsne": ("t-SNE 1", "t-SNE 2"),
    "umap": ("UMAP 1", "UMAP 2"),
}


def render_frames(
    coords: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    *,
    titles: Sequence[str] | None = None,
    kind: str = "pca",
) -> list[Image.Image]:
    """Draw ``coords`` (frames, N, 2) as images with one fixed colour per class and fixed axes."""

    flat = coords.reshape(-1, 2)
    lo, hi = flat.min(0), flat.max(0)
    pad = 0.05 * (hi - lo + 1e-9)
    fig = Figure(figsize=(6.0, 4.8), dpi=80)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    colors = class_colors(len(class_names))
    scat = ax.scatter(coords[0, :, 0], coords[0, :, 1], s=14, c=colors[labels], linewidths=0)
    for c, name in enumerate(class_names):
        ax.scatter([], [], s=14, color=colors[c], label=name)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    xlabel, ylabel = _AXIS_LABELS.get(kind, ("", ""))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if kind != "pca":  # t-SNE / UMAP coordinates carry no meaning of their own
        ax.set_xticks([])
        ax.set_yticks([])
    title = ax.set_title(titles[0] if titles else "epoch 0")  # reserves the title's room
    fig.tight_layout()
    # Blitting: the axes, ticks and legend are drawn once; each frame restores that background
    # and draws only the points and the title (21 frames: 0.18-0.44 s instead of 0.86-2.9 s).
    scat.set_animated(True)
    title.set_animated(True)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    frames = []
    for i in range(len(coords)):
        canvas.restore_region(background)
        scat.set_offsets(coords[i])
        title.set_text(titles[i] if titles else f"epoch {i}")
        ax.draw_artist(scat)
        ax.draw_artist(title)
        frames.append(Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3].copy()))
    return frames


def pca_evolution_frames(
    trace: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    *,
    titles: Sequence[str] | None = None,
) -> list[Image.Image]:
    """Render ``trace`` (frames, N, D) as images in one PCA basis with fixed axis limits."""
    mean, basis = pca_basis(trace[-1])
    return render_frames((trace - mean) @ basis, labels, class_names, titles=titles, kind="pca")


def save_gif(frames: Sequence[Image.Image], path: str | Path, *, ms_per_frame: int = 400) -> None:
    """Write an animated GIF atomically (the last frame is held a little longer).

    Frames are quantised to 256 colours with the fast octree method
    (5-8x faster than Pillow's default median cut, with no visible difference).
    """
    durations = [ms_per_frame] * (len(frames) - 1) + [ms_per_frame * 4]
    quantised = [f.quantize(colors=256, method=Image.Quantize.FASTOCTREE) for f in frames]
    with atomic_path(path, suffix=".gif") as tmp:
        quantised[0].save(
            tmp, save_all=True, append_images=quantised[1:], duration=durations, loop=0
        )


def save_png(image: Image.Image, path: str | Path) -> None:
    """Write a PNG atomically."""
    with atomic_path(path, suffix=".png") as tmp:
        image.save(tmp)
