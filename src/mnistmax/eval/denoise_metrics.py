"""Denoising metrics on tensors: PSNR, SSIM, MSE, BCE, binary and constrained metrics.

Definitions (every image is (1, H, W) in [0, 1]; batches are (B, 1, H, W)):

* **PSNR** (the headline ``psnr``): ``10·log10(1 / MSE)`` of the mean MSE over all images (data
  range 1), i.e. the PSNR of the whole set, which stays meaningful when some images are left
  untouched by a sparse noise; ``psnr_img`` is the mean of per-image PSNRs (:func:`psnr`), whose
  per-image MSE is floored at 1e-10, so it is capped at 100 dB.
* **SSIM** (Wang et al. 2004, "Image quality assessment: from error visibility to structural
  similarity"): Gaussian window σ = 1.5 truncated at 3.5σ (11×11), K1 = 0.01, K2 = 0.03, data
  range 1, population (not sample) covariances; the SSIM map is averaged over the pixels whose
  window lies inside the image (a 5-pixel border is dropped, 18×18 of 28×28), then over images.
  This equals scikit-image's ``structural_similarity(a, b, data_range=1, gaussian_weights=True,
  sigma=1.5, use_sample_covariance=False)`` (tested to 1e-5).
* **MSE** and **BCE** (binary cross-entropy of the output as a probability of ink, clamped to
  [1e-6, 1 − 1e-6]) per pixel, averaged.
* **Binary** (after thresholding output and clean image at 0.5; counts pooled over all pixels
  of all images): pixel accuracy, Dice (= F1), IoU, precision, recall, specificity, false-positive
  rate, per-image accuracy (share of images with no wrong pixel) and Hamming distance (wrong
  pixels per image).
* **Constrained** (ink-adding noise): ``removal`` = share of the pixels the noise added (ink in
  the binarised noisy image, not in the clean one) that the output switches off; ``ink_kept`` =
  share of clean ink pixels still on in the output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

PSNR_CAP_MSE = 1e-10
SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5
SSIM_K1, SSIM_K2 = 0.01, 0.03
BCE_EPS = 1e-6

__all__ = [
    "DenoiseMeter",
    "binary_counts",
    "psnr",
    "set_psnr",
    "ssim",
    "ssim_map",
]


def psnr(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB (data range 1, capped at 100 dB): shape (B,)."""
    mse = ((x_hat.float() - x.float()) ** 2).flatten(1).mean(1)
    return -10.0 * torch.log10(mse.clamp_min(PSNR_CAP_MSE))


def set_psnr(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """PSNR of the mean MSE over the whole batch (dB, data range 1, capped at 100 dB)."""
    mse = float(((x_hat.float() - x.float()) ** 2).mean())
    return -10.0 * math.log10(max(mse, PSNR_CAP_MSE))


def _gauss_window(device: torch.device) -> torch.Tensor:
    radius = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)
    d = torch.arange(-radius, radius + 1, dtype=torch.float64, device=device)
    g = torch.exp(-0.5 * d**2 / SSIM_SIGMA**2)
    return (g / g.sum()).float()


def ssim_map(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The SSIM map over the valid region: (B, C, H − 10, W − 10) for the 11×11 window."""
    a, b = x_hat.float(), x.float()
    g = _gauss_window(a.device)
    c = a.shape[1]
    gx = g.view(1, 1, 1, -1).expand(c, 1, 1, -1)
    gy = g.view(1, 1, -1, 1).expand(c, 1, -1, 1)

    def filt(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, gx, groups=c), gy, groups=c)

    mu_a, mu_b = filt(a), filt(b)
    var_a = filt(a * a) - mu_a**2
    var_b = filt(b * b) - mu_b**2
    cov = filt(a * b) - mu_a * mu_b
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return num / den


def ssim(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM (see the module docstring for the definition): shape (B,)."""
    return ssim_map(x_hat, x).flatten(1).mean(1)


def binary_counts(x_hat: torch.Tensor, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-image tp, fp, fn, tn of ink after thresholding both at 0.5: each (B,) int64."""
    p = (x_hat > 0.5).flatten(1)
    t = (x > 0.5).flatten(1)
    return {
        "tp": (p & t).sum(1),
        "fp": (p & ~t).sum(1),
        "fn": (~p & t).sum(1),
        "tn": (~p & ~t).sum(1),
    }


def _div(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


@dataclass
class DenoiseMeter:
    """Accumulates every denoising metric over batches; :meth:`result` gives the means."""

    n: int = 0
    sums: dict[str, float] = field(default_factory=dict)

    def _add(self, key: str, value: torch.Tensor | float) -> None:
        self.sums[key] = self.sums.get(key, 0.0) + float(value)

    @torch.no_grad()
    def update(
        self,
        x_hat: torch.Tensor,
        x: torch.Tensor,
        x_noisy: torch.Tensor | None = None,
    ) -> None:
        """Add a batch: output ``x_hat``, clean ``x`` and (for the constrained metrics) ``x_noisy``."""
        x_hat = x_hat.float().clamp(0, 1)
        x = x.float()
        b = len(x)
        self.n += b
        self._add("psnr_img", psnr(x_hat, x).sum())
        small = min(x.shape[-2:]) < 2 * int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5) + 1
        self._add("ssim", math.nan if small else ssim(x_hat, x).sum())  # no valid window
        self._add("mse", ((x_hat - x) ** 2).flatten(1).mean(1).sum())
        p = x_hat.clamp(BCE_EPS, 1 - BCE_EPS)
        bce = -(x * p.log() + (1 - x) * (1 - p).log())
        self._add("bce", bce.flatten(1).mean(1).sum())
        counts = binary_counts(x_hat, x)
        for k, v in counts.items():
            self._add(k, v.sum())
        wrong = counts["fp"] + counts["fn"]
        self._add("perfect", (wrong == 0).sum())
        self._add("wrong", wrong.sum())
        self._add("pixels", x[0].numel() * b)
        if x_noisy is not None:
            clean = x > 0.5
            added = (x_noisy > 0.5) & ~clean
            out = x_hat > 0.5
            self._add("added", added.sum())
            self._add("removed", (added & ~out).sum())
            self._add("ink", clean.sum())
            self._add("ink_kept", (clean & out).sum())

    def result(self) -> dict[str, float]:
        """Mean metrics so far (NaN where a ratio has no denominator)."""
        s, n = self.sums, max(self.n, 1)
        tp, fp, fn, tn = (s.get(k, 0.0) for k in ("tp", "fp", "fn", "tn"))
        mse = s.get("mse", 0.0) / n
        out = {
            "psnr": -10.0 * math.log10(max(mse, PSNR_CAP_MSE)),
            "psnr_img": s.get("psnr_img", 0.0) / n,
            "ssim": s.get("ssim", 0.0) / n,
            "mse": s.get("mse", 0.0) / n,
            "bce": s.get("bce", 0.0) / n,
            "pixel_acc": _div(tp + tn, s.get("pixels", 0.0)),
            "dice": _div(2 * tp, 2 * tp + fp + fn),
            "iou": _div(tp, tp + fp + fn),
            "precision": _div(tp, tp + fp),
            "recall": _div(tp, tp + fn),
            "specificity": _div(tn, tn + fp),
            "fpr": _div(fp, fp + tn),
            "image_acc": s.get("perfect", 0.0) / n,
            "hamming": s.get("wrong", 0.0) / n,
        }
        out["f1"] = out["dice"]
        if "added" in s:
            out["removal"] = _div(s["removed"], s["added"])
            out["ink_kept"] = _div(s["ink_kept"], s["ink"])
        return out
