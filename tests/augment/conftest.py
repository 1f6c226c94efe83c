"""Fixtures of the augmentation tests (synthetic images: no dataset needed)."""

from __future__ import annotations

import pytest
import torch
from augment_helpers import synthetic_digits


@pytest.fixture
def digits() -> torch.Tensor:
    """Twelve synthetic digits."""
    return synthetic_digits(12)


@pytest.fixture
def noise_images() -> torch.Tensor:
    """Eight images of uniform noise in [0, 1] (ink everywhere, including the borders)."""
    return torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(123))
