"""Batched augmentation ops for (B, C, H, W) images in [0, 1].

Every op follows the house contract ``op(x, *, generator) -> x``: batch in, batch out, same
device, dtype and shape, values kept in [0, 1], no per-sample Python, and strength 0 returns the
input unchanged (exactly). Each op is split into

* ``sample(n, generator, device, image_shape) -> params`` — one random draw for n images, a dict
  of tensors whose first dimension is n, written once in :class:`mnistmax.draws.Sampled`: an op
  only says what it draws, in ``draw(d)``; and
* ``apply(x, params) -> x`` — deterministic given the draw,

so a :class:`~mnistmax.augment.pipeline.Pipeline` can share one draw across a group of images
(the same rotation for an anchor, its positive and its negative). Random numbers are drawn on
the generator's own device (see :mod:`mnistmax.draws`).

Geometry conventions (pixel coordinates: x to the right, y down; all geometric ops resample with
``grid_sample``, ``align_corners=False``, so the image centre is the centre of the pixel grid —
(13.5, 13.5) for 28×28 — and one pixel is ``2 / W`` in normalised units):

* positive ``translate`` moves content right (x) and down (y);
* positive rotation angles turn the image **counter-clockwise as displayed** (y down), so a
  +90° rotation equals ``torch.rot90(x, 1, dims=(-2, -1))``;
* positive shear moves lower rows to the right (x' = x + tan(shear)·y);
* rotation, shear and scale act about the image centre, then the translation is applied, so a
  2-pixel translation moves the content by 2 pixels whatever the scale;
* pixels that come from outside the frame are 0 (zero padding, no wrap-around).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F

from mnistmax.draws import (
    MNIST_SHAPE,
    DeviceLike,
    Draw,
    ImageShape,
    Params,
    Sampled,
    check_batch,
    chw,
)
from mnistmax.errors import ConfigError

__all__ = [
    "AugmentOp",
    "Brightness",
    "Contrast",
    "ElasticDistortion",
    "GaussianNoise",
    "HorizontalFlip",
    "Op",
    "Params",
    "RandomAffine",
    "RandomErasing",
    "RandomResizedCrop",
    "affine_inverse",
    "chw",
    "index_params",
    "tile_params",
    "warp",
]


@runtime_checkable
class AugmentOp(Protocol):
    """What a pipeline needs from an op (ops and pipelines both satisfy it)."""

    @property
    def is_identity(self) -> bool:
        """True when the op's configuration makes it return its input unchanged."""
        ...

    def sample(
        self,
        n: int,
        generator: torch.Generator,
        device: DeviceLike = None,
        image_shape: ImageShape = MNIST_SHAPE,
    ) -> Params:
        """Draw parameters for ``n`` images."""
        ...

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Apply a draw from :meth:`sample` to ``x`` (len(x) == n)."""
        ...

    def __call__(
        self, x: torch.Tensor, *, generator: torch.Generator, groups: int = 1
    ) -> torch.Tensor:
        """Sample and apply in one step."""
        ...


# ----------------------------------------------------------------------------------------------
# Parameter helpers


def tile_params(params: Params, groups: int) -> Params:
    """Repeat a draw for B images to cover ``groups`` consecutive blocks of B images."""
    if groups == 1:
        return params
    return {k: v.repeat(groups, *([1] * (v.ndim - 1))) for k, v in params.items()}


def index_params(params: Params, idx: torch.Tensor | slice) -> Params:
    """The draw restricted to the images at ``idx``."""
    return {k: v[idx] for k, v in params.items()}


def check_images(x: torch.Tensor, groups: int = 1) -> None:
    """Raise ValueError unless ``x`` is a (B, C, H, W) floating batch that splits into groups."""
    check_batch(x, "augmentation")
    if groups < 1 or len(x) % groups:
        raise ValueError(f"a batch of {len(x)} images does not split into {groups} equal groups")


def _span(
    value: float | Sequence[float], name: str, *, symmetric: bool = True
) -> tuple[float, float]:
    """``v`` -> (-v, v) (or (v, v) when not symmetric); a pair is taken as (low, high)."""
    if isinstance(value, int | float):
        if symmetric and value < 0:
            raise ConfigError(f"{name} must be >= 0, got {value}")
        lo, hi = (-float(value), float(value)) if symmetric else (float(value), float(value))
    else:
        if len(value) != 2:
            raise ConfigError(f"{name} must be a number or a (low, high) pair, got {value!r}")
        lo, hi = float(value[0]), float(value[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ConfigError(f"{name} range must be finite with low <= high, got ({lo}, {hi})")
    return lo, hi


def _clip01(x: torch.Tensor) -> torch.Tensor:
    return x.clamp_(0.0, 1.0)


class Op(Sampled):
    """Shared ``__call__`` of the ops: sample B draws, repeat them over the groups, apply.

    Subclasses implement ``draw(d)`` (see :class:`~mnistmax.draws.Sampled`), ``apply`` and
    ``is_identity``.
    """

    @property
    def is_identity(self) -> bool:
        """True when the configuration makes the op return its input unchanged."""
        raise NotImplementedError

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Apply a draw from :meth:`sample` to ``x``; deterministic, never in place."""
        raise NotImplementedError

    def __call__(
        self, x: torch.Tensor, *, generator: torch.Generator, groups: int = 1
    ) -> torch.Tensor:
        """Augment ``x``; with ``groups=G`` image i of every block of len(x)//G shares a draw.

        Args:
            x: (B, C, H, W) float images in [0, 1].
            generator: Source of randomness; the same seed gives the same output.
            groups: Number of consecutive blocks that share one draw (1: every image its own).

        Returns:
            A new tensor of the same shape, dtype and device (``x`` itself at strength 0).
        """
        check_images(x, groups)
        if self.is_identity:
            return x
        n = len(x) // groups
        params = self.sample(n, generator, x.device, chw(x))
        return self.apply(x, tile_params(params, groups))


