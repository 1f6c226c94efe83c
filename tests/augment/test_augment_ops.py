"""Each augmentation op: identity at strength 0, determinism, contract, and its own geometry."""

from __future__ import annotations

import math

import pytest
import torch
from augment_helpers import centre_of_mass, gen, synthetic_digits
from hypothesis import given, settings
from hypothesis import strategies as st

from mnistmax.augment import (
    Brightness,
    Contrast,
    ElasticDistortion,
    GaussianNoise,
    RandomAffine,
    RandomErasing,
    RandomResizedCrop,
)
from mnistmax.augment.ops import HorizontalFlip, Op, affine_inverse, warp
from mnistmax.errors import ConfigError

# Every op at a clearly non-zero strength ...
STRONG: dict[str, Op] = {
    "affine": RandomAffine(degrees=20, translate=3, scale=(0.8, 1.2), shear=10),
    "crop": RandomResizedCrop(),
    "elastic": ElasticDistortion(alpha=1.5),
    "brightness": Brightness(0.3),
    "contrast": Contrast(0.3),
    "noise": GaussianNoise(0.05),
    "erasing": RandomErasing(),
}
# ... and the same ops at strength 0.
ZERO: dict[str, Op] = {
    "affine": RandomAffine(),
    "crop": RandomResizedCrop(area=(1.0, 1.0), ratio=(1.0, 1.0)),
    "elastic": ElasticDistortion(alpha=0.0),
    "brightness": Brightness(0.0),
    "contrast": Contrast(0.0),
    "noise": GaussianNoise(0.0),
    "erasing": RandomErasing(area=(0.0, 0.0)),
    "flip": HorizontalFlip(enabled=False),
}


def _affine(
    x: torch.Tensor,
    *,
    angle: float = 0.0,
    tx: float = 0.0,
    ty: float = 0.0,
    scale: float = 1.0,
    shear: float = 0.0,
    mode: str = "bilinear",
) -> torch.Tensor:
    """Apply one fixed affine map to every image through the op's own ``apply``."""
    n = len(x)
    params = {
        "angle": torch.full((n,), angle),
        "tx": torch.full((n,), tx),
        "ty": torch.full((n,), ty),
        "scale": torch.full((n,), scale),
        "shear": torch.full((n,), shear),
    }
    return RandomAffine(degrees=1, mode=mode).apply(x, params)


# ---------------------------------------------------------------------------------------------
# The contract, for every op


@pytest.mark.parametrize("name", sorted(ZERO))
def test_strength_zero_is_exact_identity(name: str, noise_images: torch.Tensor) -> None:
    op = ZERO[name]
    assert op.is_identity
    assert torch.equal(op(noise_images, generator=gen(0)), noise_images)
    params = op.sample(len(noise_images), gen(0))
    assert torch.equal(op.apply(noise_images, params), noise_images)


@pytest.mark.parametrize("name", sorted(STRONG))
def test_same_seed_same_output_other_seed_differs(name: str, digits: torch.Tensor) -> None:
    op = STRONG[name]
    a = op(digits, generator=gen(7))
    b = op(digits, generator=gen(7))
    c = op(digits, generator=gen(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a, digits)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", sorted(STRONG))
def test_shape_dtype_device_and_range(name: str, dtype: torch.dtype) -> None:
    x = torch.rand(6, 1, 28, 28, generator=gen(1), dtype=dtype)
    for images in (x, torch.ones_like(x), torch.zeros_like(x)):
        out = STRONG[name](images, generator=gen(2))
        assert out.shape == images.shape
        assert out.dtype == dtype
        assert out.device == images.device
        assert out.min() >= 0.0 and out.max() <= 1.0
        assert out.data_ptr() != images.data_ptr()  # a new tensor, never the input in place


@pytest.mark.parametrize("name", sorted(STRONG))
def test_input_is_not_modified(name: str, digits: torch.Tensor) -> None:
    before = digits.clone()
    STRONG[name](digits, generator=gen(3))
    assert torch.equal(digits, before)


@pytest.mark.parametrize("name", sorted(STRONG))
def test_groups_share_one_draw(name: str, digits: torch.Tensor) -> None:
    op = STRONG[name]
    x3 = torch.cat([digits, digits, digits])
    shared = op(x3, generator=gen(4), groups=3).chunk(3)
    assert torch.equal(shared[0], shared[1]) and torch.equal(shared[1], shared[2])
    per_image = op(x3, generator=gen(4), groups=1).chunk(3)
    assert not torch.equal(per_image[0], per_image[1])
    assert not torch.equal(per_image[1], per_image[2])


def test_bad_groups_and_inputs_raise(digits: torch.Tensor) -> None:
    op = STRONG["affine"]
    with pytest.raises(ValueError, match="groups"):
        op(digits[:5], generator=gen(0), groups=3)
    with pytest.raises(ValueError, match="float"):
        op(digits[0], generator=gen(0))
    with pytest.raises(ValueError, match="float"):
        op((digits * 255).to(torch.uint8), generator=gen(0))


@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomAffine(degrees=-1),
        lambda: RandomAffine(scale=(0.0, 1.0)),
        lambda: RandomAffine(degrees=(5, -5)),
        lambda: RandomAffine(shear=90),
        lambda: RandomAffine(mode="bicubic"),
        lambda: RandomResizedCrop(area=(0.5, 1.2)),
        lambda: ElasticDistortion(alpha=-1),
        lambda: Brightness(1.5),
        lambda: Contrast(-0.1),
        lambda: GaussianNoise(float("nan")),
        lambda: RandomErasing(area=(0.1, 0.05)),
    ],
)
def test_invalid_configs_raise_config_error(make: object) -> None:
    with pytest.raises(ConfigError):
        make()  # type: ignore[operator]


