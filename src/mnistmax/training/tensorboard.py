"""Optional TensorBoard logging of a run (``--set train.tensorboard=true``).

Writes event files under ``RUN/tensorboard/``: every epoch record's numbers as scalars (global
step = optimiser steps, so step and epoch logs share one axis), the figures a run renders as
images, and the test embedding for the projector. ``tensorboard --logdir RUN/tensorboard``.
The run folder stays the source of truth; TensorBoard is a view of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from mnistmax.data.store import load_arrays
from mnistmax.errors import MnistmaxError
from mnistmax.extras import require
from mnistmax.training.runlog import RunDir


class TensorBoardLog:
    """A thin wrapper over ``SummaryWriter``; ``purge_step`` drops events a resume will redo."""

    def __init__(self, run_path: str | Path, *, purge_step: int | None = None) -> None:

        # torch.utils.tensorboard needs the tensorboard package and says so in an ImportError
        # of its own; ask for the package first so a missing one names the extra.
        require("tensorboard", "tensorboard", "TensorBoard logs (train.tensorboard=true)")
        from torch.utils.tensorboard import SummaryWriter  # the 'tensorboard' extra

        self.writer = SummaryWriter(str(Path(run_path) / "tensorboard"), purge_step=purge_step)

    def scalars(self, record: dict[str, Any], step: int) -> None:
        """Every int/float value of ``record`` except the bookkeeping ones."""
        for key, value in record.items():
            if key in ("epoch", "step", "kind") or isinstance(value, bool):
                continue
            if isinstance(value, (int, float)):
                self.writer.add_scalar(key, float(value), step)

    def image(self, tag: str, image: np.ndarray, step: int) -> None:
        """An (H, W, 3) uint8 image."""
        self.writer.add_image(tag, image, step, dataformats="HWC")

    def embedding(
        self, z: np.ndarray, labels: np.ndarray, images: np.ndarray | None, step: int
    ) -> None:
        """Points for the projector with their labels and (N, H, W) digit thumbnails in [0, 1]."""

        label_img = None if images is None else torch.from_numpy(images[:, None]).float()
        self.writer.add_embedding(
            torch.from_numpy(z).float(),
            metadata=[int(v) for v in labels],
            label_img=label_img,
            global_step=step,
            tag="test",
        )

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


def log_run_outputs(run_path: str | Path, step: int, *, points: int = 2000) -> None:
    """After a run: its figures (PNG) as images and its test embedding in the projector.

    ``step``: the global step the images and the embedding are filed under (e.g. the epoch).
    """

    run_path = Path(run_path)
    tb = TensorBoardLog(run_path)
    try:
        figures = run_path / "figures"
        for png in sorted(figures.glob("*.png")):
            tb.image(f"figures/{png.stem}", np.asarray(Image.open(png).convert("RGB")), step)
        for i, png in enumerate(sorted((figures / "pca_frames").glob("*.png"))):
            tb.image("pca_evolution", np.asarray(Image.open(png).convert("RGB")), i)
        npz = run_path / "embeddings_test.npz"
        if npz.is_file():
            with np.load(npz) as data:
                z, y = data["embeddings"], data["labels"]
            keep = np.random.default_rng(0).permutation(len(z))[:points]
            keep.sort()
            tb.embedding(z[keep], y[keep], _test_digits(run_path, keep), step)
    finally:
        tb.close()


def _test_digits(run_path: Path, keep: np.ndarray) -> np.ndarray | None:
    """The test images behind the kept embeddings (None if the data set is unavailable)."""

    cfg = RunDir(run_path).config()
    try:
        images, _ = load_arrays(cfg.data.dataset, "test", root=cfg.data.root)
    except MnistmaxError:
        return None
    return images[keep].astype(np.float32) / 255.0
