"""Noise zoo: identity at 0, monotone in I, seeded, batched = per image, additive never erases,
the calibrated scale holds on held-out digits, and the filters match scipy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mnistmax.config import DataConfig
from mnistmax.data.splits import load_splits
from mnistmax.errors import ConfigError
from mnistmax.noise import ADDITIVE_NOISES, GRAY_NOISES, build_noise, noise_names
from mnistmax.noise.calibration import MSE_PER_UNIT, measure_scale
from mnistmax.noise.ops import Mixed, blur, dilate, erode, interp_table
from mnistmax.noise.sampling import NoiseSampler

ALL = noise_names()
COMPOSED = ("mixed", "add_mixed")
DETERMINISTIC = ("blur",)
# Types whose corrupted-pixel set is nested in I (a pixel corrupted at I stays so above I).
NESTED = ("salt_pepper", "pixel_flip", "occlusion", *ADDITIVE_NOISES[:-1])


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    """64 real digits from the embedded mnist-mini test file."""
    return load_splits(DataConfig(dataset="mnist-mini")).test.x[:64].clone()


def _g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_families_are_registered() -> None:
    assert set(GRAY_NOISES) | set(ADDITIVE_NOISES) == set(ALL)
    assert "mixed" in GRAY_NOISES and "add_mixed" in ADDITIVE_NOISES
    with pytest.raises(ConfigError, match="unknown noise"):
        build_noise("nope")


@pytest.mark.parametrize("name", ALL)
def test_zero_intensity_is_exact_identity(name: str, digits: torch.Tensor) -> None:
    out = build_noise(name)(digits, 0.0, generator=_g())
    assert torch.equal(out, digits)


@pytest.mark.parametrize("name", ALL)
def test_contract_shape_range_and_seed(name: str, digits: torch.Tensor) -> None:
    op = build_noise(name)
    a = op(digits, 0.7, generator=_g(3))
    b = op(digits, 0.7, generator=_g(3))
    assert a.shape == digits.shape and a.dtype == digits.dtype
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert torch.equal(a, b)
    assert not torch.equal(a, digits)
    if name not in DETERMINISTIC:
        assert not torch.equal(a, op(digits, 0.7, generator=_g(4)))


@pytest.mark.parametrize("name", ALL)
def test_corruption_grows_with_intensity(name: str, digits: torch.Tensor) -> None:
    op = build_noise(name)
    levels = [0.0, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0]
    mse = [float(((op(digits, i, generator=_g(1)) - digits) ** 2).mean()) for i in levels]
    assert all(b >= a - 1e-7 for a, b in itertools.pairwise(mse)), mse
    assert mse[-1] > 2 * mse[1] > 0


@pytest.mark.parametrize("name", NESTED)
def test_corrupted_pixels_are_nested(name: str, digits: torch.Tensor) -> None:
    op = build_noise(name)
    prev = torch.zeros_like(digits, dtype=torch.bool)
    for i in (0.1, 0.3, 0.6, 1.0):
        changed = op(digits, i, generator=_g(5)) != digits
        assert bool((changed | ~prev).all()), f"{name}: a pixel corrupted at lower I recovered"
        prev = changed


@pytest.mark.parametrize("name", ADDITIVE_NOISES)
def test_additive_noise_never_removes_ink(name: str, digits: torch.Tensor) -> None:
    for seed in range(3):
        out = build_noise(name)(digits, 1.0, generator=_g(seed))
        assert bool((out >= digits).all())
        assert build_noise(name).additive


@pytest.mark.parametrize("name", [n for n in ALL if n not in COMPOSED])
def test_batched_equals_per_image(name: str, digits: torch.Tensor) -> None:
    """The batched op equals a naive loop applying the same draw one image at a time."""
    op = build_noise(name)
    x = digits[:6]
    intensity = torch.linspace(0.0, 1.0, 6)
    params = op.sample(6, _g(9), x.device)
    knob = op.knob(intensity)
    batched = op.apply(x, knob, params)
    for i in range(6):
        one = op.apply(x[i : i + 1], knob[i : i + 1], {k: v[i : i + 1] for k, v in params.items()})
        torch.testing.assert_close(batched[i : i + 1], one)


@pytest.mark.parametrize("name", ALL)
def test_per_image_intensity(name: str, digits: torch.Tensor) -> None:
    op = build_noise(name)
    x = digits[:16]
    intensity = torch.tensor([0.0, 1.0] * 8)
    out = op(x, intensity, generator=_g(2))
    assert torch.equal(out[0::2], x[0::2])
    assert not torch.equal(out[1::2], x[1::2])
    if name not in COMPOSED:
        same = op(x, torch.full((16,), 0.5), generator=_g(2))
        torch.testing.assert_close(same, op(x, 0.5, generator=_g(2)))


def test_gaussian_matches_formula(digits: torch.Tensor) -> None:
    op = build_noise("gaussian")
    g = _g(11)
    n = torch.randn(len(digits), 1, 28, 28, generator=_g(11))
    sigma = float(op.knob(torch.tensor([0.5]))[0])
    torch.testing.assert_close(op(digits, 0.5, generator=g), (digits + sigma * n).clamp(0, 1))


def test_bad_intensity_is_a_config_error(digits: torch.Tensor) -> None:
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        build_noise("gaussian")(digits, 1.5, generator=_g())
    with pytest.raises(ConfigError):
        build_noise("gaussian")(digits, torch.zeros(3), generator=_g())


def test_mixed_uses_two_distinct_types_per_image() -> None:
    op = Mixed()
    choice = op._choices(500, _g(0))
    assert choice.shape == (500, 2)
    assert bool((choice[:, 0] != choice[:, 1]).all())
    assert set(choice.flatten().tolist()) == set(range(len(op.pool)))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=20))
def test_interp_table_matches_numpy(levels: list[float]) -> None:
    table = (0.0, 0.1, 0.15, 0.4, 1.0)
    got = interp_table(torch.tensor(levels), table).numpy()
    want = np.interp(levels, np.linspace(0, 1, len(table)), table)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_scale_holds_on_held_out_digits() -> None:
    """Calibrated on MNIST test digits 0..999; checked here on mnist-mini's (other) digits."""
    x = load_splits(DataConfig(dataset="mnist-mini")).train.x[:500]
    names = [n for n in ALL if n not in COMPOSED] + ["mixed", "add_mixed"]
    rows = measure_scale(x, names, [0.5, 1.0])
    for r in rows:
        target = MSE_PER_UNIT * r["intensity"]
        tol = 0.35 if r["noise"] in COMPOSED else 0.2
        assert abs(r["mse"] / target - 1) < tol, r


