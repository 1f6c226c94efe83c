"""Reconstruction losses for denoisers: ``loss(x_hat, x) -> 0-dim tensor``.

``x_hat`` is the model's image in [0, 1] (after the sigmoid, or the constrained wrapper's
``x_noisy · mask``) and ``x`` the clean target; every loss is a mean over pixels and images.

* ``bce`` — binary cross-entropy of ``x_hat`` as a probability of ink (the reference's loss);
  ``x_hat`` is clamped to [1e-6, 1 − 1e-6] so the constrained wrapper's exact zeros stay finite.
* ``mse``, ``l1`` — squared / absolute error.
* ``dice`` — soft Dice loss, 1 − (2Σ x̂x + ε)/(Σ x̂ + Σ x + ε) per image (Milletari et al. 2016,
  "V-Net"), ε = 1 so an empty target with an empty output scores 0.
* ``focal`` — focal loss with γ = 2 on the BCE terms (Lin et al. 2017, "Focal Loss for Dense
  Object Detection"), without the α class weight.
* ``edge`` — L1 between horizontal and vertical finite differences of ``x_hat`` and ``x``
  (the gradient-difference loss of Mathieu et al. 2016, "Deep multi-scale video prediction"),
  the reference's "perceptual" gradient loss.
* ``ssim`` — 1 − SSIM with the evaluation's definition (Zhao et al. 2017, "Loss Functions for
  Image Restoration with Neural Networks").

Names join with ``+`` (``bce+dice``): the terms are summed with weight 1.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from mnistmax.errors import ConfigError
from mnistmax.eval.denoise_metrics import BCE_EPS, ssim

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def bce_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of ``x_hat`` (probabilities) against ``x`` in [0, 1]."""
    return F.binary_cross_entropy(x_hat.clamp(BCE_EPS, 1 - BCE_EPS), x)


def mse_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error."""
    return F.mse_loss(x_hat, x)


def l1_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean absolute error."""
    return F.l1_loss(x_hat, x)


def dice_loss(x_hat: torch.Tensor, x: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Soft Dice loss per image, averaged (Milletari et al. 2016)."""
    a, b = x_hat.flatten(1), x.flatten(1)
    dice = (2 * (a * b).sum(1) + eps) / (a.sum(1) + b.sum(1) + eps)
    return (1 - dice).mean()


def focal_loss(x_hat: torch.Tensor, x: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    """Focal loss (Lin et al. 2017): BCE terms weighted by (1 − p_t)^γ."""
    p = x_hat.clamp(BCE_EPS, 1 - BCE_EPS)
    bce = -(x * p.log() + (1 - x) * (1 - p).log())
    p_t = x * p + (1 - x) * (1 - p)
    return ((1 - p_t) ** gamma * bce).mean()


def edge_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Gradient-difference loss: L1 of horizontal and vertical finite differences."""
    dx = (x_hat.diff(dim=-1) - x.diff(dim=-1)).abs().mean()
    dy = (x_hat.diff(dim=-2) - x.diff(dim=-2)).abs().mean()
    return dx + dy


def ssim_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """1 − mean SSIM (the evaluation's SSIM definition)."""
    return 1 - ssim(x_hat, x).mean()


LOSSES: dict[str, LossFn] = {
    "bce": bce_loss,
    "mse": mse_loss,
    "l1": l1_loss,
    "dice": dice_loss,
    "focal": focal_loss,
    "edge": edge_loss,
    "ssim": ssim_loss,
}


def kept_noise_loss(x_hat: torch.Tensor, noisy: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of keeping ink the noise added: mean of ``a · −log(1 − x̂)`` with
    ``a = clamp(noisy − x, 0, 1)`` (on the bitmap track, 1 exactly on the added pixels).

    Added to a constrained denoiser's loss with a weight, it trades kept ink for removed noise:
    with BCE, weight ``w − 1`` on top moves the decision threshold on P(ink) from 1/2 to
    ``w / (1 + w)``.
    """
    added = (noisy - x).clamp(0, 1)
    return (added * -torch.log1p(-x_hat.clamp(0, 1 - BCE_EPS))).mean()


def reconstruction_loss(name: str) -> LossFn:
    """The loss ``name`` (terms joined with ``+`` are summed).

    Raises:
        ConfigError: An unknown term.
    """
    terms = [t.strip() for t in name.split("+")]
    for t in terms:
        if t not in LOSSES:
            raise ConfigError(
                f"unknown reconstruction loss {t!r}; choose from {', '.join(LOSSES)} (join with +)"
            )
    fns = [LOSSES[t] for t in terms]
    if len(fns) == 1:
        return fns[0]

    def total(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([f(x_hat, x) for f in fns]).sum()

    return total
