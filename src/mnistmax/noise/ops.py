"""Batched corruption models for (B, 1, H, W) images in [0, 1] on one intensity scale.

Every noise follows the augment ops' split (:class:`mnistmax.draws.Sampled`):
``sample(n, generator, device, image_shape)`` draws all random numbers for ``n`` images (what a
noise says in its ``draw(d)``; how many does NOT depend on the intensity) and
``apply(x, knob, params)`` is deterministic. ``knob`` is the type's physical parameter per
image (a Gaussian σ, a flip probability, an expected number of strokes...); the intensity
``I ∈ [0, 1]`` is mapped to it by the type's calibration table (:mod:`mnistmax.noise.calibration`)
so that every type corrupts equally much at equal ``I`` (see that module for the scale).

Because the draws are shared across intensities ("common random numbers"), corruption grows
monotonically with ``I`` for a fixed seed: a pixel corrupted at ``I`` is corrupted at every
larger ``I`` for the mask-based types, and ``|noisy − clean|`` grows pointwise for the Gaussian,
speckle, blur and morphology types. ``I = 0`` returns the input exactly (enforced per image).

Random numbers are drawn on the generator's device and moved to the images' device, so a CPU
generator drives GPU images and one seed gives one result everywhere (:mod:`mnistmax.draws`).

Pixel coordinates: x to the right, y down, pixel centres at integers 0..W−1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

import torch
import torch.nn.functional as F

from mnistmax.draws import Draw, Params, Sampled, check_batch, chw
from mnistmax.errors import ConfigError
from mnistmax.noise._tables import KNOB_TABLES

MAX_STROKES = 16  # candidate strokes/blocks/discs per image; the knob activates a share of them


def _grid(h: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre coordinates (1, 1, H, W) each: x (column) and y (row)."""
    ys = torch.arange(h, device=device, dtype=torch.float32).view(1, 1, h, 1).expand(1, 1, h, w)
    xs = torch.arange(w, device=device, dtype=torch.float32).view(1, 1, 1, w).expand(1, 1, h, w)
    return xs, ys


def as_intensity(intensity: float | torch.Tensor, n: int, device: torch.device) -> torch.Tensor:
    """A (n,) float32 tensor of intensities in [0, 1] (a scalar is broadcast).

    Raises:
        ConfigError: An intensity outside [0, 1] or a tensor of the wrong length.
    """
    t = torch.as_tensor(intensity, dtype=torch.float32, device=device)
    if t.ndim == 0:
        t = t.expand(n)
    if t.shape != (n,):
        raise ConfigError(f"intensity must be a number or a ({n},) tensor, got {tuple(t.shape)}")
    if n and (float(t.min()) < 0.0 or float(t.max()) > 1.0):
        raise ConfigError("noise intensity must lie in [0, 1]; 0 is clean and 1 is severe")
    return t.contiguous()


def interp_table(intensity: torch.Tensor, table: Sequence[float]) -> torch.Tensor:
    """Piecewise-linear map of ``intensity`` (in [0, 1]) through ``table`` on an even grid.

    ``table[j]`` is the knob at ``I = j / (len(table) − 1)``; the map is monotone when the table is.
    """
    t = torch.tensor(table, dtype=torch.float32, device=intensity.device)
    pos = intensity.clamp(0, 1) * (len(t) - 1)
    i0 = pos.floor().long().clamp(max=len(t) - 2)
    frac = pos - i0
    return t[i0] * (1 - frac) + t[i0 + 1] * frac


