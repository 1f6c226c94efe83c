"""Animations of an embedding across epochs (PCA, t-SNE or UMAP) in which points do not jump.

A run records a *trace*: the L2-normalised features of fixed test digits (``pca_per_class`` of
each class) before training and after every epoch, shape (frames, N, D). Each frame is mapped to
2-D and drawn with fixed axis limits; the frames make a GIF.

Keeping the frames aligned:

- ``pca``: one basis, fitted on the final epoch, projects every frame (as the clustering GIF of
  :mod:`mnistmax.viz.animation`): the picture is a linear view, so nothing moves but the data.
- ``tsne`` / ``umap``: each map is free to rotate, mirror and reorder clusters, so separate fits
  give unrelated pictures. The last frame (the trained embedding, the one worth a good layout) is
  fitted first with :func:`mnistmax.viz.manifold.project_2d`; then, walking back in time, each
  frame *continues* from the map of the frame after it (``project_2d(init=...)``: t-SNE from that
  map at its own scale with 250 plain iterations and no early exaggeration, UMAP 50 epochs from
  it). A rigid Procrustes step (rotation or reflection plus translation, no scaling: symmetries
  of these maps) then removes any residual turn against the neighbouring frame. Measured on a
  12-epoch ``triplet_quick`` trace (250 digits), the median point jump between consecutive
  frames, after the best rigid alignment, relative to the map's RMS radius: t-SNE 0.47 for
  independent fits, 0.46 for a full refit from the previous map shrunk to std 1e-4, 0.24
  continuing as here; UMAP 0.77 independent, 0.54 refit, 0.37 here.

Axis limits are the union over frames (with a margin), so a frame never re-zooms.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.linalg import orthogonal_procrustes

from mnistmax.data.splits import load_splits
from mnistmax.errors import ConfigError, RunError
from mnistmax.families.representation import trace_indices
from mnistmax.training.checkpoint import load_checkpoint
from mnistmax.training.runlog import RunDir
from mnistmax.viz.animation import render_frames
from mnistmax.viz.manifold import KINDS, project_2d
from mnistmax.viz.projections import pca_basis

__all__ = [
    "Trace",
    "align_rigid",
    "embedding_frames",
    "frame_jumps",
    "load_trace",
    "project_frames",
    "render_frames",
]

TRACE_FILE = "trace.npz"


@dataclass(frozen=True)
class Trace:
    """Per-epoch features of fixed digits.

    Attributes:
        trace: (frames, N, D) features; frame 0 is the untrained encoder.
        labels: (N,) class labels.
        indices: (N,) indices of the digits in the test split, when recorded.
    """

    trace: np.ndarray
    labels: np.ndarray
    indices: np.ndarray | None = None


def load_trace(run_path: str | Path) -> Trace:
    """The run's trace from ``<run>/trace.npz`` (``trace``, ``labels``, optional ``indices``).

    Runs written before ``trace.npz`` existed keep the trace in ``checkpoints/last.pt``; it is
    read from there, with labels recomputed by :func:`mnistmax.families.representation.trace_indices` (the
    function that chose the digits), when the folder has no ``trace.npz``.

    Raises:
        RunError: The run recorded no trace, or the file is malformed.
    """
    path = Path(run_path)
    npz = path / TRACE_FILE
    if npz.is_file():
        try:
            with np.load(npz) as data:
                trace = np.asarray(data["trace"], dtype=np.float32)
                labels = np.asarray(data["labels"], dtype=np.int64)
                indices = np.asarray(data["indices"]) if "indices" in data.files else None
        except (OSError, KeyError, ValueError) as exc:
            raise RunError(
                f"{npz} is not a readable trace (arrays 'trace' and 'labels'): {exc}"
            ) from None
    else:
        trace, labels, indices = _trace_from_checkpoint(path)
    if trace.ndim != 3 or labels.shape != (trace.shape[1],):
        raise RunError(
            f"the trace of {path} has shape {trace.shape} with {labels.shape} labels; "
            "expected (frames, N, D) and (N,)"
        )
    return Trace(trace, labels, indices)


def _trace_from_checkpoint(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:

    run = RunDir(path)
    missing = RunError(
        f"{path} has no per-epoch trace ({TRACE_FILE} or a trace in checkpoints/last.pt); "
        "train the run with eval.figures on to record one"
    )
    if not run.last_checkpoint.is_file():
        raise missing
    state = load_checkpoint(run.last_checkpoint)
    if state.get("trace") is None:
        raise missing

    cfg = run.config()
    splits = load_splits(cfg.data, "cpu")
    idx = trace_indices(splits, cfg.eval.pca_per_class).cpu().numpy()
    trace = state["trace"].float().numpy()
    return trace, splits.test.y.cpu().numpy()[idx], idx


def align_rigid(coords: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``coords`` (N, 2) rotated or reflected and shifted to best match ``reference`` (N, 2).

    Orthogonal Procrustes on centred maps; no scaling, so a map that spreads out over training
    still shows it.
    """

    mu_c, mu_r = coords.mean(0), reference.mean(0)
    rot, _ = orthogonal_procrustes(coords - mu_c, reference - mu_r)
    return np.asarray((coords - mu_c) @ rot + mu_r, dtype=np.float32)


