"""Registry contract for every encoder and head: shapes, finite values, gradients everywhere."""

from __future__ import annotations

import pytest
import torch

from mnistmax.errors import ConfigError
from mnistmax.models.encoders import ENCODERS, build_encoder


@pytest.mark.parametrize("name", ENCODERS.names())
@pytest.mark.parametrize("channels_last", [False, True])
def test_encoder_contract(name: str, channels_last: bool) -> None:
    torch.manual_seed(0)
    enc = build_encoder(name, embed_dim=24, dropout=0.0)
    assert enc.embed_dim == 24
    x = torch.rand(6, 1, 28, 28)
    if channels_last:
        enc = enc.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        x = x.contiguous(memory_format=torch.channels_last)
    h = enc(x)
    assert h.shape == (6, 24)
    assert torch.isfinite(h).all()
    h.pow(2).sum().backward()
    missing = [n for n, p in enc.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, f"{name}: parameters without gradient: {missing}"
    enc.eval()
    with torch.no_grad():
        assert torch.isfinite(enc(x[:1])).all()  # eval mode, batch of one (BatchNorm)


def test_seed_cnn_matches_reference_parameter_count() -> None:
    enc = build_encoder("seed_cnn", embed_dim=128)
    assert sum(p.numel() for p in enc.parameters()) == 158_592


def test_registry_holds_the_issue_encoders() -> None:
    assert {"seed_cnn", "conv_small", "resnet_small", "vit_tiny", "conv_se"} <= set(
        ENCODERS.names()
    )


def test_resnet_small_keeps_7x7_final_maps() -> None:
    enc = build_encoder("resnet_small", embed_dim=16)
    maps = enc.features[:-2](torch.rand(2, 1, 28, 28))  # type: ignore[index]
    assert maps.shape[-2:] == (7, 7)


@pytest.mark.parametrize("patch,pool", [(4, "cls"), (7, "mean")])
def test_vit_tiny_patches_and_pooling(patch: int, pool: str) -> None:
    enc = build_encoder("vit_tiny", embed_dim=8, patch=patch, pool=pool, width=32, depth=1, heads=2)
    assert enc.pos.shape[1] == (28 // patch) ** 2 + 1  # type: ignore[union-attr]
    assert enc(torch.rand(3, 1, 28, 28)).shape == (3, 8)


def test_vit_tiny_rejects_bad_patch() -> None:
    with pytest.raises(ConfigError):
        build_encoder("vit_tiny", patch=5)
