"""``augment = "auto"``: a method gets its dataset's augmentation, and an explicit name wins."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mnistmax.augment import HorizontalFlip, build_augment
from mnistmax.data import catalog
from mnistmax.methods import build_method
from mnistmax.recipes import get_preset


def _op_types(pipeline: object) -> list[type]:
    return [type(op) for op in pipeline.ops]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("preset", "section", "use"),
    [("triplet_fast", "triplet", "one_view"), ("simclr_standard", "ssl", "two_views")],
)
@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_auto_follows_the_dataset(preset: str, section: str, use: str, dataset: str) -> None:
    cfg = get_preset(preset)
    assert getattr(cfg, section).augment == "auto"
    cfg = replace(cfg, data=replace(cfg.data, dataset=dataset))
    expected = getattr(catalog.get(dataset).augment, use)
    assert _op_types(build_method(cfg).augment) == _op_types(build_augment(expected))


def test_digits_and_clothing_differ_where_it_matters() -> None:
    # Mirrored digits are other digits; mirrored garments are the same garment.
    for dataset, flips in (("mnist", False), ("mnist-mini", False), ("fashion-mnist", True)):
        defaults = catalog.get(dataset).augment
        for name in (defaults.one_view, defaults.two_views):
            assert (HorizontalFlip in _op_types(build_augment(name))) is flips, (dataset, name)


def test_an_explicit_preset_wins_over_the_dataset() -> None:
    cfg = get_preset("triplet_fast")
    cfg = replace(
        cfg,
        data=replace(cfg.data, dataset="fashion-mnist"),
        triplet=replace(cfg.triplet, augment="digits"),
    )
    assert _op_types(build_method(cfg).augment) == _op_types(build_augment("digits"))