def project_frames(
    trace: np.ndarray, kind: str, *, seed: int = 0, chain: bool = True
) -> np.ndarray:
    """2-D maps (frames, N, 2) of every frame of ``trace`` (frames, N, D); see the module doc.

    Args:
        trace: Per-epoch features.
        kind: ``pca``, ``tsne`` or ``umap``.
        seed: Seed of t-SNE / UMAP.
        chain: For t-SNE / UMAP, continue each frame from its successor's map and align it
            (``False`` fits every frame independently: only for comparisons).
    """
    trace = np.asarray(trace, dtype=np.float32)
    if trace.ndim != 3 or len(trace) == 0:
        raise ValueError(f"trace must have shape (frames, N, D), got {trace.shape}")
    if kind == "pca":
        mean, basis = pca_basis(trace[-1])
        return np.asarray((trace - mean) @ basis, dtype=np.float32)
    if kind not in KINDS:
        raise ConfigError(f"unknown projection {kind!r}; choose one of {', '.join(KINDS)}")
    coords = np.empty((*trace.shape[:2], 2), dtype=np.float32)
    coords[-1] = project_2d(trace[-1], kind, seed=seed)
    for i in range(len(trace) - 2, -1, -1):
        if chain:
            moved = project_2d(trace[i], kind, seed=seed, init=coords[i + 1])
            coords[i] = align_rigid(moved, coords[i + 1])
        else:
            coords[i] = project_2d(trace[i], kind, seed=seed)
    return coords


def frame_jumps(coords: np.ndarray) -> np.ndarray:
    """Median point displacement between consecutive frames over the later frame's RMS radius.

    Each earlier frame is first aligned rigidly to the later one, so a pure rotation or mirror
    costs nothing; 0 means no point moved, about 1 means points moved as far as the map is wide.
    """
    out = []
    for a, b in itertools.pairwise(coords):
        radius = float(np.sqrt(((b - b.mean(0)) ** 2).sum(1).mean())) + 1e-12
        moved = np.linalg.norm(align_rigid(a, b) - b, axis=1)
        out.append(float(np.median(moved)) / radius)
    return np.asarray(out, dtype=np.float64)


KIND_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


def embedding_frames(
    trace: Trace, kind: str, class_names: Sequence[str], *, seed: int = 0, title: str = ""
) -> list[Image.Image]:
    """Project and draw every frame of ``trace`` (frame ``i`` is titled "epoch i")."""
    coords = project_frames(trace.trace, kind, seed=seed)
    head = f"{title}: " if title else ""
    titles = [
        f"{head}{KIND_NAMES.get(kind, kind)}, epoch {i}" + (" (init)" if i == 0 else "")
        for i in range(len(coords))
    ]
    return render_frames(coords, trace.labels, class_names, titles=titles, kind=kind)
