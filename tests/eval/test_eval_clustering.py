"""Clustering ACC (Hungarian), NMI and ARI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from helpers import brute_force_matching_accuracy, make_blobs
from mnistmax.eval.clustering import cluster_metrics, hungarian_accuracy


def test_permuted_labelling_scores_one() -> None:
    y = torch.tensor([0, 0, 1, 1, 2, 2, 2])
    perm = torch.tensor([2, 0, 1])
    assert hungarian_accuracy(y, perm[y]) == 1.0
    assert hungarian_accuracy(y.numpy(), (perm[y] + 10).tolist()) == 1.0


def test_hand_case_acc_point_eight() -> None:
    y_true = [0] * 5 + [1] * 5
    y_pred = [1, 1, 1, 1, 0, 0, 0, 0, 0, 1]  # best map 1->0, 0->1: 8 of 10 right
    assert hungarian_accuracy(y_true, y_pred) == pytest.approx(0.8)


@pytest.mark.parametrize("n_clusters", [3, 4, 5])
def test_hungarian_matches_brute_force(n_clusters: int) -> None:
    rng = np.random.default_rng(n_clusters)
    for _ in range(5):
        t = rng.integers(0, 4, 40)
        p = rng.integers(0, n_clusters, 40)
        assert hungarian_accuracy(t, p) == pytest.approx(
            brute_force_matching_accuracy(t.tolist(), p.tolist())
        )


def test_metrics_equal_sklearn_on_normalised_features() -> None:
    z, y = make_blobs(300, 6, 4, spread=1.2, seed=1)
    got = cluster_metrics(z, y, n_init=3, seed=5)
    x = (z / z.norm(dim=1, keepdim=True)).numpy()
    pred = KMeans(n_clusters=4, n_init=3, random_state=5).fit_predict(x)
    assert got["nmi"] == pytest.approx(normalized_mutual_info_score(y.numpy(), pred))
    assert got["ari"] == pytest.approx(adjusted_rand_score(y.numpy(), pred))
    assert got["acc"] == pytest.approx(brute_force_matching_accuracy(y.tolist(), pred.tolist()))
    assert 0.3 < got["acc"] < 1.0  # the problem is neither trivial nor hopeless


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_separated_clusters_are_recovered(method: str) -> None:
    z, y = make_blobs(200, 8, 5, spread=0.05, seed=2)
    got = cluster_metrics(z, y, method=method, n_init=2)  # type: ignore[arg-type]
    assert got == pytest.approx({"acc": 1.0, "nmi": 1.0, "ari": 1.0})


def test_random_features_score_near_zero() -> None:
    g = torch.Generator().manual_seed(3)
    got = cluster_metrics(
        torch.randn(400, 8, generator=g), torch.randint(0, 4, (400,), generator=g), n_init=2
    )
    assert abs(got["ari"]) < 0.05 and got["nmi"] < 0.05 and got["acc"] < 0.4


def test_unknown_method_is_rejected() -> None:
    z, y = make_blobs(20, 3, 2, spread=0.1, seed=0)
    with pytest.raises(ValueError, match="unknown clustering method"):
        cluster_metrics(z, y, method="dbscan")  # type: ignore[arg-type]
