"""Weighted kNN against a naive float64 loop, hand cases, leave-one-out and chunk invariance."""

from __future__ import annotations

import math

import pytest
import torch

from helpers import make_blobs, naive_knn_predict
from mnistmax.eval.knn import knn_accuracy, knn_predict, topk_stable


@pytest.mark.parametrize("tau", [0.01, 0.07, 0.5])
@pytest.mark.parametrize("k", [1, 5, 20])
def test_knn_matches_naive_loop(k: int, tau: float) -> None:
    bank, bank_y = make_blobs(150, 6, 4, spread=1.5, seed=1)
    query, query_y = make_blobs(40, 6, 4, spread=1.5, seed=2)
    want = naive_knn_predict(bank, bank_y, query, k=k, tau=tau, num_classes=4)
    got = knn_predict(bank, bank_y, query, k=k, tau=tau, num_classes=4, chunk=16)
    assert got.tolist() == want
    acc = knn_accuracy(bank, bank_y, query, query_y, ks=(k,), tau=tau, chunk=16)
    assert acc[k] == pytest.approx(
        sum(a == b for a, b in zip(want, query_y.tolist(), strict=True)) / 40
    )


def test_one_pass_for_all_ks_equals_separate_calls() -> None:
    bank, bank_y = make_blobs(200, 5, 3, spread=2.0, seed=3)
    query, query_y = make_blobs(50, 5, 3, spread=2.0, seed=4)
    together = knn_accuracy(bank, bank_y, query, query_y, ks=(1, 7, 30))
    for k in (1, 7, 30):
        assert together[k] == knn_accuracy(bank, bank_y, query, query_y, ks=(k,))[k]


def test_hand_case_tau_decides_between_one_close_and_two_farther_neighbours() -> None:
    # Query (1, 0); similarities: 1.0 (class 0), 0.8 and 0.6 (class 1).
    bank = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8]])
    bank_y = torch.tensor([0, 1, 1])
    q = torch.tensor([[2.0, 0.0]])  # the scale must not matter: features are L2-normalised
    assert knn_predict(bank, bank_y, q, k=1).tolist() == [0]
    # tau = 1: e^1 = 2.72 for class 0 against e^0.8 + e^0.6 = 4.05 for class 1.
    assert math.exp(1.0) < math.exp(0.8) + math.exp(0.6)
    assert knn_predict(bank, bank_y, q, k=3, tau=1.0).tolist() == [1]
    # tau = 0.1: e^10 against e^8 + e^6: the close neighbour wins.
    assert knn_predict(bank, bank_y, q, k=3, tau=0.1).tolist() == [0]


def test_equal_similarity_goes_to_the_smaller_bank_index_and_vote_ties_to_smaller_class() -> None:
    q = torch.tensor([[1.0, 0.0]])
    dup = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert knn_predict(dup, torch.tensor([1, 0, 2]), q, k=1).tolist() == [1]
    assert knn_predict(dup, torch.tensor([0, 1, 2]), q, k=1).tolist() == [0]
    # k = 2: one vote each of equal weight for classes 1 and 0 -> class 0.
    assert knn_predict(dup, torch.tensor([1, 0, 2]), q, k=2).tolist() == [0]


def test_boundary_ties_choose_smaller_indices() -> None:
    # 40 identical bank rows: which 5 enter the top-5 is decided by index only.
    bank = torch.ones(40, 3)
    vals, idx = topk_stable(torch.ones(2, 40), 5)
    assert idx.tolist() == [[0, 1, 2, 3, 4]] * 2
    assert vals.tolist() == [[1.0] * 5] * 2
    y = torch.tensor([1] * 5 + [0] * 35)  # the first five rows are class 1
    assert knn_predict(bank, y, torch.ones(3, 3), k=5).tolist() == [1, 1, 1]


def test_topk_stable_orders_like_a_stable_sort() -> None:
    g = torch.Generator().manual_seed(5)
    sim = torch.randint(0, 4, (30, 50), generator=g).float()  # many exact ties
    for k in (1, 7, 50):
        vals, idx = topk_stable(sim, k)
        ref_vals, ref_idx = torch.sort(sim, dim=1, descending=True, stable=True)
        assert torch.equal(idx, ref_idx[:, :k])
        assert torch.equal(vals, ref_vals[:, :k])


def test_exclude_self_is_leave_one_out() -> None:
    z = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    y = torch.tensor([0, 1, 1])
    # Every item is its own nearest neighbour...
    assert knn_accuracy(z, y, z, y, ks=(1,))[1] == 1.0
    # ...until it is excluded: 0 -> 1 (wrong), 1 -> 0 (wrong), 2 -> 1 (right).
    assert knn_accuracy(z, y, z, y, ks=(1,), exclude_self=True)[1] == pytest.approx(1 / 3)


@pytest.mark.parametrize("k", [1, 5])
def test_exclude_self_matches_naive(k: int) -> None:
    z, y = make_blobs(80, 4, 3, spread=1.5, seed=6)
    want = naive_knn_predict(z, y, z, k=k, tau=0.07, num_classes=3, exclude_self=True)
    assert knn_predict(z, y, z, k=k, exclude_self=True, chunk=9).tolist() == want


def test_exclude_self_needs_the_bank_as_queries() -> None:
    z, y = make_blobs(10, 3, 2, spread=1.0, seed=0)
    with pytest.raises(ValueError, match="exclude_self"):
        knn_accuracy(z, y, z[:5], y[:5], exclude_self=True)


def test_k_larger_than_bank_uses_whole_bank() -> None:
    bank, bank_y = make_blobs(30, 4, 3, spread=1.0, seed=7)
    query, query_y = make_blobs(20, 4, 3, spread=1.0, seed=8)
    acc = knn_accuracy(bank, bank_y, query, query_y, ks=(30, 200))
    assert acc[200] == acc[30]


def test_chunk_size_does_not_change_results() -> None:
    bank, bank_y = make_blobs(300, 8, 5, spread=1.5, seed=9)
    query, query_y = make_blobs(150, 8, 5, spread=1.5, seed=10)
    # Duplicated bank rows give exact similarity ties, so the tie rule is exercised too.
    bank, bank_y = torch.cat([bank, bank[:100]]), torch.cat([bank_y, bank_y[:100]])
    results = [
        knn_accuracy(bank, bank_y, query, query_y, ks=(1, 20, 200), chunk=c)
        for c in (7, 64, 10_000)
    ]
    assert results[0] == results[1] == results[2]
    preds = [knn_predict(bank, bank_y, query, k=20, chunk=c) for c in (7, 64, 10_000)]
    assert torch.equal(preds[0], preds[1]) and torch.equal(preds[0], preds[2])


def test_small_tau_stays_finite_and_well_separated_data_is_perfect() -> None:
    bank, bank_y = make_blobs(200, 16, 10, spread=0.05, seed=11)
    query, query_y = make_blobs(100, 16, 10, spread=0.05, seed=11)
    acc = knn_accuracy(bank, bank_y, query, query_y, ks=(1, 20), tau=0.001)
    assert acc == {1: 1.0, 20: 1.0}


def test_random_labels_are_at_chance() -> None:
    g = torch.Generator().manual_seed(12)
    bank, query = torch.randn(500, 8, generator=g), torch.randn(500, 8, generator=g)
    bank_y, query_y = (
        torch.randint(0, 10, (500,), generator=g),
        torch.randint(0, 10, (500,), generator=g),
    )
    acc = knn_accuracy(bank, bank_y, query, query_y, ks=(20,))
    assert 0.03 < acc[20] < 0.2