class Noise(Sampled):
    """Base class of the corruption models: each says what it draws (``draw``) and how it applies.

    Attributes:
        name: registry name.
        knob_max: the largest physical parameter the calibration may use.
        additive: True when the noise only ever adds ink (output ≥ input).
        doc: one line saying what the knob is (shown in the docs table).
    """

    name: str = ""
    knob_max: float = 1.0
    additive: bool = False
    doc: str = ""

    def __init__(self, table: Sequence[float] | None = None) -> None:
        self.table = tuple(table) if table is not None else KNOB_TABLES.get(self.name)

    def knob(self, intensity: torch.Tensor) -> torch.Tensor:
        """The physical parameter per image for intensities (B,) on the calibrated scale."""
        if self.table is None:
            return intensity * self.knob_max
        return interp_table(intensity, self.table)

    def draw(self, d: Draw) -> Params:
        """Draw the random numbers of ``d.n`` images (independent of the intensity)."""
        raise NotImplementedError

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        """Corrupt ``x`` with per-image ``knob`` (B,) and a draw from :meth:`sample`."""
        raise NotImplementedError

    def apply_knob(
        self, x: torch.Tensor, knob: float | torch.Tensor, *, generator: torch.Generator
    ) -> torch.Tensor:
        """Corrupt with the raw physical parameter (what calibration searches over)."""
        k = torch.as_tensor(knob, dtype=torch.float32, device=x.device)
        k = k.expand(len(x)).contiguous() if k.ndim == 0 else k
        params = self.sample(len(x), generator, x.device, chw(x))
        out = self.apply(x, k, params)
        return torch.where((k == 0).view(-1, 1, 1, 1), x, out)

    def __call__(
        self, x: torch.Tensor, intensity: float | torch.Tensor, *, generator: torch.Generator
    ) -> torch.Tensor:
        """Corrupt ``x`` at ``intensity`` (a number, or one value per image).

        Args:
            x: (B, C, H, W) float images in [0, 1].
            intensity: In [0, 1]; 0 returns the image unchanged, 1 is severe.
            generator: Source of randomness; the same seed gives the same output.

        Returns:
            A new tensor of the same shape, dtype and device.
        """
        check_batch(x, "noise")
        i = as_intensity(intensity, len(x), x.device)
        if len(x) == 0:
            return x.clone()
        params = self.sample(len(x), generator, x.device, chw(x))
        out = self.apply(x, self.knob(i), params)
        return torch.where((i == 0).view(-1, 1, 1, 1), x, out)


def _k(knob: torch.Tensor) -> torch.Tensor:
    return knob.view(-1, 1, 1, 1)


# ----------------------------------------------------------------------------------------------
# Pixel-wise noise


TYPES: list[type[Noise]] = []
NoiseType = TypeVar("NoiseType", bound=type[Noise])


def register(cls: NoiseType) -> NoiseType:
    """Class decorator: a built-in noise type, registered under ``cls.name`` (``mnistmax.noise``
    builds its registry and the zoo lists from :data:`TYPES`, in this order)."""
    TYPES.append(cls)
    return cls


@register
class Gaussian(Noise):
    """Additive Gaussian noise, clipped to [0, 1]; knob = σ."""

    name, knob_max, doc = "gaussian", 2.0, "σ of additive N(0, σ²), clipped to [0, 1]"

    def draw(self, d: Draw) -> Params:
        return {"n": d.randn(*d.image_shape)}

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        return (x + _k(knob) * params["n"]).clamp(0, 1)


@register
class SaltPepper(Noise):
    """Each pixel becomes 0 or 1 (even odds) with probability p; knob = p."""

    name, knob_max, doc = "salt_pepper", 1.0, "probability p that a pixel is set to 0 or 1"

    def draw(self, d: Draw) -> Params:
        return {"u": d.rand(*d.image_shape), "s": d.rand(*d.image_shape) < 0.5}

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        return torch.where(params["u"] < _k(knob), params["s"].to(x.dtype), x)


@register
class PixelFlip(Noise):
    """Each pixel becomes 1 − x with probability p (a flip on bitmaps); knob = p."""

    name, knob_max, doc = "pixel_flip", 0.5, "probability p that a pixel becomes 1 − x"

    def draw(self, d: Draw) -> Params:
        return {"u": d.rand(*d.image_shape)}

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        return torch.where(params["u"] < _k(knob), 1 - x, x)


@register
class Speckle(Noise):
    """Multiplicative noise x·(1 + σ·n), clipped; knob = σ."""

    name, knob_max, doc = "speckle", 8.0, "σ of multiplicative x·(1 + σ·n), clipped"

    def draw(self, d: Draw) -> Params:
        return {"n": d.randn(*d.image_shape)}

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        return (x * (1 + _k(knob) * params["n"])).clamp(0, 1)


@register
class AddPixels(Noise):
    """Additive: each pixel is inked (set to 1) with probability p; knob = p."""

    name, knob_max, additive, doc = "add_pixels", 1.0, True, "probability p that a pixel is inked"

    def draw(self, d: Draw) -> Params:
        return {"u": d.rand(*d.image_shape)}

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        return torch.where(params["u"] < _k(knob), torch.ones_like(x), x)


# ----------------------------------------------------------------------------------------------
# Strokes, blocks, discs, borders, occlusion (shape masks rendered on the pixel grid)


def _active(params: Params, knob: torch.Tensor) -> torch.Tensor:
    """(B, M) candidates switched on: u_j < knob / M, so the expected count is ``knob``."""
    return params["u"] < (knob / MAX_STROKES).view(-1, 1)