# ---------------------------------------------------------------------------------------------
# Geometry


@pytest.mark.parametrize(("angle", "k"), [(90.0, 1), (-90.0, -1), (180.0, 2), (270.0, 3)])
def test_rotation_matches_rot90(angle: float, k: int, noise_images: torch.Tensor) -> None:
    expected = torch.rot90(noise_images, k, dims=(-2, -1))
    # Nearest sampling lands exactly on the rotated pixel grid: bit-exact.
    assert torch.equal(_affine(noise_images, angle=angle, mode="nearest"), expected)
    # Bilinear samples at (numerically) exact grid points: equal up to float rounding.
    torch.testing.assert_close(_affine(noise_images, angle=angle), expected, atol=1e-5, rtol=0)


def test_positive_angle_is_counter_clockwise_on_screen() -> None:
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 13:15, 20:24] = 1.0  # ink to the right of the centre
    out = _affine(x, angle=90.0)
    cx, cy = centre_of_mass(out)
    assert cy.item() < 13.5 - 5  # it moved up (counter-clockwise with y pointing down)
    assert abs(cx.item() - 13.5) < 0.01


@pytest.mark.parametrize(("tx", "ty"), [(2.0, 0.0), (0.0, 2.0), (-2.0, 2.0), (1.5, -0.5)])
def test_translation_moves_centre_of_mass(tx: float, ty: float, digits: torch.Tensor) -> None:
    cx0, cy0 = centre_of_mass(digits)
    cx1, cy1 = centre_of_mass(_affine(digits, tx=tx, ty=ty))
    # Linear interpolation preserves the first moment, so even 1.5 px is exact up to rounding.
    torch.testing.assert_close(cx1 - cx0, torch.full_like(cx0, tx), atol=0.05, rtol=0)
    torch.testing.assert_close(cy1 - cy0, torch.full_like(cy0, ty), atol=0.05, rtol=0)


def test_translation_pads_with_zeros_not_wrap_around() -> None:
    white = torch.ones(2, 1, 28, 28)
    right = _affine(white, tx=3.0)
    # Zeros (up to float rounding at the seam) entered from the left edge; wrap-around gives 1.
    assert torch.all(right[..., :, :3] < 1e-5)
    assert torch.all(right[..., :, 3:] > 1 - 1e-5)
    down = _affine(white, ty=-2.0)  # negative = up: zeros enter from the bottom
    assert torch.all(down[..., -2:, :] < 1e-5)
    assert torch.all(down[..., :-2, :] > 1 - 1e-5)
    rotated = _affine(white, angle=45.0)
    assert torch.all(rotated[..., 0, 0] < 1e-5) and torch.all(rotated[..., 13, 13] > 1 - 1e-5)


def test_scale_zooms_about_the_centre() -> None:
    x = synthetic_digits(4, seed=5)
    big = _affine(x, scale=1.5)
    ratio = big.sum(dim=(1, 2, 3)) / x.sum(dim=(1, 2, 3))
    torch.testing.assert_close(ratio, torch.full_like(ratio, 2.25), atol=0.1, rtol=0)


