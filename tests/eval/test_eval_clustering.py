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


# --- Gaussian mixtures on PCA-reduced features, and the evaluation's extra clustering keys ---


def test_pca_reduce_matches_sklearn_up_to_sign() -> None:
    from sklearn.decomposition import PCA

    from mnistmax.eval.clustering import pca_reduce

    x = torch.randn(200, 12, generator=torch.Generator().manual_seed(0)).numpy()
    x[:, 0] *= 5.0  # distinct variances: the directions are well defined
    x[:, 1] *= 3.0
    got = pca_reduce(x, 4)
    ref = PCA(n_components=4, svd_solver="full").fit_transform(x.astype(np.float64))
    signs = np.sign((got * ref).sum(axis=0))
    np.testing.assert_allclose(got, ref * signs, atol=1e-4)
    assert pca_reduce(x, 12) is x and pca_reduce(x, 50) is x  # nothing to reduce
    with pytest.raises(ValueError, match="pca_dim"):
        pca_reduce(x, 0)


def test_gmm_equals_sklearn_on_reduced_normalised_features() -> None:
    from sklearn.mixture import GaussianMixture

    from mnistmax.eval.clustering import pca_reduce

    z, y = make_blobs(300, 10, 4, spread=1.0, seed=4)
    got = cluster_metrics(z, y, method="gmm", covariance="full", pca_dim=5, n_init=2, seed=3)
    x = pca_reduce((z / z.norm(dim=1, keepdim=True)).numpy(), 5)
    pred = GaussianMixture(
        4, covariance_type="full", n_init=2, random_state=3, reg_covar=1e-5
    ).fit_predict(x)
    assert got["nmi"] == pytest.approx(normalized_mutual_info_score(y.numpy(), pred))
    assert got["ari"] == pytest.approx(adjusted_rand_score(y.numpy(), pred))
    assert got["acc"] == pytest.approx(brute_force_matching_accuracy(y.tolist(), pred.tolist()))


def test_full_covariance_gmm_separates_elongated_clusters_kmeans_cannot() -> None:
    # Two long, thin, parallel clusters (std 0.7 along, 0.08 across, centres 1 apart), far from
    # the origin so that L2 normalisation is nearly a uniform scaling. k-means cuts across the
    # long axis (lower inertia); a full-covariance mixture follows the clusters. (With a much
    # longer axis EM stays in the k-means optimum it starts from: a known limit of EM.)
    g = torch.Generator().manual_seed(0)
    n = 400
    y = torch.arange(n) % 2
    long_axis = 0.7 * torch.randn(n, generator=g)
    short_axis = (y.float() - 0.5) + 0.08 * torch.randn(n, generator=g)
    z = torch.stack([long_axis, short_axis, torch.full((n,), 40.0)], dim=1)
    gmm = cluster_metrics(z, y, method="gmm", covariance="full", pca_dim=2, n_init=3)
    km = cluster_metrics(z, y, method="kmeans", n_init=3)
    assert gmm["acc"] > 0.98
    assert km["acc"] < 0.6


def test_unknown_covariance_is_rejected() -> None:
    z, y = make_blobs(20, 3, 2, spread=0.1, seed=0)
    with pytest.raises(ValueError, match="unknown GMM covariance"):
        cluster_metrics(z, y, method="gmm", covariance="banana")  # type: ignore[arg-type]


def _synthetic_splits() -> tuple[dict[str, torch.Tensor], object]:
    from mnistmax.data.splits import Split, Splits

    parts = {}
    for i, (name, n) in enumerate((("train", 240), ("val", 60), ("test", 100))):
        parts[name] = make_blobs(n, 6, 4, spread=0.6, seed=10 + i)
    x = torch.zeros(1, 1, 28, 28)  # images are not read by representation_metrics

    def split(name: str) -> Split:
        _, y = parts[name]
        return Split(x.expand(len(y), -1, -1, -1), y)

    splits = Splits(split("train"), split("val"), split("test"), tuple("abcd"))
    return {k: v[0] for k, v in parts.items()}, splits


def test_evaluation_adds_gmm_and_all_split_kmeans_behind_flags() -> None:
    from mnistmax.config import EvalConfig
    from mnistmax.representation.protocol import representation_metrics

    feats, splits = _synthetic_splits()
    off = EvalConfig(linear_probe=False, fewshot=False, kmeans_n_init=2)
    base = representation_metrics(feats, splits, off)  # type: ignore[arg-type]
    assert not any("gmm" in k or k.startswith("all/") for k in base)

    on = EvalConfig(
        linear_probe=False,
        fewshot=False,
        kmeans_n_init=2,
        gmm=True,
        gmm_pca_dim=4,
        cluster_all=True,
    )
    got = representation_metrics(feats, splits, on)  # type: ignore[arg-type]
    z_all = torch.cat([feats["train"], feats["val"], feats["test"]])
    y_all = torch.cat([splits.train.y, splits.val.y, splits.test.y])  # type: ignore[attr-defined]
    expect_all = cluster_metrics(z_all, y_all, n_init=2, seed=0)
    expect_gmm = cluster_metrics(
        feats["test"],
        splits.test.y,  # type: ignore[attr-defined]
        method="gmm",
        covariance="full",
        pca_dim=4,
        n_init=2,
        seed=0,
    )
    for k in ("acc", "nmi", "ari"):
        assert got[f"all/kmeans_{k}"] == pytest.approx(expect_all[k])
        assert got[f"test/gmm_{k}"] == pytest.approx(expect_gmm[k])
        assert got[f"test/kmeans_{k}"] == base[f"test/kmeans_{k}"]
    # A baseline's metrics have no split prefix; "all/" keeps the 70k numbers apart.
    bare = representation_metrics(feats, splits, on, prefix="")  # type: ignore[arg-type]
    assert bare["all/kmeans_acc"] == pytest.approx(expect_all["acc"])
    assert bare["gmm_acc"] == pytest.approx(expect_gmm["acc"])
