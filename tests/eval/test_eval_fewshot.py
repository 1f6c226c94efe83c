"""Few-shot evaluation: stratified nested draws, NCM against a naive loop, separable data."""

from __future__ import annotations

import pytest
import torch
from sklearn.linear_model import LogisticRegression

from helpers import make_blobs, naive_ncm_predict
from mnistmax.eval.fewshot import fewshot_eval, fewshot_splits, ncm_predict
from mnistmax.eval.knn import l2_normalize


def test_draws_are_stratified_nested_and_distinct() -> None:
    y = torch.arange(300) % 3 + 4  # classes 4, 5, 6 with 100 items each
    splits = fewshot_splits(y, shots=(1, 5, 20), draws=4, seed=0)
    assert len(splits) == 4
    for split in splits:
        for n, idx in split.items():
            assert idx.unique().numel() == idx.numel() == 3 * n
            assert torch.bincount(y[idx], minlength=7)[4:].tolist() == [n, n, n]
        assert set(split[1].tolist()) <= set(split[5].tolist()) <= set(split[20].tolist())
    draws = [tuple(s[20].tolist()) for s in splits]
    assert len(set(draws)) == 4
    again = fewshot_splits(y, shots=(1, 5, 20), draws=4, seed=0)
    assert all(torch.equal(a[20], b[20]) for a, b in zip(splits, again, strict=True))
    other = fewshot_splits(y, shots=(20,), draws=1, seed=1)
    assert not torch.equal(other[0][20], splits[0][20])


def test_too_few_items_in_a_class_is_an_error() -> None:
    y = torch.tensor([0] * 10 + [1] * 3)
    with pytest.raises(ValueError, match="class 1 has 3"):
        fewshot_splits(y, shots=(5,), draws=1)


def test_ncm_matches_naive() -> None:
    sz, sy = make_blobs(40, 5, 4, spread=2.0, seed=1)
    qz, _ = make_blobs(60, 5, 4, spread=2.0, seed=2)
    got = ncm_predict(l2_normalize(sz), sy, l2_normalize(qz), 4)
    assert got.tolist() == naive_ncm_predict(sz, sy, qz)


def test_fewshot_ncm_equals_naive_per_draw() -> None:
    tz, ty = make_blobs(200, 6, 4, spread=2.5, seed=3)
    qz, qy = make_blobs(80, 6, 4, spread=2.5, seed=4)
    got = fewshot_eval(tz, ty, qz, qy, shots=(2, 10), draws=3, seed=7, classifier="ncm")
    for n in (2, 10):
        accs = []
        for split in fewshot_splits(ty, shots=(2, 10), draws=3, seed=7):
            pred = naive_ncm_predict(tz[split[n]], ty[split[n]], qz)
            accs.append(sum(p == t for p, t in zip(pred, qy.tolist(), strict=True)) / 80)
        mean = sum(accs) / 3
        std = (sum((a - mean) ** 2 for a in accs) / 2) ** 0.5
        assert got[f"fewshot@{n}"] == pytest.approx(mean)
        assert got[f"fewshot@{n}_std"] == pytest.approx(std)
    assert set(got) == {"fewshot@2", "fewshot@2_std", "fewshot@10", "fewshot@10_std"}


@pytest.mark.parametrize("classifier", ["logreg", "ncm"])
def test_separated_clusters_are_learned_from_one_shot(classifier: str) -> None:
    tz, ty = make_blobs(300, 16, 5, spread=0.1, seed=5)
    qz, qy = make_blobs(200, 16, 5, spread=0.1, seed=5)
    ty, qy = ty * 2 + 1, qy * 2 + 1  # labels need not be 0..K-1
    got = fewshot_eval(tz, ty, qz, qy, shots=(1, 5), draws=2, classifier=classifier)  # type: ignore[arg-type]
    assert got["fewshot@1"] == got["fewshot@5"] == 1.0
    assert got["fewshot@1_std"] == 0.0


def test_logreg_matches_sklearn_default_c_on_normalised_features() -> None:
    tz, ty = make_blobs(400, 8, 4, spread=1.0, seed=6)
    qz, qy = make_blobs(400, 8, 4, spread=1.0, seed=7)
    got = fewshot_eval(tz, ty, qz, qy, shots=(1, 20), draws=3, classifier="logreg")
    x_tr, x_te = l2_normalize(tz).double().numpy(), l2_normalize(qz).double().numpy()
    accs = []
    for split in fewshot_splits(ty, shots=(20,), draws=3, seed=0):
        idx = split[20].numpy()
        clf = LogisticRegression(C=1.0, tol=1e-8, max_iter=1000).fit(x_tr[idx], ty.numpy()[idx])
        accs.append(clf.score(x_te, qy.numpy()))
    assert got["fewshot@20"] == pytest.approx(sum(accs) / 3, abs=0.01)
    assert got["fewshot@20"] > 0.7 > got["fewshot@1"] > 0.4  # chance is 0.25
    assert got["fewshot@1_std"] > 0.0  # different draws give different classifiers
