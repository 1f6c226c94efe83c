"""Shared helpers of the augmentation tests: synthetic digits, generators, centre of mass."""

from __future__ import annotations

import torch


def synthetic_digits(n: int, seed: int = 0, size: int = 28) -> torch.Tensor:
    """(n, 1, size, size) float images in [0, 1]: an anti-aliased ring plus a stroke.

    The ink stays inside the central 16×16 pixels, like an MNIST digit in its 20×20 box, so small
    geometric changes never push it out of the frame.
    """
    g = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(
        torch.arange(size, dtype=torch.float32),
        torch.arange(size, dtype=torch.float32),
        indexing="ij",
    )
    c = (size - 1) / 2
    cx = c + (torch.rand(n, 1, 1, generator=g) - 0.5) * 2
    cy = c - 2 + (torch.rand(n, 1, 1, generator=g) - 0.5) * 2
    rx = 3 + 2 * torch.rand(n, 1, 1, generator=g)
    ry = 2.5 + 2 * torch.rand(n, 1, 1, generator=g)
    ring = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2
    ring_ink = (1 - (ring.sqrt() - 1).abs() * 3).clamp(0, 1)
    # A slanted stroke from the ring down to the lower part of the box (asymmetric on purpose).
    t = ((ys - cy) / 8).clamp(0, 1)
    stroke_x = cx + rx * (1 - t) + (torch.rand(n, 1, 1, generator=g) - 0.5) * 3 * t
    stroke_ink = ((1.5 - (xs - stroke_x).abs()) / 1.5).clamp(0, 1) * ((ys >= cy) & (ys <= cy + 8))
    return torch.maximum(ring_ink, stroke_ink).unsqueeze(1).clamp(0, 1)


def gen(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed``."""
    return torch.Generator().manual_seed(seed)


def centre_of_mass(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image (x, y) centre of mass of (B, 1, H, W) images, in pixels."""
    h, w = x.shape[-2:]
    mass = x.sum(dim=(1, 2, 3))
    cx = (x.sum(dim=(1, 2)) * torch.arange(w, dtype=x.dtype)).sum(-1) / mass
    cy = (x.sum(dim=(1, 3)) * torch.arange(h, dtype=x.dtype)).sum(-1) / mass
    return cx, cy
