"""Every registered denoiser: shape, finite logits, gradients reach every parameter; the
constrained wrapper never adds ink; each reconstruction loss against a naive formula."""

from __future__ import annotations

import math

import pytest
import torch

from mnistmax.errors import ConfigError
from mnistmax.losses.reconstruction import LOSSES, reconstruction_loss
from mnistmax.models.denoisers import DENOISERS, Constrained, build_denoiser


def _x(n: int = 4, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", DENOISERS.names())
def test_shape_finite_and_gradients(name: str) -> None:
    torch.manual_seed(0)
    model = build_denoiser(name, width=8)
    x = _x()
    out, aux = model.forward_train(x)
    assert out.shape == x.shape and torch.isfinite(out).all()
    (out.square().mean() + aux).backward()
    missing = [
        n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0
    ]
    assert not missing, f"{name}: no gradient for {missing}"
    model.eval()
    with torch.no_grad():
        img = model.denoise(x)
    assert img.shape == x.shape and float(img.min()) >= 0 and float(img.max()) <= 1


def test_expected_names_and_residual_blocks_train() -> None:
    assert set(DENOISERS.names()) >= {"conv_ae", "unet", "residual", "attention", "vae"}
    res = build_denoiser("residual", width=8, blocks=3)
    assert sum(1 for n, _ in res.named_parameters() if n.startswith("blocks.")) >= 3 * 4


def test_vae_kl_is_optimised_and_inference_uses_the_mean() -> None:
    torch.manual_seed(0)
    vae = build_denoiser("vae", width=8)
    x = _x()
    _, kl = vae.forward_train(x)
    assert float(kl.detach()) > 0 and kl.requires_grad
    vae.eval()
    with torch.no_grad():
        assert torch.equal(vae(x), vae(x))  # the mean, no sampling


@pytest.mark.parametrize("name", DENOISERS.names())
def test_constrained_output_never_exceeds_input(name: str) -> None:
    for seed in range(3):
        torch.manual_seed(seed)
        model = build_denoiser(name, width=8, constrained=True)
        assert isinstance(model, Constrained)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))  # arbitrary weights
        model.eval()
        x = _x(3, seed)
        x[0] = 1.0
        with torch.no_grad():
            out = model.denoise(x)
        assert bool((out <= x).all()) and bool((out >= 0).all())


def _naive(name: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    p = a.clamp(1e-6, 1 - 1e-6)
    bce = -(b * p.log() + (1 - b) * (1 - p).log())
    if name == "bce":
        return bce.mean()
    if name == "mse":
        return ((a - b) ** 2).mean()
    if name == "l1":
        return (a - b).abs().mean()
    if name == "dice":
        vals = []
        for i in range(len(a)):
            inter = sum(float(u * v) for u, v in zip(a[i].flatten(), b[i].flatten(), strict=True))
            vals.append(1 - (2 * inter + 1) / (float(a[i].sum()) + float(b[i].sum()) + 1))
        return torch.tensor(sum(vals) / len(vals))
    if name == "focal":
        pt = b * p + (1 - b) * (1 - p)
        return ((1 - pt) ** 2 * bce).mean()
    if name == "edge":
        h, w = a.shape[-2:]
        dx = sum(
            (a[..., i, j + 1] - a[..., i, j] - b[..., i, j + 1] + b[..., i, j]).abs().sum()
            for i in range(h)
            for j in range(w - 1)
        ) / (a.numel() // w * (w - 1))
        dy = sum(
            (a[..., i + 1, j] - a[..., i, j] - b[..., i + 1, j] + b[..., i, j]).abs().sum()
            for i in range(h - 1)
            for j in range(w)
        ) / (a.numel() // h * (h - 1))
        return dx + dy
    from skimage.metrics import structural_similarity

    s = [
        structural_similarity(
            a[i, 0].double().numpy(),
            b[i, 0].double().numpy(),
            data_range=1,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        for i in range(len(a))
    ]
    return torch.tensor(1 - sum(s) / len(s))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_match_naive_formulas(name: str) -> None:
    a, b = _x(2, 1), (_x(2, 2) > 0.7).float()
    a = a.requires_grad_()
    loss = reconstruction_loss(name)(a, b)
    assert loss.ndim == 0
    torch.testing.assert_close(
        loss.detach().double(), _naive(name, a.detach(), b).double(), atol=1e-5, rtol=1e-4
    )
    loss.backward()
    assert a.grad is not None and torch.isfinite(a.grad).all()


def test_combined_loss_sums_terms_and_unknown_is_an_error() -> None:
    a, b = _x(2, 3), _x(2, 4)
    both = reconstruction_loss("bce+dice")(a, b)
    torch.testing.assert_close(both, LOSSES["bce"](a, b) + LOSSES["dice"](a, b))
    with pytest.raises(ConfigError, match="unknown reconstruction loss"):
        reconstruction_loss("bce+nope")


def test_bce_is_finite_at_exact_zero_outputs() -> None:
    a = torch.zeros(1, 1, 28, 28, requires_grad=True)
    loss = reconstruction_loss("bce")(a, torch.ones(1, 1, 28, 28))
    assert torch.isfinite(loss)


def test_kept_noise_loss_is_the_cross_entropy_of_added_ink_only() -> None:
    from mnistmax.losses.reconstruction import kept_noise_loss

    clean = (_x(2, 5) > 0.6).float()
    added = (_x(2, 6) > 0.9).float() * (1 - clean)
    noisy = clean + added
    x_hat = (_x(2, 7) * noisy).requires_grad_()
    loss = kept_noise_loss(x_hat, noisy, clean)
    naive = 0.0
    for p, a in zip(x_hat.detach().flatten().tolist(), added.flatten().tolist(), strict=True):
        naive += -math.log(1 - p) if a else 0.0
    assert loss.item() == pytest.approx(naive / clean.numel(), rel=1e-4)
    loss.backward()
    assert x_hat.grad is not None
    assert bool((x_hat.grad[added == 0] == 0).all()) and bool((x_hat.grad[added == 1] > 0).all())
    # Removing every added pixel costs nothing.
    assert kept_noise_loss(clean.clone(), noisy, clean).item() == 0.0