# ----------------------------------------------------------------------------------------------
# Geometry


def affine_inverse(
    angle: torch.Tensor,
    translate_x: torch.Tensor,
    translate_y: torch.Tensor,
    scale: torch.Tensor,
    shear: torch.Tensor,
) -> torch.Tensor:
    """Output-to-input pixel maps (n, 2, 3) of ``translate ∘ rotate ∘ shear ∘ scale``.

    The forward map, about the image centre in pixel units (x right, y down), is
    ``p_out = R(angle) · Sh(shear) · s·p_in + t`` with ``R = [[c, s], [-s, c]]`` (counter-clockwise
    on screen) and ``Sh = [[1, tan(shear)], [0, 1]]``; ``grid_sample`` needs its inverse,
    ``p_in = M⁻¹ (p_out − t)``, written out in closed form here.

    Args:
        angle: Rotation in degrees, (n,).
        translate_x: Horizontal shift in pixels, positive = right, (n,).
        translate_y: Vertical shift in pixels, positive = down, (n,).
        scale: Isotropic zoom, > 0 (2 = twice as large), (n,).
        shear: Shear angle in degrees, (n,).
    """
    a = torch.deg2rad(angle)
    c, s = torch.cos(a), torch.sin(a)
    t = torch.tan(torch.deg2rad(shear))
    inv_s = 1.0 / scale
    # M⁻¹ = S⁻¹ · Sh⁻¹ · R⁻¹ with R⁻¹ = [[c, -s], [s, c]] and Sh⁻¹ = [[1, -t], [0, 1]].
    m00 = (c - t * s) * inv_s
    m01 = (-s - t * c) * inv_s
    m10 = s * inv_s
    m11 = c * inv_s
    b0 = -(m00 * translate_x + m01 * translate_y)
    b1 = -(m10 * translate_x + m11 * translate_y)
    return torch.stack([torch.stack([m00, m01, b0], -1), torch.stack([m10, m11, b1], -1)], -2)