def _strokes(
    params: Params, h: int, w: int, device: torch.device, *, half_width: float, segments: bool
) -> torch.Tensor:
    """(B, M, H, W) masks of straight strokes at 0°, 90°, 45° or 135° through the image."""
    xs, ys = _grid(h, w, device)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    theta = params["orient"].view(*params["orient"].shape, 1, 1) * (math.pi / 4)
    ct, st = torch.cos(theta), torch.sin(theta)
    # Distance across the stroke (normal at angle theta) and position along it.
    across = (xs - cx) * ct + (ys - cy) * st - params["offset"][..., None, None]
    mask = across.abs() < half_width
    if segments:
        along = -(xs - cx) * st + (ys - cy) * ct - params["start"][..., None, None]
        mask = mask & (along.abs() < params["length"][..., None, None] / 2)
    return mask


@register
class Lines(Noise):
    """Strokes (horizontal, vertical, diagonal segments, ≈2 px wide) that add or erase ink.

    Knob = expected number of strokes (out of :data:`MAX_STROKES` candidates); each stroke is
    ink (1) or eraser (0) with even odds; ink wins where they cross.
    """

    name, knob_max, doc = (
        "lines",
        float(MAX_STROKES),
        "expected number of 2-px strokes (add or erase)",
    )
    add_only = False
    segments = True

    def draw(self, d: Draw) -> Params:
        m = MAX_STROKES
        h = d.image_shape[1]
        return {
            "u": d.rand(m),
            "orient": torch.floor(d.rand(m) * 4),
            "offset": (d.rand(m) - 0.5) * (h * 0.8),
            "start": (d.rand(m) - 0.5) * (h * 0.6),
            "length": 8 + d.rand(m) * (h - 8),
            "ink": d.rand(m) < (1.0 if self.add_only else 0.5),
        }

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        h, w = x.shape[-2:]
        on = _strokes(params, h, w, x.device, half_width=1.0, segments=self.segments)
        on = on & _active(params, knob)[..., None, None]
        ink = (on & params["ink"][..., None, None]).any(1, keepdim=True)
        erase = (on & ~params["ink"][..., None, None]).any(1, keepdim=True)
        return torch.where(ink, torch.ones_like(x), torch.where(erase, torch.zeros_like(x), x))


@register
class AddLines(Lines):
    """Additive: full-length rows, columns and diagonals of ink (the reference's line noise)."""

    name, doc = "add_lines", "expected number of full-length 2-px ink lines"
    add_only = True
    segments = False
    additive = True


@register
class Blocks(Noise):
    """Axis-aligned rectangles 2–8 px a side that add or erase ink; knob = expected count."""

    name, knob_max, doc = (
        "blocks",
        float(MAX_STROKES),
        "expected number of 2–8 px blocks (add or erase)",
    )
    add_only = False

    def draw(self, d: Draw) -> Params:
        m = MAX_STROKES
        h, w = d.image_shape[1:]
        return {
            "u": d.rand(m),
            "cx": d.rand(m) * w - 0.5,
            "cy": d.rand(m) * h - 0.5,
            "hx": 1 + 3 * d.rand(m),
            "hy": 1 + 3 * d.rand(m),
            "ink": d.rand(m) < (1.0 if self.add_only else 0.5),
        }

    def _masks(self, params: Params, h: int, w: int, device: torch.device) -> torch.Tensor:
        xs, ys = _grid(h, w, device)
        e = lambda k: params[k][..., None, None]  # noqa: E731
        return ((xs - e("cx")).abs() < e("hx")) & ((ys - e("cy")).abs() < e("hy"))

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        h, w = x.shape[-2:]
        on = self._masks(params, h, w, x.device) & _active(params, knob)[..., None, None]
        ink = (on & params["ink"][..., None, None]).any(1, keepdim=True)
        erase = (on & ~params["ink"][..., None, None]).any(1, keepdim=True)
        return torch.where(ink, torch.ones_like(x), torch.where(erase, torch.zeros_like(x), x))


@register
class AddBlocks(Blocks):
    """Additive: ink rectangles 2–8 px a side; knob = expected count."""

    name, doc, add_only, additive = "add_blocks", "expected number of 2–8 px ink blocks", True, True


@register
class AddDiscs(Blocks):
    """Additive: ink discs of radius 1.5–3.5 px; knob = expected count."""

    name, doc, add_only, additive = (
        "add_discs",
        "expected number of ink discs (r 1.5–3.5 px)",
        True,
        True,
    )

    def _masks(self, params: Params, h: int, w: int, device: torch.device) -> torch.Tensor:
        xs, ys = _grid(h, w, device)
        e = lambda k: params[k][..., None, None]  # noqa: E731
        r = 1.5 + (e("hx") - 1) * (2 / 3)  # hx ~ U(1, 4) -> radius ~ U(1.5, 3.5)
        return (xs - e("cx")) ** 2 + (ys - e("cy")) ** 2 < r**2


