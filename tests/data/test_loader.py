"""Device batching: shuffled epochs and class-balanced P×K batches."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mnistmax.data.loader import PKSampler, epoch_batches, pk_batches, triplet_batches
from mnistmax.errors import ConfigError


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(("n", "batch_size"), [(0, 4), (1, 4), (100, 10), (101, 10), (7, 32)])
def test_epoch_covers_every_index_once(n: int, batch_size: int) -> None:
    batches = list(epoch_batches(n, batch_size, generator=_gen(0)))
    seen = torch.cat(batches) if batches else torch.empty(0, dtype=torch.int64)
    assert torch.equal(seen.sort().values, torch.arange(n))
    assert all(len(b) == batch_size for b in batches[:-1])
    assert all(b.dtype == torch.int64 for b in batches)


@pytest.mark.parametrize(("n", "batch_size"), [(100, 10), (101, 10), (7, 32), (64, 1)])
def test_drop_last_gives_full_batches_without_repeats(n: int, batch_size: int) -> None:
    batches = list(epoch_batches(n, batch_size, generator=_gen(1), drop_last=True))
    assert len(batches) == n // batch_size
    assert all(len(b) == batch_size for b in batches)
    seen = torch.cat(batches) if batches else torch.empty(0, dtype=torch.int64)
    assert len(seen.unique()) == len(seen) == n - n % batch_size
    assert ((seen >= 0) & (seen < n)).all()


def test_epochs_are_reproducible_and_shuffled() -> None:
    a = torch.cat(list(epoch_batches(50, 8, generator=_gen(3))))
    b = torch.cat(list(epoch_batches(50, 8, generator=_gen(3))))
    c = torch.cat(list(epoch_batches(50, 8, generator=_gen(4))))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.equal(a, torch.arange(50))
    g = _gen(3)
    first = torch.cat(list(epoch_batches(50, 8, generator=g)))
    second = torch.cat(list(epoch_batches(50, 8, generator=g)))
    assert not torch.equal(first, second)  # consecutive epochs reshuffle


def test_epoch_device_and_bad_arguments() -> None:
    batch = next(epoch_batches(10, 4, generator=_gen(0), device="cpu"))
    assert batch.device.type == "cpu"
    with pytest.raises(ConfigError):
        list(epoch_batches(10, 0, generator=_gen(0)))
    with pytest.raises(ConfigError):
        list(epoch_batches(-1, 4, generator=_gen(0)))


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 300),
    batch_size=st.integers(1, 64),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_epoch_is_a_permutation(
    n: int, batch_size: int, drop_last: bool, seed: int
) -> None:
    batches = list(epoch_batches(n, batch_size, generator=_gen(seed), drop_last=drop_last))
    seen = torch.cat(batches) if batches else torch.empty(0, dtype=torch.int64)
    assert len(seen.unique()) == len(seen)
    assert len(seen) == (n - n % batch_size if drop_last else n)
    assert ((seen >= 0) & (seen < n)).all()


def _labels() -> torch.Tensor:
    # Ten unbalanced classes, one of them (7) holding only 2 images, shuffled.
    counts = [30, 12, 25, 9, 40, 6, 18, 2, 11, 20]
    y = torch.cat([torch.full((c,), k) for k, c in enumerate(counts)])
    return y[torch.randperm(len(y), generator=_gen(0))]


@pytest.mark.parametrize(("p", "k"), [(4, 3), (10, 5), (1, 1), (3, 8)])
def test_pk_batches_hold_k_images_of_p_distinct_classes(p: int, k: int) -> None:
    y = _labels()
    counts = torch.bincount(y)
    for batch in pk_batches(y, p, k, 50, generator=_gen(1)):
        assert batch.shape == (p * k,) and batch.dtype == torch.int64
        rows = y[batch].view(p, k)  # class-major
        assert (rows == rows[:, :1]).all()  # one class per row
        classes = rows[:, 0]
        assert len(classes.unique()) == p  # P distinct classes
        for j, c in enumerate(classes.tolist()):
            members = batch[j * k : (j + 1) * k]
            if counts[c] >= k:  # without replacement whenever the class is big enough
                assert len(members.unique()) == k


def test_pk_is_reproducible_and_covers_classes_and_images() -> None:
    y = _labels()
    sampler = PKSampler(y, 3, 2)
    a = torch.stack(list(sampler.batches(400, generator=_gen(5))))
    b = torch.stack(list(sampler.batches(400, generator=_gen(5))))
    c = torch.stack(list(sampler.batches(400, generator=_gen(6))))
    assert torch.equal(a, b) and not torch.equal(a, c)
    class_hits = torch.bincount(y[a.view(400, 3, 2)[:, :, 0]].flatten(), minlength=10)
    assert class_hits.min() > 0.7 * 120 and class_hits.max() < 1.3 * 120  # uniform over classes
    assert len(a.unique()) == len(y)  # every image is reached


def test_pk_small_class_draws_with_replacement() -> None:
    y = torch.tensor([0, 0, 1, 1, 1, 1, 1, 2])
    counts = torch.bincount(y)
    for batch in pk_batches(y, 3, 4, 20, generator=_gen(2)):
        rows = y[batch].view(3, 4)
        assert sorted(rows[:, 0].tolist()) == [0, 1, 2]
        for j in range(3):
            members = batch[j * 4 : (j + 1) * 4]
            cls = int(rows[j, 0])
            assert set(members.tolist()) <= set(torch.nonzero(y == cls).flatten().tolist())
            if counts[cls] >= 4:
                assert len(members.unique()) == 4


def test_pk_bad_arguments() -> None:
    y = _labels()
    with pytest.raises(ConfigError, match="classes"):
        PKSampler(y, 11, 2)
    with pytest.raises(ConfigError):
        PKSampler(y, 2, 0)
    with pytest.raises(ConfigError):
        PKSampler(torch.empty(0, dtype=torch.int64), 1, 1)
    assert PKSampler(y, 4, 5).batch_size == 20
    assert len(list(pk_batches(y, 2, 2, 7, generator=_gen(0)))) == 7


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_labels_with_a_cpu_generator() -> None:
    y = _labels().cuda()
    batch = next(pk_batches(y, 4, 3, 1, generator=_gen(0)))
    assert batch.device == y.device and (y[batch].view(4, 3) == y[batch].view(4, 3)[:, :1]).all()
    idx = next(epoch_batches(10, 4, generator=_gen(0), device=y.device))
    assert idx.device == y.device


def test_triplet_batches_follow_the_reference_sampling() -> None:
    # Unbalanced classes: sizes 2, 5, 30, 63 (labels shuffled).
    sizes = [2, 5, 30, 63]
    y = torch.cat([torch.full((s,), c) for c, s in enumerate(sizes)])
    y = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(0))]
    g = torch.Generator().manual_seed(1)
    batches = list(triplet_batches(y, 500, 8, generator=g))
    assert all(b.shape == (1500,) and b.dtype == torch.long for b in batches)
    idx = torch.stack(batches).reshape(8, 3, 500)
    a, p, n = idx[:, 0].reshape(-1), idx[:, 1].reshape(-1), idx[:, 2].reshape(-1)
    assert torch.equal(y[a], y[p]) and (a != p).all()  # a different image of the same class
    assert (y[n] != y[a]).all()
    # Anchor class uniform over classes (not over images): each class near 1/4 of 4,000 anchors.
    share = torch.bincount(y[a], minlength=4).float() / len(a)
    assert (share - 0.25).abs().max() < 0.03
    # Negative class uniform over the other classes: given anchor class 0, each other ~1/3.
    neg_share = torch.bincount(y[n][y[a] == 0], minlength=4)[1:].float() / (y[a] == 0).sum()
    assert (neg_share - 1 / 3).abs().max() < 0.06
    # Every image of a class is used, including both images of the 2-image class.
    assert set(a.tolist()) | set(p.tolist()) == set(range(len(y)))
    # Reproducible from the seed.
    again = list(triplet_batches(y, 500, 8, generator=torch.Generator().manual_seed(1)))
    assert all(torch.equal(u, v) for u, v in zip(batches, again, strict=True))


def test_triplet_batches_bad_arguments() -> None:
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ConfigError, match="2 classes"):
        next(triplet_batches(torch.zeros(10, dtype=torch.long), 4, 1, generator=g))
    with pytest.raises(ConfigError, match="2 images"):
        next(triplet_batches(torch.tensor([0, 0, 1]), 4, 1, generator=g))
    with pytest.raises(ConfigError, match="n_triplets"):
        next(triplet_batches(torch.tensor([0, 0, 1, 1]), 0, 1, generator=g))