def warp(
    x: torch.Tensor,
    inverse: torch.Tensor,
    *,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
) -> torch.Tensor:
    """Resample ``x`` with per-image output-to-input pixel maps in ONE ``grid_sample`` call.

    Args:
        x: (B, C, H, W) images.
        inverse: (B, 2, 3) maps in centred pixel units (origin at the image centre, x right,
            y down): ``p_in = inverse[:, :, :2] @ p_out + inverse[:, :, 2]``.
        mode: ``"bilinear"`` or ``"nearest"``.
        padding_mode: What is read outside the frame: ``"zeros"`` (default) or ``"border"``.

    Returns:
        The warped batch, clipped to [0, 1].
    """
    h, w = x.shape[-2:]
    inv = inverse.to(dtype=x.dtype, device=x.device)
    # Normalised units u = p / (W/2) (align_corners=False: ±1 are the outer pixel edges), so
    # theta = D⁻¹ A D and the shift is divided by D, with D = diag(W/2, H/2).
    theta = torch.stack(
        [
            torch.stack([inv[:, 0, 0], inv[:, 0, 1] * (h / w), inv[:, 0, 2] * (2.0 / w)], -1),
            torch.stack([inv[:, 1, 0] * (w / h), inv[:, 1, 1], inv[:, 1, 2] * (2.0 / h)], -1),
        ],
        -2,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=False)
    return _clip01(out)


@dataclass(frozen=True)
class RandomAffine(Op):
    """Random rotation, translation, isotropic scale and shear in one ``grid_sample``.

    Each range is ``v`` (meaning ±v) or an explicit ``(low, high)``; values are drawn uniformly
    and independently per image (translation independently per axis). Conventions are in the
    module docstring: +angle is counter-clockwise on screen, +translate is right/down, zero padding.

    Args:
        degrees: Rotation range in degrees.
        translate: Translation range in pixels (both axes).
        scale: Zoom range ``(low, high)``, e.g. (0.9, 1.1); (1, 1) disables it.
        shear: Shear-angle range in degrees (horizontal shear).
        mode: ``"bilinear"`` (default) or ``"nearest"``.
    """

    degrees: float | tuple[float, float] = 0.0
    translate: float | tuple[float, float] = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    shear: float | tuple[float, float] = 0.0
    mode: str = "bilinear"

    def __post_init__(self) -> None:
        _span(self.degrees, "degrees")
        _span(self.translate, "translate")
        _span(self.shear, "shear")
        lo, _ = _span(self.scale, "scale", symmetric=False)
        if lo <= 0:
            raise ConfigError(f"scale must be > 0, got {self.scale}")
        if max(abs(v) for v in _span(self.shear, "shear")) >= 90:
            raise ConfigError(f"shear must lie strictly within ±90 degrees, got {self.shear}")
        if self.mode not in ("bilinear", "nearest"):
            raise ConfigError(f"mode must be 'bilinear' or 'nearest', got {self.mode!r}")

    @property
    def is_identity(self) -> bool:
        return (
            _span(self.degrees, "degrees") == (0.0, 0.0)
            and _span(self.translate, "translate") == (0.0, 0.0)
            and _span(self.scale, "scale", symmetric=False) == (1.0, 1.0)
            and _span(self.shear, "shear") == (0.0, 0.0)
        )

    def draw(self, d: Draw) -> Params:
        """Draw ``angle``, ``tx``, ``ty``, ``scale``, ``shear`` (each (n,), degrees / pixels)."""
        return {
            "angle": d.uniform(*_span(self.degrees, "degrees")),
            "tx": d.uniform(*_span(self.translate, "translate")),
            "ty": d.uniform(*_span(self.translate, "translate")),
            "scale": d.uniform(*_span(self.scale, "scale", symmetric=False)),
            "shear": d.uniform(*_span(self.shear, "shear")),
        }

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Warp ``x`` with the drawn affine maps (zero padding)."""
        if self.is_identity:
            return x
        inv = affine_inverse(
            params["angle"], params["tx"], params["ty"], params["scale"], params["shear"]
        )
        return warp(x, inv, mode=self.mode)


@dataclass(frozen=True)
class RandomResizedCrop(Op):
    """Crop a random box and resize it back to the full frame (a zoom-in), via one affine warp.

    Sized for digits: the box keeps at least ``area[0]`` of the image and each side at least
    ``min_side`` pixels, with an aspect ratio near 1, so the digit stays legible (tiny crops are
    wrong for digits). The box always lies inside the frame.

    Args:
        area: Range of the box area as a fraction of the image, within (0, 1].
        ratio: Range of the box's width/height, drawn log-uniformly.
        min_side: Smallest box side in pixels (clipped to the image size).
    """

    area: tuple[float, float] = (0.6, 1.0)
    ratio: tuple[float, float] = (0.8, 1.25)
    min_side: float = 20.0

    def __post_init__(self) -> None:
        lo, hi = _span(self.area, "area", symmetric=False)
        if lo <= 0 or hi > 1:
            raise ConfigError(f"crop area must lie in (0, 1], got {self.area}")
        rlo, _ = _span(self.ratio, "ratio", symmetric=False)
        if rlo <= 0:
            raise ConfigError(f"crop ratio must be > 0, got {self.ratio}")
        if self.min_side < 1:
            raise ConfigError(f"min_side must be >= 1 pixel, got {self.min_side}")

    @property
    def is_identity(self) -> bool:
        return tuple(self.area) == (1.0, 1.0) and tuple(self.ratio) == (1.0, 1.0)

    def draw(self, d: Draw) -> Params:
        """Draw the box as fractions of the frame: centre ``cx``, ``cy`` and size ``sx``, ``sy``."""
        _, h, w = d.image_shape
        a = d.uniform(*self.area)
        r = torch.exp(d.uniform(math.log(self.ratio[0]), math.log(self.ratio[1])))
        sx = torch.sqrt(a * r).clamp(min(self.min_side / w, 1.0), 1.0)
        sy = torch.sqrt(a / r).clamp(min(self.min_side / h, 1.0), 1.0)
        # Centre uniform over the positions that keep the box inside the frame.
        cx = sx / 2 + (1 - sx) * d.rand()
        cy = sy / 2 + (1 - sy) * d.rand()
        return {"cx": cx, "cy": cy, "sx": sx, "sy": sy}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Resample each box to the full frame."""
        if self.is_identity:
            return x
        h, w = x.shape[-2:]
        sx, sy = params["sx"], params["sy"]
        zero = torch.zeros_like(sx)
        inv = torch.stack(
            [
                torch.stack([sx, zero, (params["cx"] - 0.5) * w], -1),
                torch.stack([zero, sy, (params["cy"] - 0.5) * h], -1),
            ],
            -2,
        )
        # The box lies inside the frame, but its outer half-pixel samples straddle the edge;
        # border padding keeps them from fading to black.
        return warp(x, inv, padding_mode="border")


