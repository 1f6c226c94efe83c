"""TensorBoard logging: a run with ``train.tensorboard`` writes scalars, images and a projector."""

from __future__ import annotations

from pathlib import Path

from mnistmax.config import apply_overrides
from mnistmax.families import train_run
from mnistmax.recipes import get_preset


def _tags(logdir: Path) -> dict[str, list[str]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir))
    acc.Reload()
    return {k: list(v) for k, v in acc.Tags().items() if isinstance(v, list)}


def test_tensorboard_run_writes_scalars_images_and_projector(tmp_path: Path) -> None:
    cfg = apply_overrides(
        get_preset("triplet_quick"),
        [
            "train.epochs=2",
            "train.steps_per_epoch=3",
            "train.tensorboard=true",
            "train.log_every=1",
            "eval.linear_probe=false",
            "eval.baselines=false",
        ],
    )
    train_run(cfg, tmp_path / "run", quiet=True)
    logdir = tmp_path / "run" / "tensorboard"
    tags = _tags(logdir)
    assert {"val/knn@20", "train/loss", "step/train_loss", "lr"} <= set(tags["scalars"])
    assert "figures/dashboard" in tags["images"] and "pca_evolution" in tags["images"]
    projector = (logdir / "projector_config.pbtxt").read_text()
    assert "metadata" in projector and "sprite" in projector


def test_tensorboard_flag_does_not_change_the_training_identity() -> None:
    from dataclasses import asdict

    from mnistmax.training.loop import _identity

    cfg = get_preset("triplet_quick")
    on = apply_overrides(cfg, ["train.tensorboard=true"])
    assert _identity(asdict(cfg)) == _identity(asdict(on))
    assert _identity(asdict(cfg)) != _identity(asdict(apply_overrides(cfg, ["train.lr=0.5"])))
