"""Embedding animations: rigid alignment, frame chaining that keeps points still, trace files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnistmax.errors import ConfigError, RunError
from mnistmax.viz.embedding_animation import (
    Trace,
    align_rigid,
    embedding_frames,
    frame_jumps,
    load_trace,
    project_frames,
    render_frames,
)
from mnistmax.viz.projections import pca_basis


def _drifting_trace(frames: int = 4, n: int = 90, d: int = 10, seed: int = 0) -> Trace:
    """Six clusters whose centres drift a little every frame (like late training epochs)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 6
    centres = rng.normal(size=(6, d)) * 3.0
    noise = rng.normal(size=(n, d)) * 0.6
    trace = []
    for _ in range(frames):
        trace.append(centres[labels] + noise)
        centres = centres + rng.normal(size=centres.shape) * 0.15
        noise = noise + rng.normal(size=noise.shape) * 0.05
    return Trace(np.stack(trace).astype(np.float32), labels)


def test_align_rigid_undoes_rotation_reflection_and_shift() -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(50, 2)).astype(np.float32)
    angle = 1.1
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = (ref @ rot) * np.array([1.0, -1.0]) + np.array([5.0, -2.0])
    np.testing.assert_allclose(align_rigid(moved.astype(np.float32), ref), ref, atol=1e-4)
    assert frame_jumps(np.stack([moved, ref]).astype(np.float32))[0] == pytest.approx(0, abs=1e-4)


def test_pca_frames_share_the_final_epoch_basis() -> None:
    tr = _drifting_trace()
    coords = project_frames(tr.trace, "pca")
    mean, basis = pca_basis(tr.trace[-1])
    np.testing.assert_allclose(coords, (tr.trace - mean) @ basis, rtol=1e-4, atol=1e-4)


def test_chained_tsne_frames_move_less_than_independent_fits() -> None:
    tr = _drifting_trace()
    chained = project_frames(tr.trace, "tsne", seed=0)
    independent = project_frames(tr.trace, "tsne", seed=0, chain=False)
    assert chained.shape == (4, 90, 2) and np.isfinite(chained).all()
    # The final frame is the same fit either way; only the way back differs.
    np.testing.assert_allclose(chained[-1], independent[-1])
    assert frame_jumps(chained).mean() < 0.5 * frame_jumps(independent).mean()


@pytest.mark.slow
def test_chained_umap_frames_move_less_than_independent_fits() -> None:
    tr = _drifting_trace()
    chained = project_frames(tr.trace, "umap", seed=0)
    independent = project_frames(tr.trace, "umap", seed=0, chain=False)
    assert frame_jumps(chained).mean() < frame_jumps(independent).mean()


def test_unknown_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown projection"):
        project_frames(_drifting_trace().trace, "mds")


def test_render_frames_keeps_one_canvas() -> None:
    tr = _drifting_trace(frames=3)
    coords = project_frames(tr.trace, "pca")
    frames = render_frames(coords, tr.labels, [str(c) for c in range(6)], kind="pca")
    assert len(frames) == 3 and len({f.size for f in frames}) == 1
    # Frames differ (points move) but are drawn on one canvas with fixed axes.
    assert np.abs(np.asarray(frames[0], float) - np.asarray(frames[-1], float)).sum() > 0


def test_load_trace_reads_trace_npz(tmp_path: Path) -> None:
    tr = _drifting_trace(frames=2, n=12)
    np.savez(tmp_path / "trace.npz", trace=tr.trace, labels=tr.labels, indices=np.arange(12))
    got = load_trace(tmp_path)
    np.testing.assert_array_equal(got.trace, tr.trace)
    np.testing.assert_array_equal(got.labels, tr.labels)
    assert got.indices is not None and got.indices.tolist() == list(range(12))


def test_load_trace_rejects_missing_and_malformed(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no per-epoch trace"):
        load_trace(tmp_path)
    np.savez(tmp_path / "trace.npz", trace=np.zeros((2, 5, 3)), labels=np.zeros(4, dtype=int))
    with pytest.raises(RunError, match="expected"):
        load_trace(tmp_path)
    np.savez(tmp_path / "trace.npz", embeddings=np.zeros((2, 5, 3)))
    with pytest.raises(RunError, match="not a readable trace"):
        load_trace(tmp_path)


def test_trace_falls_back_to_the_last_checkpoint(tiny_run: Path) -> None:
    from mnistmax.data.splits import load_splits
    from mnistmax.families.representation import trace_indices
    from mnistmax.training.runlog import RunDir

    tr = load_trace(tiny_run)
    assert tr.trace.shape[:2] == (4, 60)  # init + 3 epochs, 6 digits of each class
    cfg = RunDir(tiny_run).config()
    splits = load_splits(cfg.data)
    idx = trace_indices(splits, 6).numpy()
    np.testing.assert_array_equal(tr.labels, splits.test.y.numpy()[idx])
    frames = embedding_frames(tr, "pca", [str(c) for c in range(10)], title="t")
    assert len(frames) == 4