@functools.lru_cache(maxsize=32)
def _smooth_upsample_matrix(size: int, coarse: int, sigma: float) -> torch.Tensor:
    """(size, m + 2r) map: Gaussian smoothing on a coarse grid of m, then linear upsampling.

    Rows are scaled to unit L2 norm, so the map turns white noise of unit variance into a
    smooth field of unit variance at every pixel, the borders included (the noise carries a
    margin of r on each side, so no padding is involved). Cached: building it costs more than
    applying it to a batch. Callers must not modify the returned tensor.
    """
    m = math.ceil(size / coarse)
    sigma_c = sigma / coarse
    radius = max(1, math.ceil(3 * sigma_c))
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (t / sigma_c) ** 2)
    smooth = torch.zeros(m, m + 2 * radius, dtype=torch.float64)  # banded: valid convolution
    for i in range(m):
        smooth[i, i : i + 2 * radius + 1] = kernel
    eye = torch.eye(m, dtype=torch.float64)[:, None, :]
    upsample = F.interpolate(eye, size=size, mode="linear", align_corners=False)[:, 0].T
    a = upsample @ smooth
    a = a / a.norm(dim=1, keepdim=True)
    return a.to(torch.float32)


@dataclass(frozen=True)
class ElasticDistortion(Op):
    """Elastic distortion (Simard et al., ICDAR 2003): a smooth random displacement field.

    White Gaussian noise is smoothed with a separable Gaussian of width ``sigma`` and scaled so
    that each displacement component has standard deviation ``alpha`` pixels at every pixel —
    ``alpha`` reads directly as the RMS displacement (Simard's α = 34, σ = 4 on uniform noise is
    ≈ 1.4 px RMS). The noise is drawn on a grid ``coarse`` times smaller than the image (a smooth
    field loses nothing by it, and it needs 1/coarse² of the random numbers) and upsampled
    bilinearly. Smoothing and upsampling are one precomputed linear map per axis, applied as two
    batched matmuls: ~10× faster on CPU than a 1-channel ``conv2d``.

    Args:
        alpha: RMS displacement per axis, in pixels; 0 disables the op.
        sigma: Smoothness (Gaussian standard deviation) in image pixels.
        coarse: Downsampling factor of the grid the noise is drawn on.
    """

    alpha: float = 0.0
    sigma: float = 4.0
    coarse: int = 2

    def __post_init__(self) -> None:
        if not (self.alpha >= 0 and math.isfinite(self.alpha)):
            raise ConfigError(f"elastic alpha must be >= 0, got {self.alpha}")
        if not self.sigma > 0:
            raise ConfigError(f"elastic sigma must be > 0, got {self.sigma}")
        if self.coarse < 1:
            raise ConfigError(f"elastic coarse factor must be >= 1, got {self.coarse}")

    @property
    def is_identity(self) -> bool:
        return self.alpha == 0

    def draw(self, d: Draw) -> Params:
        """Draw ``field`` (n, 2, H, W): the (dx, dy) displacement of each pixel, in pixels."""
        _, h, w = d.image_shape
        device = d.generator.device
        a_h = _smooth_upsample_matrix(h, self.coarse, float(self.sigma)).to(device)
        a_w = _smooth_upsample_matrix(w, self.coarse, float(self.sigma)).to(device)
        noise = d.randn(2, a_h.shape[1], a_w.shape[1])
        return {"field": (a_h @ noise @ a_w.T) * self.alpha}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Displace each pixel's sampling point by the field (bilinear, zero padding)."""
        if self.is_identity:
            return x
        n, _, h, w = x.shape
        field = params["field"].to(dtype=x.dtype, device=x.device)
        if field.shape[-2:] != (h, w):
            raise ValueError(f"elastic field is {tuple(field.shape[-2:])} but images are {(h, w)}")
        # Pixel centres in normalised units (align_corners=False), plus the displacement.
        gx = (torch.arange(w, dtype=x.dtype, device=x.device) * 2 + 1) / w - 1
        gy = (torch.arange(h, dtype=x.dtype, device=x.device) * 2 + 1) / h - 1
        grid = torch.empty(n, h, w, 2, dtype=x.dtype, device=x.device)
        grid[..., 0] = gx + field[:, 0] * (2.0 / w)
        grid[..., 1] = gy[:, None] + field[:, 1] * (2.0 / h)
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return _clip01(out)


