"""P@1, MAP@R and triplet accuracy against naive loops and hand-computed cases."""

from __future__ import annotations

import math

import pytest
import torch

from helpers import make_blobs, naive_map_at_r, naive_precision_at_1, naive_triplet_accuracy
from mnistmax.eval.retrieval import map_at_r, precision_at_1, retrieval_metrics, triplet_accuracy


def _on_circle(degrees: list[float]) -> torch.Tensor:
    rad = torch.tensor(degrees, dtype=torch.float64) * math.pi / 180
    return torch.stack([rad.cos(), rad.sin()], dim=1).float()


@pytest.mark.parametrize("seed", [0, 1])
def test_retrieval_matches_naive_loops(seed: int) -> None:
    z, y = make_blobs(90, 5, 4, spread=1.5, seed=seed)
    y = torch.cat([y, torch.tensor([9])])  # a lone class: its query is left out
    z = torch.cat([z, torch.randn(1, 5, generator=torch.Generator().manual_seed(seed))])
    assert map_at_r(z, y, chunk=16) == pytest.approx(naive_map_at_r(z, y), abs=1e-12)
    assert precision_at_1(z, y, chunk=16) == pytest.approx(naive_precision_at_1(z, y), abs=1e-12)


def test_perfect_clusters_score_one() -> None:
    z, y = make_blobs(60, 8, 3, spread=0.01, seed=2)
    assert map_at_r(z, y) == 1.0
    assert precision_at_1(z, y) == 1.0


def test_hand_case_with_known_values() -> None:
    # Points on the unit circle; cosine ranks by angular distance.
    # Class 0 at 0°, 20°, 50° (R = 2); class 1 at 30°, 85° (R = 1); class 2 alone at 180° (left out).
    # Top-R lists:  0° -> [20 (hit), 30]: AP = 1/2 * 1 = 0.5.   20° -> [30, 0 (hit)]: AP = 1/2 * 1/2.
    #               50° -> [30, 20 (hit)]: AP = 0.25.           30° -> [20]: 0.   85° -> [50]: 0.
    z = _on_circle([0, 20, 50, 30, 85, 180])
    y = torch.tensor([0, 0, 0, 1, 1, 2])
    assert map_at_r(z, y) == pytest.approx((0.5 + 0.25 + 0.25) / 5)
    assert precision_at_1(z, y) == pytest.approx(1 / 5)  # only 0° finds its class first
    both = retrieval_metrics(z, y, chunk=2)
    assert both == pytest.approx({"map_at_r": 0.2, "precision_at_1": 0.2})


def test_labels_need_not_be_contiguous() -> None:
    z = _on_circle([0, 20, 50, 30, 85, 180])
    y = torch.tensor([7, 7, 7, -3, -3, 100])
    assert map_at_r(z, y) == pytest.approx(0.2)


def test_equal_similarities_rank_smaller_index_first() -> None:
    # Query 0 has three identical candidates; R = 1, the hit is index 3 (last): AP = 0.
    z = torch.tensor([[1.0, 0.0]] * 4)
    y = torch.tensor([0, 1, 1, 0])
    # 0 -> [1] miss; 1 -> [0, 2, ...]: R=1 -> [0] miss; 2 -> [0, 1]: R=1 -> [0] miss; 3 -> [0] hit.
    assert map_at_r(z, y) == pytest.approx(1 / 4)
    assert precision_at_1(z, y) == pytest.approx(1 / 4)


def test_chunk_size_does_not_change_results() -> None:
    z, y = make_blobs(150, 6, 5, spread=1.5, seed=3)
    # Duplicated items give exact similarity ties, across chunk boundaries too.
    z, y = torch.cat([z, z[:70]]), torch.cat([y, y[:70]])
    out = [retrieval_metrics(z, y, chunk=c) for c in (7, 64, 10_000)]
    assert out[0] == out[1] == out[2]


def test_needs_a_class_with_two_items() -> None:
    with pytest.raises(ValueError, match="two or more"):
        map_at_r(torch.eye(3), torch.tensor([0, 1, 2]))


def test_triplet_accuracy_matches_naive() -> None:
    g = torch.Generator().manual_seed(4)
    a, p, n = (torch.randn(200, 6, generator=g) for _ in range(3))
    want = naive_triplet_accuracy(a, p, n)
    assert triplet_accuracy(a, p, n) == pytest.approx(want)
    assert triplet_accuracy(a, p, n, squared=False) == pytest.approx(want)
    assert 0.3 < want < 0.7


def test_triplet_accuracy_hand_cases() -> None:
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    far = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])
    assert triplet_accuracy(a, 3 * a, far) == 1.0  # scale does not matter: L2-normalised
    assert triplet_accuracy(a, far, a) == 0.0
    assert triplet_accuracy(a, a, a) == 0.0  # ties are failures: collapse scores 0