@register
class AddBorder(Noise):
    """Additive: a rough-edged ink band along one to four image edges.

    A pixel at distance d (in pixels, 0 on the edge row) from a chosen edge is inked when
    d + u < knob, u ~ U(0, 1) per pixel: the band grows continuously (and nested) with the knob,
    about ``knob − 0.5`` pixels wide on average.
    """

    name, knob_max, additive, doc = (
        "add_border",
        14.0,
        True,
        "mean width (px) + ½ of an ink band on 1–4 edges",
    )

    def draw(self, d: Draw) -> Params:
        sides = d.rand(4) < 0.5
        first = torch.floor(d.rand() * 4).long()
        sides[torch.arange(d.n, device=sides.device), first] = True  # at least one edge
        return {"sides": sides, "u": d.rand(*d.image_shape)}

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        h, w = x.shape[-2:]
        xs, ys = _grid(h, w, x.device)
        inf = torch.tensor(float("inf"), device=x.device)
        s = params["sides"].view(-1, 4, 1, 1)
        dist = torch.stack(
            [
                torch.where(s[:, 0:1], xs, inf),
                torch.where(s[:, 1:2], w - 1 - xs, inf),
                torch.where(s[:, 2:3], ys, inf),
                torch.where(s[:, 3:4], h - 1 - ys, inf),
            ]
        ).amin(0)
        band = dist + params["u"] < _k(knob)
        return torch.where(band, torch.ones_like(x), x)


@register
class Occlusion(Noise):
    """One square patch erased (set to 0) near the image centre; knob = side in pixels."""

    name, knob_max, doc = "occlusion", 40.0, "side (px) of one erased square near the centre"

    def draw(self, d: Draw) -> Params:
        h, w = d.image_shape[1:]
        return {
            "cx": (w - 1) / 2 + (d.rand() - 0.5) * (w / 2),
            "cy": (h - 1) / 2 + (d.rand() - 0.5) * (h / 2),
        }

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        h, w = x.shape[-2:]
        xs, ys = _grid(h, w, x.device)
        half = _k(knob) / 2
        cx, cy = params["cx"].view(-1, 1, 1, 1), params["cy"].view(-1, 1, 1, 1)
        patch = ((xs - cx).abs() < half) & ((ys - cy).abs() < half)
        return torch.where(patch, torch.zeros_like(x), x)


# ----------------------------------------------------------------------------------------------
# Filters: morphology and blur


def dilate(x: torch.Tensor, steps: int = 1) -> torch.Tensor:
    """Grey-scale dilation by a 3×3 square, ``steps`` times (outside the frame counts as −∞)."""
    for _ in range(steps):
        x = F.max_pool2d(x, 3, stride=1, padding=1)
    return x


def erode(x: torch.Tensor, steps: int = 1) -> torch.Tensor:
    """Grey-scale erosion by a 3×3 square, ``steps`` times (outside the frame counts as +∞)."""
    return -dilate(-x, steps)


@register
class ErodeDilate(Noise):
    """Erosion (thins strokes) or dilation (thickens them), even odds per image.

    Knob t ∈ [0, 3]: ⌊t⌋ full 3×3 steps, then a linear blend toward the next step, so the
    change grows continuously and pointwise with t.
    """

    name, knob_max, doc = "erode_dilate", 3.0, "3×3 erosion/dilation steps t (fractional: blend)"
    steps = 3

    def draw(self, d: Draw) -> Params:
        return {"dilate": d.rand() < 0.5}

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        d = params["dilate"].view(-1, 1, 1, 1)
        its = [x]
        for _ in range(self.steps):
            prev = its[-1]
            its.append(torch.where(d, dilate(prev), erode(prev)))
        stack = torch.stack(its)  # (steps + 1, B, C, H, W)
        t = knob.clamp(0, self.steps)
        i0 = t.floor().long().clamp(max=self.steps - 1)
        frac = (t - i0).view(-1, 1, 1, 1)
        b = torch.arange(len(x), device=x.device)
        return stack[i0, b] * (1 - frac) + stack[i0 + 1, b] * frac


def gaussian_kernel1d(sigma: torch.Tensor, radius: int) -> torch.Tensor:
    """(B, 2·radius + 1) normalised Gaussian kernels; σ = 0 gives the identity (a delta)."""
    d = torch.arange(-radius, radius + 1, device=sigma.device, dtype=torch.float32)
    s = sigma.view(-1, 1).clamp_min(1e-6)
    k = torch.exp(-(d**2) / (2 * s**2))
    return k / k.sum(1, keepdim=True)


