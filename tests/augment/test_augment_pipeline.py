"""Pipeline: per-op probabilities, shared draws across groups, nesting, and RNG order."""

from __future__ import annotations

import pytest
import torch
from augment_helpers import gen, synthetic_digits

from mnistmax.augment import Brightness, GaussianNoise, Pipeline, RandomAffine
from mnistmax.errors import ConfigError

AFFINE = RandomAffine(degrees=15, translate=2, scale=(0.9, 1.1))


def _changed(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (out != x).flatten(1).any(dim=1)


def test_empty_and_p_zero_pipelines_are_exact_identity(digits: torch.Tensor) -> None:
    assert Pipeline([])(digits, generator=gen(0)) is digits
    off = Pipeline([AFFINE, Brightness(0.5)], p=0.0)
    assert off.is_identity
    assert torch.equal(off(digits, generator=gen(0)), digits)


def test_p_one_draws_exactly_like_the_op_alone(digits: torch.Tensor) -> None:
    # No coin is tossed when p = 1, so the pipeline consumes the generator exactly as the op does.
    assert torch.equal(
        Pipeline([AFFINE])(digits, generator=gen(3)), AFFINE(digits, generator=gen(3))
    )


def test_ops_run_in_order(digits: torch.Tensor) -> None:
    ops = [AFFINE, Brightness(0.3)]
    g = gen(5)
    expected = ops[1](ops[0](digits, generator=g), generator=g)
    assert torch.equal(Pipeline(ops)(digits, generator=gen(5)), expected)


def test_probability_applies_to_about_that_share_of_images() -> None:
    x = synthetic_digits(400, seed=1)
    out = Pipeline([AFFINE], p=0.3)(x, generator=gen(0))
    changed = _changed(out, x)
    assert 0.22 * 400 < changed.sum() < 0.38 * 400
    assert torch.equal(out[~changed], x[~changed])  # the others pass through exactly


def test_per_op_probabilities() -> None:
    x = synthetic_digits(200, seed=2)
    out = Pipeline([AFFINE, Brightness(0.5)], p=[0.0, 1.0])(x, generator=gen(0))
    # An op with p = 0 neither runs nor draws: only brightness ran, on the same random numbers.
    assert torch.equal(out, Brightness(0.5)(x, generator=gen(0)))


@pytest.mark.parametrize("p", [1.0, 0.5])
def test_groups_share_coins_and_parameters(p: float) -> None:
    x = synthetic_digits(64, seed=3)
    pipe = Pipeline([AFFINE, Brightness(0.3), GaussianNoise(0.05)], p=p)
    x3 = torch.cat([x, x, x])
    a, b, c = pipe(x3, generator=gen(1), groups=3).chunk(3)
    assert torch.equal(a, b) and torch.equal(b, c)
    a, b, c = pipe(x3, generator=gen(1)).chunk(3)
    assert not torch.equal(a, b) and not torch.equal(b, c)


def test_group_mode_equals_one_draw_applied_to_each_block() -> None:
    x = synthetic_digits(8, seed=4)
    y = synthetic_digits(8, seed=5)
    pipe = Pipeline([AFFINE, Brightness(0.3)], p=0.5)
    out = pipe(torch.cat([x, y]), generator=gen(2), groups=2)
    assert torch.equal(out[:8], pipe(x, generator=gen(2)))
    assert torch.equal(out[8:], pipe(y, generator=gen(2)))


def test_pipelines_nest(digits: torch.Tensor) -> None:
    inner = Pipeline([AFFINE, Brightness(0.3)], p=0.7)
    outer = Pipeline([inner, GaussianNoise(0.05)])
    x3 = torch.cat([digits, digits, digits])
    a, b, c = outer(x3, generator=gen(0), groups=3).chunk(3)
    assert torch.equal(a, b) and torch.equal(b, c)
    assert torch.equal(outer(digits, generator=gen(1)), outer(digits, generator=gen(1)))
    assert not torch.equal(outer(digits, generator=gen(1)), digits)


def test_bad_arguments_raise(digits: torch.Tensor) -> None:
    with pytest.raises(ConfigError):
        Pipeline([AFFINE], p=1.5)
    with pytest.raises(ConfigError):
        Pipeline([AFFINE], p=[0.5, 0.5])
    with pytest.raises(ValueError, match="groups"):
        Pipeline([AFFINE])(digits, generator=gen(0), groups=5)
    assert "RandomAffine" in repr(Pipeline([AFFINE], p=0.5))
