"""Batched augmentation for (B, 1, 28, 28) images in [0, 1]: ops, pipelines and presets.

Every op and pipeline follows ``op(x, *, generator) -> x`` (see :mod:`mnistmax.augment.ops` for
the geometry conventions) and can share one random draw across groups of images
(:class:`Pipeline`, ``groups=``). Presets: :func:`build_augment`, :func:`augment_names`.

May import: nothing but the foundation. Imported by methods, eval (fine-tuning) and the CLI.
"""

from mnistmax.augment.ops import (
    AugmentOp,
    Brightness,
    Contrast,
    ElasticDistortion,
    GaussianNoise,
    HorizontalFlip,
    Params,
    RandomAffine,
    RandomErasing,
    RandomResizedCrop,
)
from mnistmax.augment.pipeline import Pipeline
from mnistmax.augment.presets import AUGMENT_PRESETS, augment_names, build_augment

__all__ = [
    "AUGMENT_PRESETS",
    "AugmentOp",
    "Brightness",
    "Contrast",
    "ElasticDistortion",
    "GaussianNoise",
    "HorizontalFlip",
    "Params",
    "Pipeline",
    "RandomAffine",
    "RandomErasing",
    "RandomResizedCrop",
    "augment_names",
    "build_augment",
]
