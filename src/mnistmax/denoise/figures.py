"""Denoising figures: training-progress frames, evaluation grid, metric curves, dashboard and
the noise gallery. Image grids are drawn with PIL (fast, exact pixels); plots with matplotlib
(Agg, returning Figures)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from mnistmax.noise import build_noise
from mnistmax.viz.dashboard import training_dashboard

SCALE = 3  # screen pixels per image pixel
PAD = 2
LABEL_W = 84
TITLE_H = 16


def _to_u8(x: torch.Tensor) -> np.ndarray:
    """(N, 1, H, W) in [0, 1] → (N, H, W) uint8."""
    return (x.detach().float().clamp(0, 1)[:, 0].cpu().numpy() * 255 + 0.5).astype(np.uint8)


def _error_rgb(err: torch.Tensor) -> np.ndarray:
    """|error| in [0, 1] → red-on-white RGB (N, H, W, 3)."""
    e = err.detach().float().clamp(0, 1)[:, 0].cpu().numpy()
    white = (255 * (1 - e) + 0.5).astype(np.uint8)
    return np.stack([np.full_like(white, 255), white, white], -1)


def image_grid(
    rows: Sequence[np.ndarray],
    row_labels: Sequence[str],
    *,
    title: str = "",
    col_labels: Sequence[str] | None = None,
) -> Image.Image:
    """Tile rows of images ((N, H, W) uint8 grey or (N, H, W, 3) RGB) with labels."""
    n = max(len(r) for r in rows)
    h, w = rows[0].shape[1:3]
    cell_h, cell_w = h * SCALE + PAD, w * SCALE + PAD
    top = TITLE_H + (TITLE_H if col_labels else 0)
    canvas = Image.new("RGB", (LABEL_W + n * cell_w, top + len(rows) * cell_h), "white")
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((4, 2), title, fill="black")
    if col_labels:
        for j, lab in enumerate(col_labels):
            draw.text((LABEL_W + j * cell_w + 2, TITLE_H + 2), lab[:12], fill="black")
    for i, (imgs, lab) in enumerate(zip(rows, row_labels, strict=True)):
        y0 = top + i * cell_h
        draw.text((4, y0 + cell_h // 2 - 6), lab, fill="black")
        for j, img in enumerate(imgs):
            tile = (
                Image.fromarray(img)
                .convert("RGB")
                .resize((w * SCALE, h * SCALE), Image.Resampling.NEAREST)
            )
            canvas.paste(tile, (LABEL_W + j * cell_w, y0))
    return canvas


def progress_frames(
    clean: torch.Tensor, noisy: torch.Tensor, trace: torch.Tensor
) -> list[Image.Image]:
    """Training-progress frames: rows clean / noisy / denoised / error, one frame per epoch.

    Args:
        clean: (N, 1, H, W) clean digits.
        noisy: Their fixed noisy versions.
        trace: (epochs + 1, N, 1, H, W) denoised outputs (frame 0 before training).
    """
    frames = []
    for e, x_hat in enumerate(trace):
        title = f"epoch {e}" + (" (init)" if e == 0 else "")
        frames.append(
            image_grid(
                [_to_u8(clean), _to_u8(noisy), _to_u8(x_hat), _error_rgb((x_hat - clean).abs())],
                ["clean", "noisy", "denoised", "|error|"],
                title=title,
            )
        )
    return frames


def eval_grid(
    clean: torch.Tensor, columns: Sequence[str], outputs: dict[str, torch.Tensor], *, title: str
) -> Image.Image:
    """Evaluation grid: rows clean, then each method's output (``noisy`` first), then the
    model's error; columns are noise types."""
    model = next(k for k in outputs if k not in ("noisy", "median3", "gauss_blur", "opening"))
    rows = [_to_u8(clean)] + [_to_u8(v) for v in outputs.values()]
    rows.append(_error_rgb((outputs[model] - clean).abs()))
    labels = ["clean", *outputs, "|error|"]
    return image_grid(rows, labels, title=title, col_labels=columns)


def metric_curves(rows: Sequence[dict[str, Any]], metric: str, *, title: str = "") -> Figure:
    """``metric`` against intensity, one panel per noise type, one line per method."""
    noises = list(dict.fromkeys(r["noise"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    cols = min(5, len(noises))
    nrows = (len(noises) + cols - 1) // cols
    fig = Figure(figsize=(3.2 * cols, 2.6 * nrows + 0.6), dpi=90)
    axes = np.atleast_1d(fig.subplots(nrows, cols, squeeze=False)).ravel()
    for ax, noise in zip(axes, noises, strict=False):
        for m in methods:
            pts = sorted(
                (r["intensity"], r[metric])
                for r in rows
                if r["noise"] == noise and r["method"] == m and r.get(metric) is not None
            )
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, ys, marker="o", ms=2.5, lw=1.5 if m != methods[0] else 2.5, label=m)
        ax.set_title(noise, fontsize=9)
        ax.set_xlabel("intensity I", fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    for ax in axes[len(noises) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.suptitle(title or metric)
    fig.tight_layout()
    return fig


def denoise_dashboard(history: Sequence[dict[str, Any]], *, title: str = "") -> Figure:
    """2×2: loss (train / val), PSNR, validation SSIM, learning rate."""

    panels = [
        ("loss", [("train/loss", "train"), ("val/loss", "val")]),
        ("PSNR (dB)", [("train/psnr", "train (noisy batches)"), ("val/psnr", "val")]),
        ("SSIM (validation)", [("val/ssim", "val")]),
        ("learning rate", [("lr", "lr")]),
    ]
    return training_dashboard(history, title=title, panels=panels)


def noise_gallery(
    clean: torch.Tensor, noises: Sequence[str], levels: Sequence[float], *, seed: int = 0
) -> tuple[Image.Image, list[Image.Image]]:
    """Types × levels grid of one digit, and GIF frames (one per type and level) of all digits.

    Args:
        clean: (N, 1, H, W) digits; the grid uses the first, the frames all of them.
        noises: Noise types (rows).
        levels: Intensities (columns / frames).
        seed: Noise seed (the same for every level: frames grow nested corruption).
    """

    grid_rows, frames = [], []
    for name in noises:
        op = build_noise(name)
        row = []
        for level in levels:
            g = torch.Generator().manual_seed(seed)
            noisy = op(clean, float(level), generator=g)
            row.append(_to_u8(noisy[:1])[0])
            frames.append(
                image_grid(
                    [_to_u8(clean), _to_u8(noisy)],
                    ["clean", "noisy"],
                    title=f"{name}  I = {level:.1f}",
                )
            )
        grid_rows.append(np.stack(row))
    grid = image_grid(
        grid_rows,
        list(noises),
        title="noise types × intensity I",
        col_labels=[f"I={v:.1f}" for v in levels],
    )
    return grid, frames
