"""Classical denoising baselines shown beside every model: batched tensor filters.

* ``noisy`` — the noisy input itself (what doing nothing scores);
* ``median3`` — 3×3 median filter (reflect padding at the border);
* ``gauss_blur`` — Gaussian blur, σ = 1 px;
* ``opening`` — morphological opening (3×3 erosion then dilation) of the binarised noisy image
  (bitmap track only: removes specks and lines thinner than 3 px).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from mnistmax.noise.ops import blur, dilate, erode

Filter = Callable[[torch.Tensor], torch.Tensor]


def median3(x: torch.Tensor) -> torch.Tensor:
    """3×3 median filter (reflect padding)."""
    b, c, h, w = x.shape
    patches = F.unfold(F.pad(x, (1, 1, 1, 1), mode="reflect"), 3)  # (B, C·9, H·W)
    return patches.view(b, c, 9, h * w).median(2).values.view(b, c, h, w)


def gauss_blur(x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """Gaussian blur with σ = ``sigma`` pixels (zero padding, radius 4)."""
    return blur(x, sigma, radius=4).clamp(0, 1)


def opening(x: torch.Tensor) -> torch.Tensor:
    """Opening (3×3 erosion, then dilation) of ``x`` binarised at 0.5."""
    return dilate(erode((x > 0.5).to(x.dtype)))


#: How the report names each baseline, in table order.
LABELS = {
    "noisy": "noisy input",
    "median3": "median 3×3",
    "gauss_blur": "Gaussian blur σ 1",
    "opening": "opening 3×3",
}


def baselines(track: str) -> dict[str, Filter]:
    """The baselines of a track, by name (``noisy`` first)."""
    out: dict[str, Filter] = {
        "noisy": lambda x: x,
        "median3": median3,
        "gauss_blur": gauss_blur,
    }
    if track == "bitmap":
        out["opening"] = opening
    return out
