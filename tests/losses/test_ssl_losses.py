"""SSL losses against naive loops and closed forms."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mnistmax.errors import ConfigError
from mnistmax.losses.barlow import barlow_twins_loss, cross_correlation
from mnistmax.losses.byol import byol_loss, cosine_momentum, ema_update
from mnistmax.losses.contrastive import nt_xent_loss, supcon_loss
from mnistmax.losses.swav import sinkhorn, swav_loss
from mnistmax.losses.vicreg import covariance_term, variance_term, vicreg_loss, vicreg_terms


def naive_nt_xent(z1: torch.Tensor, z2: torch.Tensor, tau: float) -> float:
    z = F.normalize(torch.cat([z1, z2]).double(), dim=1)
    n, b = z.shape[0], z1.shape[0]
    total = 0.0
    for i in range(n):
        j = (i + b) % n
        denom = sum(math.exp(float(z[i] @ z[k]) / tau) for k in range(n) if k != i)
        total += -math.log(math.exp(float(z[i] @ z[j]) / tau) / denom)
    return total / n


def naive_supcon(z: torch.Tensor, y: torch.Tensor, tau: float) -> float:
    u = F.normalize(z.double(), dim=1)
    n = u.shape[0]
    losses = []
    for i in range(n):
        pos = [p for p in range(n) if p != i and y[p] == y[i]]
        if not pos:
            continue
        denom = sum(math.exp(float(u[i] @ u[a]) / tau) for a in range(n) if a != i)
        losses.append(-sum(float(u[i] @ u[p]) / tau - math.log(denom) for p in pos) / len(pos))
    return sum(losses) / len(losses)


@pytest.mark.parametrize("b", [1, 2, 7])
def test_nt_xent_all_equal_is_log_2b_minus_1(b: int) -> None:
    z = torch.ones(b, 5)
    assert float(nt_xent_loss(z, z.clone(), temperature=0.3)) == pytest.approx(math.log(2 * b - 1))


def test_nt_xent_matches_naive_loop() -> None:
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    for tau in (0.1, 0.5):
        assert float(nt_xent_loss(z1, z2, temperature=tau)) == pytest.approx(
            naive_nt_xent(z1, z2, tau), rel=1e-5
        )


def test_nt_xent_is_supcon_with_instance_labels() -> None:
    g = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    ids = torch.arange(5)
    a = nt_xent_loss(z1, z2, temperature=0.2)
    b = supcon_loss(torch.cat([z1, z2]), torch.cat([ids, ids]), temperature=0.2)
    assert float(a) == pytest.approx(float(b), rel=1e-5)


def test_nt_xent_gradient_finite_and_rejects_bad_input() -> None:
    z1 = torch.randn(4, 3, requires_grad=True)
    nt_xent_loss(z1, torch.randn(4, 3)).backward()
    assert z1.grad is not None and torch.isfinite(z1.grad).all()
    with pytest.raises(ConfigError):
        nt_xent_loss(torch.randn(4, 3), torch.randn(3, 3))
    with pytest.raises(ConfigError):
        nt_xent_loss(torch.randn(4, 3), torch.randn(4, 3), temperature=0.0)


def test_supcon_matches_naive_loop_and_skips_lonely_anchors() -> None:
    g = torch.Generator().manual_seed(2)
    z = torch.randn(7, 4, generator=g)
    y = torch.tensor([0, 0, 1, 1, 1, 2, 3])  # classes 2 and 3 have no positive
    assert float(supcon_loss(z, y, temperature=0.1)) == pytest.approx(
        naive_supcon(z, y, 0.1), rel=1e-5
    )


def test_supcon_no_positive_is_differentiable_zero() -> None:
    z = torch.randn(4, 3, requires_grad=True)
    loss = supcon_loss(z, torch.arange(4))
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert z.grad is not None and torch.all(z.grad == 0)


def test_byol_loss_zero_for_identical_directions_and_closed_form() -> None:
    p = torch.randn(5, 8, requires_grad=True)
    loss = byol_loss(p, 3.0 * p.detach())  # same direction, other norm
    assert float(loss.detach()) == pytest.approx(0.0, abs=1e-6)
    loss.backward()
    assert p.grad is not None and torch.allclose(p.grad, torch.zeros_like(p), atol=1e-5)
    # Orthogonal: cos 0 -> 2; opposite: cos -1 -> 4.
    e = torch.eye(2)
    assert float(byol_loss(e, e.flip(0))) == pytest.approx(2.0)
    assert float(byol_loss(e, -e)) == pytest.approx(4.0)


def test_byol_target_gets_no_gradient() -> None:
    p = torch.randn(3, 4, requires_grad=True)
    z = torch.randn(3, 4, requires_grad=True)
    byol_loss(p, z).backward()
    assert z.grad is None


def test_cosine_momentum_schedule_and_ema_update() -> None:
    assert cosine_momentum(0, 100, 0.99) == pytest.approx(0.99)
    assert cosine_momentum(50, 100, 0.99) == pytest.approx(0.995)
    assert cosine_momentum(100, 100, 0.99) == pytest.approx(1.0)
    assert cosine_momentum(200, 100, 0.99) == pytest.approx(1.0)
    t, o = [torch.zeros(3), torch.tensor(5)], [torch.ones(3), torch.tensor(7)]
    ema_update(t, o, 0.75)
    assert torch.allclose(t[0], torch.full((3,), 0.25))
    assert int(t[1]) == 7  # integer buffers are copied


def test_sinkhorn_row_and_column_sums() -> None:
    g = torch.Generator().manual_seed(3)
    scores = F.normalize(torch.randn(64, 8, generator=g), dim=1)
    for iters in (3, 50):
        q = sinkhorn(scores, epsilon=0.05, iters=iters)
        assert q.shape == (64, 8) and torch.all(q >= 0)
        # Every sample's codes are a distribution (exact after the last row step).
        assert torch.allclose(q.sum(dim=1), torch.ones(64), atol=1e-5)
    # Columns converge to equipartition B / K.
    assert torch.allclose(q.sum(dim=0), torch.full((8,), 64 / 8), rtol=1e-3)


def test_sinkhorn_matches_naive_iteration_and_survives_large_scores() -> None:
    s = torch.tensor([[1.0, 0.0, 0.5], [0.2, 0.9, 0.1], [0.3, 0.3, 0.3], [0.0, 0.1, 1.0]])
    eps, b, k = 0.5, 4, 3
    q = torch.exp(s.double() / eps).T  # naive, as in the paper's Algorithm 1 (K, B)
    q /= q.sum()
    for _ in range(3):
        q /= q.sum(dim=1, keepdim=True)
        q /= k
        q /= q.sum(dim=0, keepdim=True)
        q /= b
    q = (q * b).T
    assert torch.allclose(sinkhorn(s, epsilon=eps, iters=3).double(), q, atol=1e-6)
    big = sinkhorn(torch.randn(8, 4) * 50, epsilon=0.05, iters=3)
    assert torch.isfinite(big).all()


def test_swav_loss_is_cross_entropy_and_swapped() -> None:
    g = torch.Generator().manual_seed(4)
    s1, s2 = torch.randn(5, 6, generator=g), torch.randn(5, 6, generator=g)
    q1, q2 = sinkhorn(s1), sinkhorn(s2)
    expected = (
        -0.5
        * (
            (q2 * F.log_softmax(s1 / 0.1, 1)).sum(1) + (q1 * F.log_softmax(s2 / 0.1, 1)).sum(1)
        ).mean()
    )
    assert float(swav_loss(s1, s2, q1, q2, temperature=0.1)) == pytest.approx(float(expected))
    s1r = s1.clone().requires_grad_(True)
    swav_loss(s1r, s2, q1, q2).backward()
    assert s1r.grad is not None and torch.isfinite(s1r.grad).all()


def test_vicreg_terms_on_hand_made_inputs() -> None:
    # Columns: std 2 (no variance penalty) and std 0.5 (penalty 1 - sqrt(0.25 + 1e-4)).
    z = torch.tensor([[2.0, 0.5], [-2.0, -0.5], [2.0, -0.5], [-2.0, 0.5]])
    # var (unbiased) = 16/3 and 1/3; cov(x, y) = sum(x*y)/(n-1) = (1 + 1 - 1 - 1)/3 = 0.
    std = torch.sqrt(torch.tensor([16 / 3, 1 / 3]) + 1e-4)
    assert float(variance_term(z)) == pytest.approx(float(torch.relu(1 - std).mean()))
    assert float(covariance_term(z)) == pytest.approx(0.0, abs=1e-7)
    t = vicreg_terms(z, z)
    assert float(t["inv"]) == 0.0
    zc = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])  # cov off-diagonal = 2 (n - 1 = 1)
    assert float(covariance_term(zc)) == pytest.approx(2 * 2.0**2 / 2)
    z2 = z + 1.0
    assert float(vicreg_terms(z, z2)["inv"]) == pytest.approx(1.0)
    full = vicreg_loss(z, z2, sim_weight=2.0, var_weight=3.0, cov_weight=4.0)
    t2 = vicreg_terms(z, z2)
    assert float(full) == pytest.approx(float(2 * t2["inv"] + 3 * t2["var"] + 4 * t2["cov"]))


def test_vicreg_var_penalises_collapse() -> None:
    z = torch.zeros(8, 4, requires_grad=True)
    t = vicreg_terms(z, z)
    assert float(t["var"].detach()) == pytest.approx(1 - math.sqrt(1e-4))
    t["var"].backward()  # finite gradient at collapse thanks to eps
    assert z.grad is not None and torch.isfinite(z.grad).all()


def test_barlow_identity_correlation_is_zero_and_naive_loop() -> None:
    # Decorrelated, standardised columns: C = I, loss 0.
    z = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    assert torch.allclose(cross_correlation(z, z), torch.eye(2), atol=1e-4)
    assert float(barlow_twins_loss(z, z)) == pytest.approx(0.0, abs=1e-4)
    g = torch.Generator().manual_seed(5)
    a, b = torch.randn(16, 3, generator=g), torch.randn(16, 3, generator=g)
    an = (a - a.mean(0)) / a.std(0, unbiased=False)
    bn = (b - b.mean(0)) / b.std(0, unbiased=False)
    naive = 0.0
    for i in range(3):
        for j in range(3):
            c = float((an[:, i] * bn[:, j]).sum() / 16)
            naive += (1 - c) ** 2 if i == j else 0.01 * c**2
    assert float(barlow_twins_loss(a, b, lambd=0.01)) == pytest.approx(naive, rel=1e-4)
