"""Linear probe: agreement with scikit-learn, and selection on the validation split only."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from mnistmax.eval.linear_probe import (
    DEFAULT_WEIGHT_DECAY,
    fit_logistic,
    linear_probe,
    sklearn_c,
)


def _problem(
    n: int, d: int, k: int, *, signal: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian classes with shifted, anisotropic features (so standardisation matters)."""
    g = torch.Generator().manual_seed(seed)
    centres = signal * torch.randn(k, d, generator=torch.Generator().manual_seed(99))
    y = torch.randint(0, k, (n,), generator=g)
    scale = torch.linspace(0.2, 5.0, d)
    return (centres[y] + torch.randn(n, d, generator=g)) * scale + 3.0, y


@pytest.mark.parametrize("weight_decay", [1e-2, 1e-4])
def test_matches_sklearn_logistic_regression(weight_decay: float) -> None:
    x_tr, y_tr = _problem(400, 10, 4, signal=0.7, seed=0)
    x_te, y_te = _problem(2000, 10, 4, signal=0.7, seed=1)
    res = linear_probe(
        x_tr, y_tr, x_te[:500], y_te[:500], x_te, y_te, weight_decays=(weight_decay,), max_iter=500
    )
    scaler = StandardScaler().fit(x_tr.double().numpy())
    clf = LogisticRegression(C=sklearn_c(weight_decay, 400), tol=1e-10, max_iter=10_000)
    clf.fit(scaler.transform(x_tr.double().numpy()), y_tr.numpy())
    sk_acc = clf.score(scaler.transform(x_te.double().numpy()), y_te.numpy())
    assert res.weight_decay == weight_decay
    assert abs(res.test_acc - sk_acc) <= 0.01
    assert 0.5 < res.test_acc < 0.98  # neither trivial nor hopeless

    # Same objective, same minimiser: compare weights and loss on the standardised inputs.
    xs = torch.from_numpy(scaler.transform(x_tr.double().numpy())).float()
    w, b = fit_logistic(xs, y_tr, 4, weight_decay, max_iter=500, tolerance_grad=1e-7)
    w_sk = torch.from_numpy(clf.coef_.T).float()
    b_sk = torch.from_numpy(clf.intercept_).float()
    assert torch.allclose(w, w_sk, atol=2e-3 * float(w_sk.abs().max()))
    assert torch.allclose(b, b_sk, atol=2e-3 * float(w_sk.abs().max()))

    def objective(w_: torch.Tensor, b_: torch.Tensor) -> float:
        logits = xs.double() @ w_.double() + b_.double()
        ce = torch.nn.functional.cross_entropy(logits, y_tr)
        return float(ce + 0.5 * weight_decay * w_.double().pow(2).sum())

    assert objective(w, b) == pytest.approx(objective(w_sk, b_sk), rel=1e-5)


def test_weight_decay_is_chosen_on_validation_only() -> None:
    # Few noisy training items in many dimensions: validation prefers a strong penalty, while
    # accuracy on the training items themselves prefers a weak one.
    x_tr, y_tr = _problem(60, 40, 2, signal=0.25, seed=2)
    x_va, y_va = _problem(3000, 40, 2, signal=0.25, seed=3)
    grid = (1.0, 1e-2, 1e-4)
    honest = linear_probe(x_tr, y_tr, x_va, y_va, x_va, y_va, weight_decays=grid)
    on_train = linear_probe(x_tr, y_tr, x_tr, y_tr, x_va, y_va, weight_decays=grid)
    assert honest.weight_decay != on_train.weight_decay  # the two splits disagree...
    # ...so a probe that peeked at the test split would change its choice with the test labels.
    shuffled = linear_probe(x_tr, y_tr, x_va, y_va, x_tr, 1 - y_tr, weight_decays=grid)
    assert shuffled.weight_decay == honest.weight_decay
    assert shuffled.val_acc == honest.val_acc
    assert shuffled.val_curve == honest.val_curve
    assert shuffled.test_acc == pytest.approx(1 - honest.train_acc)  # binary: flipped labels
    best = max(honest.val_curve, key=lambda t: t[1])
    assert honest.val_acc == best[1] and honest.weight_decay == best[0]
    assert [wd for wd, _ in honest.val_curve] == sorted(grid, reverse=True)


def test_without_validation_uses_the_documented_default() -> None:
    x, y = _problem(300, 8, 3, signal=1.0, seed=4)
    res = linear_probe(x, y, None, None, x, y, weight_decays=(1.0, 1e-6))
    assert res.weight_decay == DEFAULT_WEIGHT_DECAY
    assert res.val_acc is None and res.val_curve == ()
    assert res.train_acc == res.test_acc > 0.8


def test_runs_under_no_grad_and_ignores_constant_features() -> None:
    x, y = _problem(400, 6, 3, signal=1.5, seed=5)
    x = torch.cat([x, torch.zeros(400, 3)], dim=1)  # dead features, like MNIST's border pixels
    x_te = x.clone()
    x_te[:, -3:] = 0.5  # a value never seen in training must not blow up
    with torch.no_grad():
        res = linear_probe(x, y, x, y, x_te, y)
    assert res.test_acc == pytest.approx(res.train_acc)
    assert np.isfinite(res.test_acc) and res.train_acc > 0.8


def test_sklearn_c_mapping() -> None:
    assert sklearn_c(1e-3, 1000) == pytest.approx(1.0)
    assert sklearn_c(1e-4, 55_000) == pytest.approx(1 / 5.5)