def test_positive_shear_moves_lower_rows_right() -> None:
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 6:22, 13:15] = 1.0  # a vertical bar through the centre
    out = _affine(x, shear=20.0)
    top_cx, _ = centre_of_mass(out[..., :10, :])
    bottom_cx, _ = centre_of_mass(out[..., 18:, :])
    assert bottom_cx.item() - top_cx.item() > 3


def test_affine_draws_cover_the_configured_ranges() -> None:
    p = RandomAffine(degrees=10, translate=2, scale=(0.9, 1.1), shear=5).sample(4000, gen(0))
    for key, lo, hi in [("angle", -10, 10), ("tx", -2, 2), ("scale", 0.9, 1.1), ("shear", -5, 5)]:
        assert p[key].min() >= lo and p[key].max() <= hi
        assert p[key].min() < lo + 0.05 * (hi - lo) and p[key].max() > hi - 0.05 * (hi - lo)


def test_affine_inverse_matches_matrix_inverse() -> None:
    n = 16
    g = gen(9)
    angle, shear = torch.rand(n, generator=g) * 360 - 180, torch.rand(n, generator=g) * 60 - 30
    tx, ty = torch.randn(n, generator=g), torch.randn(n, generator=g)
    scale = 0.5 + torch.rand(n, generator=g)
    inv = affine_inverse(angle, tx, ty, scale, shear)
    a, t = torch.deg2rad(angle), torch.tan(torch.deg2rad(shear))
    rot = torch.stack(
        [torch.stack([a.cos(), a.sin()], -1), torch.stack([-a.sin(), a.cos()], -1)], -2
    )
    sh = torch.eye(2).repeat(n, 1, 1)
    sh[:, 0, 1] = t
    fwd = rot @ sh * scale[:, None, None]
    p_in = torch.randn(n, 2, 1, generator=g)
    p_out = fwd @ p_in + torch.stack([tx, ty], -1)[..., None]
    back = inv[:, :, :2] @ p_out + inv[:, :, 2:]
    torch.testing.assert_close(back, p_in, atol=1e-4, rtol=0)


def test_warp_handles_non_square_images() -> None:
    x = torch.zeros(1, 1, 20, 32)
    x[0, 0, 8:12, 10:14] = 1.0
    cx0, cy0 = centre_of_mass(x)
    inv = affine_inverse(*(torch.tensor([v]) for v in (0.0, 3.0, -2.0, 1.0, 0.0)))
    cx1, cy1 = centre_of_mass(warp(x, inv))
    assert abs((cx1 - cx0).item() - 3) < 0.01 and abs((cy1 - cy0).item() + 2) < 0.01


def test_resized_crop_stays_inside_the_frame_and_zooms_in() -> None:
    op = RandomResizedCrop(area=(0.6, 1.0), ratio=(0.8, 1.25), min_side=20)
    params = op.sample(2000, gen(0))
    sx, sy, cx, cy = params["sx"], params["sy"], params["cx"], params["cy"]
    assert (sx * 28 >= 20 - 1e-4).all() and (sy * 28 >= 20 - 1e-4).all()
    assert (cx - sx / 2 >= -1e-6).all() and (cx + sx / 2 <= 1 + 1e-6).all()
    assert (cy - sy / 2 >= -1e-6).all() and (cy + sy / 2 <= 1 + 1e-6).all()
    assert (sx * sy).min() < 0.65  # the small end of the area range is reached
    white = torch.ones(16, 1, 28, 28)
    assert torch.all(op(white, generator=gen(1)) > 1 - 1e-5)  # nothing from outside the frame
    x = synthetic_digits(16, seed=2)
    zoomed = RandomResizedCrop(area=(0.6, 0.7))(x, generator=gen(3))
    assert (zoomed.sum(dim=(1, 2, 3)) > 1.2 * x.sum(dim=(1, 2, 3))).all()


def test_elastic_field_rms_is_alpha_and_smooth() -> None:
    op = ElasticDistortion(alpha=1.5, sigma=4.0)
    field = op.sample(400, gen(0))["field"]
    assert abs(field.std().item() - 1.5) < 0.1
    # Smooth: neighbouring displacements are strongly correlated (white noise would be ~0).
    a, b = field[..., :, :-1].flatten(), field[..., :, 1:].flatten()
    assert torch.corrcoef(torch.stack([a, b]))[0, 1] > 0.8