def test_blur_matches_scipy() -> None:
    from scipy.ndimage import gaussian_filter

    x = torch.rand(2, 1, 28, 28, generator=_g(0))
    got = blur(x, 1.3).numpy()
    for i in range(2):
        want = gaussian_filter(x[i, 0].double().numpy(), 1.3, mode="constant", truncate=8 / 1.3)
        np.testing.assert_allclose(got[i, 0], want, atol=1e-5)
    assert torch.equal(blur(x, 0.0), x)


def test_morphology_matches_scipy() -> None:
    from scipy.ndimage import grey_dilation, grey_erosion

    x = torch.rand(2, 1, 28, 28, generator=_g(1))
    for i in range(2):
        a = x[i, 0].numpy()
        np.testing.assert_allclose(dilate(x)[i, 0].numpy(), grey_dilation(a, 3, mode="nearest"))
        np.testing.assert_allclose(erode(x)[i, 0].numpy(), grey_erosion(a, 3, mode="nearest"))


def test_sampler_clean_ratio_range_and_curriculum() -> None:
    s = NoiseSampler(build_noise("gaussian"), low=0.2, high=0.8, clean_ratio=0.25, ramp_steps=100)
    late = s.intensities(20000, 1000, _g(0))
    assert abs(float((late == 0).float().mean()) - 0.25) < 0.02
    noisy = late[late > 0]
    assert float(noisy.min()) >= 0.2 - 1e-6 and float(noisy.max()) <= 0.8 + 1e-6
    early = s.intensities(20000, 9, _g(0))  # ramp factor 0.1
    assert float(early.max()) <= 0.08 + 1e-6
    with pytest.raises(ConfigError):
        NoiseSampler(build_noise("gaussian"), low=0.5, high=0.2)


class _TwoTypes(Mixed):
    pool = ("blur", "erode_dilate")


def _one_type_at(x: torch.Tensor, intensity: float) -> list[torch.Tensor]:
    """Every output a single pool type of :class:`_TwoTypes` can give at ``intensity``."""
    ed = build_noise("erode_dilate")
    knob = ed.knob(torch.full((len(x),), intensity))
    ero, dil = (ed.apply(x, knob, {"dilate": torch.full((len(x),), d)}) for d in (False, True))
    return [build_noise("blur")(x, intensity, generator=_g()), ero, dil]


@pytest.mark.parametrize("single", [0.0, 1.0])
def test_mixed_single_share_gives_one_type_at_full_intensity(
    single: float, digits: torch.Tensor
) -> None:
    out = _TwoTypes(single=single)(digits, 1.0, generator=_g(5))
    cands = _one_type_at(digits, 1.0)
    is_single = torch.stack([((out - c).abs().flatten(1).amax(1) < 1e-6) for c in cands]).any(0)
    assert bool(is_single.all()) if single == 1.0 else not bool(is_single.any())


def test_mixed_single_share_keeps_the_plain_stream(digits: torch.Tensor) -> None:
    assert torch.equal(
        Mixed(single=0.0)(digits, 0.6, generator=_g(2)), Mixed()(digits, 0.6, generator=_g(2))
    )
    half = Mixed(single=0.5)(digits, 0.6, generator=_g(2))
    assert not torch.equal(half, Mixed()(digits, 0.6, generator=_g(2)))
    with pytest.raises(ConfigError, match="single-type share"):
        Mixed(single=1.5)
