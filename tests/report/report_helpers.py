"""Helpers of the report tests: hand-made run folders and a tiny review budget."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mnistmax.config import apply_overrides
from mnistmax.recipes import get_preset

# A review budget small enough for a test: three methods, a few steps each.
_TINY_EVAL = (
    "train.epochs=2",
    "train.steps_per_epoch=3",
    "eval.fewshot_shots=10",
    "eval.fewshot_draws=2",
    "eval.kmeans_n_init=2",
    "eval.pca_per_class=5",
)


def tiny_budget() -> tuple[Any, ...]:
    from mnistmax.review import ReviewItem

    return (
        ReviewItem("triplet_quick", _TINY_EVAL),
        ReviewItem("simclr_quick", _TINY_EVAL),
        ReviewItem(
            "dae_quick",
            (
                "train.epochs=2",
                "train.steps_per_epoch=3",
                "denoise.width=8",
                "denoise.eval_size=64",
                "denoise.eval_intensities=0,0.5",
                "denoise.eval_noises=mixed,gaussian",
            ),
        ),
    )


@dataclasses.dataclass
class MiniReview:
    out: Path
    log: list[str]
    data_root: Path


# ------------------------------------------------------------------ hand-made run folders


def fake_run(
    folder: Path,
    *,
    preset: str = "triplet_quick",
    seed: int = 0,
    overrides: Sequence[str] = (),
    metrics: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    finished: bool = True,
    embeddings: bool = False,
    figure: bool = False,
) -> Path:
    """A run folder written by hand: config, meta, metrics.jsonl and (if finished) eval.json."""
    cfg = apply_overrides(get_preset(preset), list(overrides))
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, seed=seed))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(dataclasses.asdict(cfg)))
    meta = {
        "mnistmax": "0.1.0",
        "python": "3.11.7",
        "torch": "2.13.0+cpu",
        "numpy": "2.4.6",
        "device": "cpu",
        "threads": 2,
        "git_revision": "abc123",
        "started": "2026-11-29T00:00:00+00:00",
        "argv": ["mnistmax", "train", cfg.method, "--preset", preset],
    }
    (folder / "meta.json").write_text(json.dumps(meta))
    records = history or [
        {"kind": "epoch", "epoch": 1, "train/loss": 0.5, "val/loss": 0.6, "best_epoch": 1},
        {"kind": "step", "epoch": 2, "step": 1, "train/loss": 9.0},
        {"kind": "epoch", "epoch": 2, "train/loss": 0.25, "val/loss": 0.4, "best_epoch": 2},
    ]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    if finished:
        ev = {"run": str(folder), "preset": preset, "method": cfg.method, "best_epoch": 2}
        ev |= metrics or {}
        (folder / "eval.json").write_text(json.dumps(ev))
    if embeddings:
        from mnistmax.data import store

        _, y = store.load_arrays("mnist-mini", "test")
        rng = np.random.default_rng(seed)
        centres = rng.normal(size=(10, 16))
        z = centres[y] + 0.3 * rng.normal(size=(len(y), 16))
        np.savez(folder / "embeddings_test.npz", embeddings=z.astype(np.float32), labels=y)
    if figure:
        from PIL import Image

        (folder / "figures").mkdir(exist_ok=True)
        Image.new("RGB", (40, 30), (200, 10, 10)).save(folder / "figures" / "dashboard.png")
        frames = [Image.new("RGB", (20, 20), (i * 60, 0, 0)) for i in range(3)]
        frames[0].save(
            folder / "figures" / "clustering_evolution_pca.gif", save_all=True,
            append_images=frames[1:],
        )  # fmt: skip
        (folder / "figures" / "pca_frames").mkdir(exist_ok=True)
        frames[0].save(folder / "figures" / "pca_frames" / "epoch_000.png")
    return folder
