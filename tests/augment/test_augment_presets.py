"""Named presets: the registry, the contract for every preset, and what `reference` fixes."""

from __future__ import annotations

import pytest
import torch
from augment_helpers import centre_of_mass, gen, synthetic_digits

from mnistmax.augment import RandomAffine, augment_names, build_augment
from mnistmax.errors import ConfigError

ACTIVE = [name for name in augment_names() if name != "none"]


def test_names() -> None:
    assert augment_names() == ["digits", "fashion", "light", "none", "reference", "strong"]


def test_unknown_name_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"'nope'.*digits.*reference"):
        build_augment("nope")


def test_each_build_is_fresh() -> None:
    assert build_augment("digits") is not build_augment("digits")


def test_none_is_exact_identity(digits: torch.Tensor) -> None:
    assert torch.equal(build_augment("none")(digits, generator=gen(0)), digits)


@pytest.mark.parametrize("name", augment_names())
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_contract(name: str, dtype: torch.dtype) -> None:
    x = synthetic_digits(16, seed=1).to(dtype)
    pipe = build_augment(name)
    out = pipe(x, generator=gen(0))
    assert out.shape == x.shape and out.dtype == dtype and out.device == x.device
    assert out.min() >= 0 and out.max() <= 1
    assert torch.equal(out, pipe(x, generator=gen(0)))


@pytest.mark.parametrize("name", ACTIVE)
def test_seed_changes_the_output(name: str, digits: torch.Tensor) -> None:
    pipe = build_augment(name)
    a = pipe(digits, generator=gen(0))
    assert not torch.equal(a, digits)
    assert not torch.equal(a, pipe(digits, generator=gen(1)))


@pytest.mark.parametrize("name", ACTIVE)
def test_groups_of_three_share_every_draw(name: str, digits: torch.Tensor) -> None:
    pipe = build_augment(name)
    x3 = torch.cat([digits, digits, digits])
    a, p, n = pipe(x3, generator=gen(2), groups=3).chunk(3)
    assert torch.equal(a, p) and torch.equal(p, n)
    a, p, n = pipe(x3, generator=gen(2), groups=1).chunk(3)
    assert not torch.equal(a, p) and not torch.equal(p, n)


@pytest.mark.parametrize("name", ["light", "digits", "reference"])
def test_metric_learning_presets_keep_digits_in_place(name: str) -> None:
    x = synthetic_digits(64, seed=6)
    out = build_augment(name)(x, generator=gen(3))
    cx0, cy0 = centre_of_mass(x)
    cx1, cy1 = centre_of_mass(out)
    assert torch.cat([cx1 - cx0, cy1 - cy0]).abs().max() < 5
    kept = out.sum(dim=(1, 2, 3)) / x.sum(dim=(1, 2, 3))
    assert kept.min() > 0.6  # no digit is cropped away or washed out


def test_reference_really_rotates_and_pads_with_zeros() -> None:
    pipe = build_augment("reference")
    affine = pipe.ops[0]
    assert isinstance(affine, RandomAffine)
    angles = affine.sample(2000, gen(0))["angle"]
    # The reference's own code rounded every angle to 0°; ours spans ±10° uniformly.
    assert angles.abs().max() <= 10 and angles.abs().max() > 9.5 and angles.std() > 5
    white = torch.ones(256, 1, 28, 28)
    out = pipe(white, generator=gen(1))
    border = torch.cat([out[..., 0, :], out[..., -1, :], out[..., :, 0], out[..., :, -1]], -1)
    # Shifted-in pixels are black (zero padding); a wrap-around would keep the border white.
    assert (border < 0.1).float().mean() > 0.3
    interior = out[..., 6:22, 6:22]
    assert (interior - white[..., 6:22, 6:22]).abs().max() < 0.2  # brightness and noise only


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", augment_names())
def test_cuda_images_with_a_cpu_generator(name: str) -> None:
    x = synthetic_digits(8, seed=7)
    out = build_augment(name)(x.cuda(), generator=gen(0))
    assert out.device == x.cuda().device and out.min() >= 0 and out.max() <= 1
    again = build_augment(name)(x.cuda(), generator=gen(0))
    assert torch.equal(out, again)


def test_auto_is_the_callers_default_and_refused_without_one() -> None:
    auto = build_augment("auto", auto="fashion")
    assert [type(op) for op in auto.ops] == [type(op) for op in build_augment("fashion").ops]
    assert build_augment("digits", auto="fashion").ops[0].__class__ is RandomAffine
    with pytest.raises(ConfigError, match=r"auto.*dataset's default"):
        build_augment("auto")


def test_every_dataset_defaults_to_registered_presets() -> None:
    from mnistmax.data import catalog

    for info in catalog.DATASETS.values():
        assert {info.augment.one_view, info.augment.two_views} <= set(augment_names()), info.name