def blur(x: torch.Tensor, sigma: torch.Tensor | float, radius: int = 8) -> torch.Tensor:
    """Separable Gaussian blur with a per-image σ (zero padding: the background is black)."""
    b, c, h, w = x.shape
    s = torch.as_tensor(sigma, dtype=torch.float32, device=x.device)
    s = s.expand(b) if s.ndim == 0 else s
    k = gaussian_kernel1d(s, radius).repeat_interleave(c, 0).to(x.dtype)  # (B·C, K)
    y = x.reshape(1, b * c, h, w)
    y = F.conv2d(y, k.view(b * c, 1, 1, -1), padding=(0, radius), groups=b * c)
    y = F.conv2d(y, k.view(b * c, 1, -1, 1), padding=(radius, 0), groups=b * c)
    return y.reshape(b, c, h, w)


@register
class Blur(Noise):
    """Gaussian blur; knob = σ in pixels (kernel radius 8)."""

    name, knob_max, doc = "blur", 6.0, "σ (px) of a Gaussian blur"

    def draw(self, d: Draw) -> Params:
        return {}

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        return blur(x, knob).clamp(0, 1)


# ----------------------------------------------------------------------------------------------
# Compositions


@register
class Mixed(Noise):
    """Two different types in sequence, drawn per image, each at intensity I / 2.

    Mean squared errors of independent corruptions roughly add, and the calibrated types have
    MSE ∝ I, so two halves keep ``mixed`` on the common scale (the docs table measures it).
    """

    name, doc = "mixed", "two distinct types per image from the pool, each at I/2"
    pool: tuple[str, ...] = (
        "gaussian",
        "salt_pepper",
        "speckle",
        "lines",
        "blocks",
        "occlusion",
        "erode_dilate",
        "blur",
    )
    stages = 2
    share = 0.5

    def __init__(self, table: Sequence[float] | None = None, single: float = 0.0) -> None:
        """``single``: share of images given one pool type at the full I instead (training
        only: the composed halves never reach a type's own severe end, e.g. three full
        erosion steps)."""
        super().__init__(table)
        if not 0.0 <= single <= 1.0:
            raise ConfigError(f"the single-type share must be in [0, 1], got {single}")
        self.single = single
        by_name = {cls.name: cls for cls in (*GRAY_TYPES, *ADDITIVE_TYPES)}  # as registered
        self.ops = [by_name[n]() for n in self.pool]

    def knob(self, intensity: torch.Tensor) -> torch.Tensor:
        return intensity

    def _choices(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, stages) distinct type indices per image."""
        return Draw(n, generator).rand(len(self.pool)).argsort(1)[:, : self.stages]

    def __call__(
        self, x: torch.Tensor, intensity: float | torch.Tensor, *, generator: torch.Generator
    ) -> torch.Tensor:
        check_batch(x, "noise")
        i = as_intensity(intensity, len(x), x.device)
        choice = self._choices(len(x), generator).to(x.device)
        share = torch.full_like(i, self.share)
        last = torch.full_like(choice[:, 0], self.stages - 1)
        if self.single > 0:  # drawn only when used: plain ``mixed`` keeps its random stream
            one = (Draw(len(x), generator).rand() < self.single).to(x.device)
            share = torch.where(one, torch.ones_like(share), share)
            last = torch.where(one, torch.zeros_like(last), last)
        out = x
        for stage in range(self.stages):
            nxt = out.clone()
            for t, op in enumerate(self.ops):
                idx = ((choice[:, stage] == t) & (last >= stage)).nonzero().squeeze(1)
                if len(idx):
                    nxt[idx] = op(out[idx], i[idx] * share[idx], generator=generator)
            out = nxt
        return torch.where((i == 0).view(-1, 1, 1, 1), x, out)

    def apply_knob(
        self, x: torch.Tensor, knob: float | torch.Tensor, *, generator: torch.Generator
    ) -> torch.Tensor:
        return self(x, knob, generator=generator)


@register
class AddMixed(Mixed):
    """Additive: one additive type per image (pixels, lines, blocks, discs or border) at I."""

    name, doc, additive = "add_mixed", "one additive type per image, at I", True
    pool = ("add_pixels", "add_lines", "add_blocks", "add_discs", "add_border")
    stages = 1
    share = 1.0


#: The built-in types in registration order; the zoo lists below are derived from it.
GRAY_TYPES: tuple[type[Noise], ...] = tuple(t for t in TYPES if not t.additive)
ADDITIVE_TYPES: tuple[type[Noise], ...] = tuple(t for t in TYPES if t.additive)
