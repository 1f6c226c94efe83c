"""Denoising metrics: PSNR/SSIM parity with scikit-image, hand cases for binary and constrained
metrics, baselines against scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mnistmax.denoise.baselines import gauss_blur, median3, opening
from mnistmax.eval.denoise_metrics import DenoiseMeter, psnr, ssim

skimage_metrics = pytest.importorskip("skimage.metrics")


def _pairs(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(5, 1, 28, 28, generator=g) ** 3  # mostly dark, like digits
    b = (a + 0.3 * torch.randn(5, 1, 28, 28, generator=g)).clamp(0, 1)
    b[0] = a[0]  # one identical pair
    b[1] = 1 - a[1]  # one inverted pair
    return b, a


@pytest.mark.parametrize("seed", [0, 1])
def test_ssim_matches_scikit_image(seed: int) -> None:
    x_hat, x = _pairs(seed)
    got = ssim(x_hat, x).double().numpy()
    want = [
        skimage_metrics.structural_similarity(
            x_hat[i, 0].double().numpy(),
            x[i, 0].double().numpy(),
            data_range=1.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        for i in range(len(x))
    ]
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert got[0] == pytest.approx(1.0, abs=1e-6)


def test_psnr_matches_scikit_image_and_caps() -> None:
    x_hat, x = _pairs(2)
    got = psnr(x_hat[1:], x[1:]).double().numpy()
    want = [
        skimage_metrics.peak_signal_noise_ratio(x[i, 0].numpy(), x_hat[i, 0].numpy(), data_range=1)
        for i in range(1, len(x))
    ]
    np.testing.assert_allclose(got, want, rtol=1e-4)
    assert float(psnr(x[:1], x[:1])[0]) == pytest.approx(100.0)


def test_binary_metrics_hand_case() -> None:
    clean = torch.tensor([[1.0, 1.0], [0.0, 0.0]]).view(1, 1, 2, 2)
    out = torch.tensor([[0.9, 0.2], [0.7, 0.1]]).view(1, 1, 2, 2)  # tp 1, fn 1, fp 1, tn 1
    m = DenoiseMeter()
    m.update(out, clean)
    r = m.result()
    assert r["pixel_acc"] == 0.5
    assert r["precision"] == 0.5 and r["recall"] == 0.5 and r["specificity"] == 0.5
    assert r["dice"] == pytest.approx(0.5) and r["iou"] == pytest.approx(1 / 3)
    assert r["hamming"] == 2 and r["image_acc"] == 0.0
    assert r["mse"] == pytest.approx(((out - clean) ** 2).mean().item())
    p = out.clamp(1e-6, 1 - 1e-6)
    bce = -(clean * p.log() + (1 - clean) * (1 - p).log()).mean()
    assert r["bce"] == pytest.approx(bce.item(), rel=1e-5)


def test_constrained_metrics_hand_case() -> None:
    clean = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0, 0.0]).view(1, 1, 2, 3)
    noisy = torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0, 0.0]).view(1, 1, 2, 3)  # 3 added
    out = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]).view(1, 1, 2, 3)  # removes 2, keeps 1 ink
    m = DenoiseMeter()
    m.update(out, clean, noisy)
    r = m.result()
    assert r["removal"] == pytest.approx(2 / 3)
    assert r["ink_kept"] == pytest.approx(1 / 2)


def test_meter_batches_equal_one_pass() -> None:
    x_hat, x = _pairs(3)
    one, two = DenoiseMeter(), DenoiseMeter()
    one.update(x_hat, x, x_hat)
    two.update(x_hat[:2], x[:2], x_hat[:2])
    two.update(x_hat[2:], x[2:], x_hat[2:])
    a, b = one.result(), two.result()
    assert a["psnr"] == pytest.approx(-10 * math.log10(float(((x_hat - x) ** 2).mean())), rel=1e-5)
    assert a["psnr_img"] == pytest.approx(float(psnr(x_hat, x).mean()), rel=1e-5)
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-6) or (math.isnan(a[k]) and math.isnan(b[k]))


def test_baselines_match_scipy() -> None:
    from scipy.ndimage import gaussian_filter, median_filter

    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(4))
    for i in range(3):
        a = x[i, 0].double().numpy()
        np.testing.assert_allclose(
            median3(x)[i, 0].numpy(), median_filter(a, 3, mode="mirror"), atol=1e-6
        )
        want = gaussian_filter(a, 1.0, mode="constant", truncate=4.0)
        np.testing.assert_allclose(gauss_blur(x)[i, 0].numpy(), want, atol=1e-5)
    # Opening removes an isolated speck but keeps a 3×3 block.
    img = torch.zeros(1, 1, 28, 28)
    img[0, 0, 5, 5] = 1
    img[0, 0, 10:13, 10:13] = 1
    out = opening(img)
    assert out[0, 0, 5, 5] == 0 and bool((out[0, 0, 10:13, 10:13] == 1).all())
