"""Named augmentation presets: ``build_augment(name)`` and ``augment_names()``.

Each preset is a factory registered in :data:`AUGMENT_PRESETS`, so every build is a fresh
:class:`~mnistmax.augment.pipeline.Pipeline`. What each preset is for:

* ``none`` — the identity (a baseline, and for evaluation).
* ``light`` — a small affine jitter.
* ``digits`` — what works for digit metric learning: rotation ±15°, translation ±2.5 px,
  scale 0.9–1.1, shear ±8°, mild elastic distortion, brightness/contrast, light noise.
* ``strong`` — two-view self-supervised learning: a legible resized crop (≥ 60% of the area,
  sides ≥ 20 px) then rotation ±15°, translation ±2 px, scale 0.9–1.1, shear ±10°, stronger
  elastic distortion, brightness/contrast ±30%, noise σ = 0.05 and small random erasing.
* ``reference`` — the reference project's "consistent augmentation" done right: rotation ±10°,
  translation ±2 px with zero padding (its code never rotated and wrapped shifts around),
  brightness ×[0.9, 1.1] and per-pixel noise σ = 0.01. Use it with ``groups=3`` on
  ``cat([anchor, positive, negative])`` to share one draw across a triplet.

* ``fashion`` — the ``digits`` recipe made for clothing (Fashion-MNIST): a horizontal flip
  (p = 0.5; a mirrored garment is the same garment), smaller rotation ±8° and shear ±4° (articles
  are photographed upright, and a rotated boot is no longer what the test set shows), no elastic
  distortion (it bends straight hems and soles), the same translation, scale and photometric
  jitter. Fashion-MNIST's default for one view and for two views: on its validation split it
  beat ``digits`` (triplet) and ``strong`` (two views; a crop and erasing hurt there), see
  docs/results.md, "Dataset-aware augmentation".

No digit preset flips images: a mirrored digit is a different (or no) digit.

``auto`` is not a preset but a choice left to the dataset: a config field set to ``auto`` gets
the preset the dataset's catalogue entry names for that kind of method
(:class:`mnistmax.data.catalog.AugmentDefaults`); the methods resolve it with
``build_augment(name, auto=...)``.
"""

from __future__ import annotations

from mnistmax.augment.ops import (
    Brightness,
    Contrast,
    ElasticDistortion,
    GaussianNoise,
    HorizontalFlip,
    RandomAffine,
    RandomErasing,
    RandomResizedCrop,
)
from mnistmax.augment.pipeline import Pipeline
from mnistmax.errors import ConfigError
from mnistmax.registry import Registry

__all__ = ["AUGMENT_PRESETS", "AUTO", "augment_names", "build_augment"]

AUTO = "auto"  # "the dataset's default": see the module docstring

AUGMENT_PRESETS: Registry[Pipeline] = Registry("augmentation preset")


@AUGMENT_PRESETS.register("none")
def _none() -> Pipeline:
    return Pipeline([])


@AUGMENT_PRESETS.register("light")
def _light() -> Pipeline:
    return Pipeline([RandomAffine(degrees=8.0, translate=1.5, scale=(0.95, 1.05))])


@AUGMENT_PRESETS.register("digits")
def _digits() -> Pipeline:
    return Pipeline(
        [
            RandomAffine(degrees=15.0, translate=2.5, scale=(0.9, 1.1), shear=8.0),
            ElasticDistortion(alpha=1.0, sigma=4.0),
            Brightness(0.2),
            Contrast(0.2),
            GaussianNoise(0.02),
        ],
        p=[1.0, 0.5, 0.8, 0.8, 0.5],
    )


@AUGMENT_PRESETS.register("fashion")
def _fashion() -> Pipeline:
    return Pipeline(
        [
            HorizontalFlip(),
            RandomAffine(degrees=8.0, translate=2.5, scale=(0.9, 1.1), shear=4.0),
            Brightness(0.2),
            Contrast(0.2),
            GaussianNoise(0.02),
        ],
        p=[0.5, 1.0, 0.8, 0.8, 0.5],
    )


@AUGMENT_PRESETS.register("strong")
def _strong() -> Pipeline:
    return Pipeline(
        [
            RandomResizedCrop(area=(0.6, 1.0), ratio=(0.8, 1.25), min_side=20.0),
            # The crop already zooms and shifts, so the affine after it stays moderate: together
            # they keep the digit in the frame.
            RandomAffine(degrees=15.0, translate=2.0, scale=(0.9, 1.1), shear=10.0),
            ElasticDistortion(alpha=1.2, sigma=4.0),
            Brightness(0.3),
            Contrast(0.3),
            GaussianNoise(0.05),
            RandomErasing(area=(0.02, 0.1), ratio=(0.5, 2.0)),
        ],
        p=[0.8, 1.0, 0.6, 0.8, 0.8, 0.5, 0.5],
    )


@AUGMENT_PRESETS.register("reference")
def _reference() -> Pipeline:
    return Pipeline(
        [RandomAffine(degrees=10.0, translate=2.0), Brightness(0.1), GaussianNoise(0.01)]
    )


def build_augment(name: str, *, auto: str | None = None) -> Pipeline:
    """A fresh pipeline for the preset ``name``; ``name == "auto"`` builds the preset ``auto``
    (the dataset's default, which the caller looks up).

    Raises:
        ConfigError: ``name`` is not a registered preset (the message lists the names), or is
            ``auto`` where the caller gives no default.
    """
    if name == AUTO:
        if auto is None:
            raise ConfigError(
                "augment='auto' means the dataset's default, which only a run's config knows; "
                f"name a preset: {', '.join(augment_names())}"
            )
        name = auto
    return AUGMENT_PRESETS.build(name)


def augment_names() -> list[str]:
    """The registered preset names, sorted."""
    return AUGMENT_PRESETS.names()
