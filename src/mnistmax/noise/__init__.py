"""Noise zoo: batched corruption models on one calibrated intensity scale ``I ∈ [0, 1]``.

``build_noise(name)`` gives a fresh op; ``op(x, intensity, *, generator) -> x_noisy``. Families:

* :data:`GRAY_NOISES` — the grayscale/bitmap zoo (``mixed`` composes two of them per image);
* :data:`ADDITIVE_NOISES` — noise that only adds ink, for the constrained ("ablation") denoiser.

What ``I`` means for each type is in :mod:`mnistmax.noise.calibration`.

May import: data. Imported by methods, denoise, families and the CLI.
"""

from __future__ import annotations

from mnistmax.noise.ops import ADDITIVE_TYPES, GRAY_TYPES, Noise
from mnistmax.registry import Registry

NOISES: Registry[Noise] = Registry("noise")
for _cls in (*GRAY_TYPES, *ADDITIVE_TYPES):
    NOISES.register(_cls.name)(_cls)

GRAY_NOISES: tuple[str, ...] = tuple(c.name for c in GRAY_TYPES)
ADDITIVE_NOISES: tuple[str, ...] = tuple(c.name for c in ADDITIVE_TYPES)


def build_noise(name: str, **kwargs: float) -> Noise:
    """A fresh noise op by registry name (a clear ConfigError for unknown names); keyword
    arguments go to the type (``single`` for ``mixed``)."""
    return NOISES.build(name, **kwargs)


def noise_names() -> list[str]:
    """Every registered noise type."""
    return NOISES.names()


__all__ = ["ADDITIVE_NOISES", "GRAY_NOISES", "NOISES", "Noise", "build_noise", "noise_names"]
