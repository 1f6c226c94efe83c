"""draws: the Draw helpers' shapes and streams, and Sampled.sample around a subclass's draw."""

from __future__ import annotations

import pytest
import torch

from mnistmax.draws import MNIST_SHAPE, Draw, Params, Sampled, check_batch, chw


def _g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_helpers_draw_n_first_from_the_generator_in_call_order() -> None:
    d = Draw(5, _g(), (1, 4, 3))
    a, b, c = d.rand(), d.randn(2), d.uniform(-2.0, 3.0, *d.image_shape)
    assert (a.shape, b.shape, c.shape) == ((5,), (5, 2), (5, 1, 4, 3))
    g = _g()
    assert torch.equal(a, torch.rand(5, generator=g))
    assert torch.equal(b, torch.randn(5, 2, generator=g))
    assert torch.equal(c, -2.0 + 5.0 * torch.rand(5, 1, 4, 3, generator=g))
    assert float(c.min()) >= -2.0 and float(c.max()) < 3.0


def test_uniform_with_equal_bounds_is_exactly_the_bound() -> None:
    assert torch.equal(Draw(7, _g()).uniform(1.25, 1.25), torch.full((7,), 1.25))


class _Toy(Sampled):
    def __init__(self) -> None:
        self.seen: list[Draw] = []

    def draw(self, d: Draw) -> Params:
        self.seen.append(d)
        return {"u": d.rand(), "mask": d.rand(*d.image_shape) < 0.5}


def test_sample_builds_the_draw_and_moves_the_params() -> None:
    toy, g = _Toy(), _g(3)
    params = toy.sample(4, g, "cpu", (1, 2, 2))
    (d,) = toy.seen
    assert (d.n, d.generator, d.image_shape) == (4, g, (1, 2, 2))
    assert params["u"].shape == (4,) and params["mask"].shape == (4, 1, 2, 2)
    assert all(v.device == torch.device("cpu") for v in params.values())
    assert toy.sample(4, _g(3), None, (1, 2, 2)).keys() == params.keys()
    assert torch.equal(toy.sample(4, _g(3), None, (1, 2, 2))["u"], params["u"])
    assert toy.sample(2, _g())["mask"].shape == (2, *MNIST_SHAPE)


def test_the_base_draw_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        Sampled().sample(1, _g())


def test_batch_helpers() -> None:
    assert chw(torch.zeros(2, 3, 5, 7)) == (3, 5, 7)
    check_batch(torch.zeros(1, 1, 2, 2), "toy")
    with pytest.raises(ValueError, match="toy expects a float"):
        check_batch(torch.zeros(1, 1, 2, 2, dtype=torch.uint8), "toy")
    with pytest.raises(ValueError, match="float"):
        check_batch(torch.zeros(2, 2), "toy")