def test_elastic_distortion_moves_ink_a_little() -> None:
    x = synthetic_digits(32, seed=4)
    out = ElasticDistortion(alpha=1.0)(x, generator=gen(5))
    cx0, cy0 = centre_of_mass(x)
    cx1, cy1 = centre_of_mass(out)
    # A σ = 4 field is nearly uniform over a digit, so the ink shifts by about alpha (RMS),
    # rarely by more than 3·alpha; the digit is bent a little, never scattered.
    shift = torch.cat([cx1 - cx0, cy1 - cy0]).abs()
    assert shift.max() < 3.0 and 0.2 < shift.mean() < 1.5
    assert (out - x).abs().mean() > 0.01


# ---------------------------------------------------------------------------------------------
# Photometric and erasing


def test_brightness_is_multiplicative_and_clipped(noise_images: torch.Tensor) -> None:
    op = Brightness(0.3)
    params = op.sample(len(noise_images), gen(0))
    f = params["factor"]
    assert f.min() >= 0.7 and f.max() <= 1.3
    expected = (noise_images * f.view(-1, 1, 1, 1)).clamp(0, 1)
    assert torch.equal(op.apply(noise_images, params), expected)


def test_contrast_keeps_the_mean_when_nothing_clips() -> None:
    x = 0.4 + 0.2 * torch.rand(8, 1, 28, 28, generator=gen(0))
    op = Contrast(0.3)
    params = op.sample(8, gen(1))
    out = op.apply(x, params)
    torch.testing.assert_close(out.mean(dim=(1, 2, 3)), x.mean(dim=(1, 2, 3)), atol=1e-5, rtol=0)
    spread = out.std(dim=(1, 2, 3)) / x.std(dim=(1, 2, 3))
    torch.testing.assert_close(spread, params["factor"], atol=1e-4, rtol=0)


def test_noise_has_the_configured_sigma_and_is_clipped() -> None:
    grey = torch.full((16, 1, 28, 28), 0.5)
    out = GaussianNoise(0.05)(grey, generator=gen(0))
    assert abs((out - grey).std().item() - 0.05) < 0.003
    dark = GaussianNoise(0.05)(torch.zeros(4, 1, 28, 28), generator=gen(0))
    assert dark.min() == 0 and dark.max() > 0


def test_erasing_fills_one_rectangle_per_image() -> None:
    op = RandomErasing(area=(0.05, 0.2), ratio=(0.5, 2.0), value=0.0)
    white = torch.ones(64, 1, 28, 28)
    params = op.sample(64, gen(0))
    out = op.apply(white, params)
    for i in range(64):
        zeros = (out[i, 0] == 0).nonzero()
        top, left = int(params["top"][i]), int(params["left"][i])
        h, w = int(params["height"][i]), int(params["width"][i])
        assert len(zeros) == h * w
        assert zeros[:, 0].min() == top and zeros[:, 0].max() == top + h - 1
        assert zeros[:, 1].min() == left and zeros[:, 1].max() == left + w - 1
        assert 0.03 * 784 <= h * w <= 0.25 * 784  # the area range, up to side rounding
    assert torch.all(out[out != 0] == 1)


# ---------------------------------------------------------------------------------------------
# Properties


@settings(max_examples=15, deadline=None)
@given(
    name=st.sampled_from(sorted(ZERO)),
    batch=st.integers(1, 4),
    height=st.integers(8, 32),
    width=st.integers(8, 32),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_zero_strength_identity(
    name: str, batch: int, height: int, width: int, seed: int
) -> None:
    x = torch.rand(batch, 1, height, width, generator=gen(seed))
    assert torch.equal(ZERO[name](x, generator=gen(seed)), x)


@settings(max_examples=15, deadline=None)
@given(
    name=st.sampled_from(sorted(STRONG)),
    batch=st.integers(1, 4),
    size=st.integers(20, 32),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_determinism_and_range(name: str, batch: int, size: int, seed: int) -> None:
    x = torch.rand(batch, 1, size, size, generator=gen(seed + 1))
    a = STRONG[name](x, generator=gen(seed))
    assert torch.equal(a, STRONG[name](x, generator=gen(seed)))
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert math.isfinite(a.sum().item())


def test_flip_mirrors_and_a_pipeline_flips_about_half(digits: torch.Tensor) -> None:
    from mnistmax.augment import Pipeline

    out = HorizontalFlip()(digits, generator=gen(1))
    assert torch.equal(out, digits[..., torch.arange(27, -1, -1)])
    x = digits.repeat(64, 1, 1, 1)
    pipe = Pipeline([HorizontalFlip()], p=[0.5])
    a, b = pipe(x, generator=gen(5)), pipe(x, generator=gen(5))
    assert torch.equal(a, b)
    flipped = (a != x).flatten(1).any(1).float().mean().item()
    assert 0.35 < flipped < 0.65
