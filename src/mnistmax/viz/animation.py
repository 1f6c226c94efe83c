"""The clustering-evolution animation: one frame per epoch in ONE PCA basis with fixed axes.

The reference re-fitted PCA each epoch, so clusters jumped around; here the basis is fitted once
on the final epoch's embeddings and every epoch is projected onto it, so the frames show
clusters forming.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from mnistmax.io import atomic_path
from mnistmax.viz.projections import class_colors, pca_basis


def pca_evolution_frames(
    trace: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    *,
    titles: Sequence[str] | None = None,
) -> list[Image.Image]:
    """Render ``trace`` (frames, N, D) as images in one PCA basis with fixed axis limits."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    mean, basis = pca_basis(trace[-1])
    coords = (trace - mean) @ basis  # (frames, N, 2)
    lo, hi = coords.reshape(-1, 2).min(0), coords.reshape(-1, 2).max(0)
    pad = 0.05 * (hi - lo + 1e-9)
    fig = Figure(figsize=(6.0, 4.8), dpi=80)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    colors = class_colors(len(class_names))
    point_colors = colors[labels]
    scat = ax.scatter(coords[0, :, 0], coords[0, :, 1], s=14, c=point_colors, linewidths=0)
    for c, name in enumerate(class_names):
        ax.scatter([], [], s=14, color=colors[c], label=name)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_xlabel("PC 1 (final-epoch basis)")
    ax.set_ylabel("PC 2")
    ax.set_title(titles[0] if titles else "epoch 0")  # reserve the title's room in the layout
    fig.tight_layout()
    frames = []
    for i in range(len(coords)):
        scat.set_offsets(coords[i])
        ax.set_title(titles[i] if titles else f"epoch {i}")
        canvas.draw()
        frames.append(Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3].copy()))
    return frames


def save_gif(frames: Sequence[Image.Image], path: str | Path, *, ms_per_frame: int = 400) -> None:
    """Write an animated GIF atomically (the last frame is held a little longer)."""
    durations = [ms_per_frame] * (len(frames) - 1) + [ms_per_frame * 4]
    with atomic_path(path, suffix=".gif") as tmp:
        frames[0].save(
            tmp, save_all=True, append_images=list(frames[1:]), duration=durations, loop=0
        )


def save_png(image: Image.Image, path: str | Path) -> None:
    """Write a PNG atomically."""
    with atomic_path(path, suffix=".png") as tmp:
        image.save(tmp)