# ----------------------------------------------------------------------------------------------
# Photometric


def _per_image(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return v.to(dtype=x.dtype, device=x.device).view(-1, *([1] * (x.ndim - 1)))


@dataclass(frozen=True)
class _FactorOp(Op):
    """A per-image factor ``f ~ U[1 − strength, 1 + strength]``; subclasses say how it applies.

    Args:
        strength: Half-width of the factor range, in [0, 1]; 0 disables the op.
    """

    strength: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.strength <= 1:
            name = type(self).__name__.lower()
            raise ConfigError(f"{name} strength must lie in [0, 1], got {self.strength}")

    @property
    def is_identity(self) -> bool:
        return self.strength == 0

    def draw(self, d: Draw) -> Params:
        """Draw ``factor`` (n,)."""
        return {"factor": d.uniform(1 - self.strength, 1 + self.strength)}


@dataclass(frozen=True)
class Brightness(_FactorOp):
    """Multiplicative brightness: ``x · f`` with ``f ~ U[1 − strength, 1 + strength]``, clipped."""

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Scale each image by its factor and clip to [0, 1]."""
        if self.is_identity:
            return x
        return _clip01(x * _per_image(params["factor"], x))


@dataclass(frozen=True)
class Contrast(_FactorOp):
    """Contrast about each image's mean: ``c·x + (1 − c)·mean(x)``, ``c ~ U[1 ± strength]``.

    Written as ``c·x + (1 − c)·m`` rather than ``m + c·(x − m)`` so that c = 1 is exact.
    """

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Stretch each image about its mean and clip to [0, 1]."""
        if self.is_identity:
            return x
        c = _per_image(params["factor"], x)
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        return _clip01(c * x + (1 - c) * mean)


@dataclass(frozen=True)
class GaussianNoise(Op):
    """Additive per-pixel Gaussian noise of standard deviation ``sigma``, clipped to [0, 1].

    Args:
        sigma: Noise standard deviation (images are in [0, 1]); 0 disables the op.
    """

    sigma: float = 0.0

    def __post_init__(self) -> None:
        if not (self.sigma >= 0 and math.isfinite(self.sigma)):
            raise ConfigError(f"noise sigma must be >= 0, got {self.sigma}")

    @property
    def is_identity(self) -> bool:
        return self.sigma == 0

    def draw(self, d: Draw) -> Params:
        """Draw ``noise`` (n, C, H, W), already scaled by sigma."""
        return {"noise": d.randn(*d.image_shape) * self.sigma}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Add the noise and clip to [0, 1]."""
        if self.is_identity:
            return x
        return _clip01(x + params["noise"].to(dtype=x.dtype, device=x.device))


@dataclass(frozen=True)
class HorizontalFlip(Op):
    """Mirror every image left to right; put it in a :class:`Pipeline` with p = 0.5 for a random
    flip. Wrong for digits (a mirrored 2 is no digit), right for clothing: a mirrored shirt is
    still a shirt (Fashion-MNIST).

    Args:
        enabled: ``False`` makes the op the identity.
    """

    enabled: bool = True

    @property
    def is_identity(self) -> bool:
        return not self.enabled

    def sample(
        self,
        n: int,
        generator: torch.Generator,
        device: DeviceLike = None,
        image_shape: ImageShape = MNIST_SHAPE,
    ) -> Params:
        """Nothing to draw: whether an image flips is the pipeline's coin."""
        return {}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """The mirrored batch (a new tensor)."""
        return x if self.is_identity else x.flip(-1)


@dataclass(frozen=True)
class RandomErasing(Op):
    """Set one random axis-aligned rectangle per image to ``value`` (Zhong et al., AAAI 2020).

    The rectangles are integer-pixel boxes built from coordinate masks (no per-image loop).

    Args:
        area: Range of the box area as a fraction of the image; (0, 0) disables the op.
        ratio: Range of the box's width/height, drawn log-uniformly.
        value: Fill value in [0, 1] (0 = background for MNIST-style images).
    """

    area: tuple[float, float] = (0.02, 0.15)
    ratio: tuple[float, float] = (0.5, 2.0)
    value: float = 0.0

    def __post_init__(self) -> None:
        lo, hi = _span(self.area, "area", symmetric=False)
        if lo < 0 or hi > 1:
            raise ConfigError(f"erasing area must lie in [0, 1], got {self.area}")
        rlo, _ = _span(self.ratio, "ratio", symmetric=False)
        if rlo <= 0:
            raise ConfigError(f"erasing ratio must be > 0, got {self.ratio}")
        if not 0 <= self.value <= 1:
            raise ConfigError(f"erasing value must lie in [0, 1], got {self.value}")

    @property
    def is_identity(self) -> bool:
        return self.area[1] == 0

    def draw(self, d: Draw) -> Params:
        """Draw integer boxes ``top``, ``left``, ``height``, ``width`` (n,) in pixels."""
        _, h, w = d.image_shape
        a = d.uniform(*self.area) * (h * w)
        r = torch.exp(d.uniform(math.log(self.ratio[0]), math.log(self.ratio[1])))
        bh = torch.sqrt(a / r).round().clamp(0, h)
        bw = torch.sqrt(a * r).round().clamp(0, w)
        top = ((h - bh + 1) * d.rand()).floor().clamp(max=h - bh)
        left = ((w - bw + 1) * d.rand()).floor().clamp(max=w - bw)
        return {"top": top.long(), "left": left.long(), "height": bh.long(), "width": bw.long()}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Fill each image's box with ``value``."""
        if self.is_identity:
            return x
        h, w = x.shape[-2:]
        top, left = params["top"].to(x.device), params["left"].to(x.device)
        bottom, right = top + params["height"].to(x.device), left + params["width"].to(x.device)
        rows = torch.arange(h, device=x.device)
        cols = torch.arange(w, device=x.device)
        in_rows = (rows >= top[:, None]) & (rows < bottom[:, None])  # (n, H)
        in_cols = (cols >= left[:, None]) & (cols < right[:, None])  # (n, W)
        mask = (in_rows[:, :, None] & in_cols[:, None, :])[:, None]  # (n, 1, H, W)
        return x.masked_fill(mask, self.value)
