"""The training dashboard: losses, triplet accuracy, learning rate and kNN per epoch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from mnistmax.io import atomic_path

# A panel: its title and the (metric key, legend label) series it plots.
Panel = tuple[str, list[tuple[str, str]]]

TRIPLET_PANELS: list[Panel] = [
    ("loss", [("train/loss", "train"), ("val/loss", "val")]),
    ("triplet accuracy", [("train/triplet_acc", "train"), ("val/triplet_acc", "val")]),
    ("learning rate", [("lr", "lr")]),
    ("kNN@20 accuracy (validation)", [("val/knn@20", "val kNN@20")]),
]


def training_dashboard(
    history: Sequence[dict[str, Any]], *, title: str = "", panels: Sequence[Panel] = TRIPLET_PANELS
) -> Figure:
    """2×2 ``panels`` from per-epoch records; the best (validation-selected) epoch is marked."""
    fig = Figure(figsize=(10, 7), dpi=100)
    axes = fig.subplots(2, 2)
    epochs = [r["epoch"] for r in history]
    best = history[-1].get("best_epoch") if history else None
    for ax, (name, series) in zip(axes.flat, panels, strict=True):
        for key, label in series:
            ys = [r.get(key) for r in history]
            if any(y is not None for y in ys):
                ax.plot(epochs, ys, marker="o", ms=3, label=label)
        if best:
            ax.axvline(best, color="grey", ls="--", lw=1, label=f"best epoch {best}")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        if name == "learning rate" and any((r.get("lr") or 0) > 0 for r in history):
            ax.set_yscale("log")  # (a one-epoch cosine run logs lr 0 only: keep it linear)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str | Path) -> None:
    """Save a Figure atomically (format from the suffix)."""
    path = Path(path)
    with atomic_path(path, suffix=path.suffix) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png")
