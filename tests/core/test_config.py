"""Config overrides, round-trips and presets."""

from __future__ import annotations

import dataclasses

import pytest

from mnistmax.config import RunConfig, apply_overrides, run_config_from_dict
from mnistmax.errors import ConfigError
from mnistmax.presets import get_preset, preset_names


def test_overrides_are_typed_and_leave_the_original_alone() -> None:
    cfg = RunConfig()
    new = apply_overrides(
        cfg,
        [
            "train.lr=0.01",
            "train.steps_per_epoch=none",
            "eval.knn_ks=1,5",
            "train.channels_last=false",
            "data.dataset=fashion-mnist",
        ],
    )
    assert new.train.lr == 0.01 and new.train.steps_per_epoch is None
    assert new.eval.knn_ks == (1, 5) and new.train.channels_last is False
    assert new.data.dataset == "fashion-mnist"
    assert cfg.train.lr == 1e-3  # frozen dataclasses: the original is unchanged


@pytest.mark.parametrize(
    "override", ["train.lr=fast", "train.nope=1", "nope.lr=1", "train.lr", "train.lr.x=1"]
)
def test_bad_overrides_raise_one_clear_error(override: str) -> None:
    with pytest.raises(ConfigError):
        apply_overrides(RunConfig(), [override])


def test_config_round_trips_through_a_dict() -> None:
    for name in preset_names():
        cfg = get_preset(name)
        assert run_config_from_dict(dataclasses.asdict(cfg)) == cfg


def test_unknown_preset_lists_choices() -> None:
    with pytest.raises(ConfigError, match="triplet_reference"):
        get_preset("nope", "triplet")


def test_reference_preset_is_the_reference_protocol() -> None:
    cfg = get_preset("triplet_reference")
    assert cfg.data.train_per_class == 100
    assert (cfg.train.batch_size, cfg.train.epochs, cfg.train.steps_per_epoch) == (64, 20, 15)
    # Adam as the reference; its rate 1e-3 became 3e-4, chosen on validation (presets.py).
    assert (cfg.train.optimizer, cfg.train.lr) == ("adam", 3e-4)
    assert (cfg.triplet.margin, cfg.triplet.miner, cfg.triplet.augment_mode) == (
        1.0,
        "random",
        "shared",
    )
    assert (cfg.model.encoder, cfg.model.embed_dim) == ("seed_cnn", 128)
