"""bf16 mixed precision (training/precision.py) and BatchNorm folding for inference (eval/embed.py)."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from mnistmax.config import apply_overrides
from mnistmax.errors import ConfigError
from mnistmax.eval.embed import embed, fused_for_inference
from mnistmax.families import train_run
from mnistmax.methods import build_method
from mnistmax.models.encoders import ENCODERS, build_encoder
from mnistmax.recipes import get_preset
from mnistmax.training import precision as P
from mnistmax.training.loop import _identity

CPU = torch.device("cpu")


def test_resolve_precision(monkeypatch: pytest.MonkeyPatch) -> None:
    assert P.resolve_precision("fp32", CPU) == "fp32"
    with pytest.raises(ConfigError, match=r"unknown train\.precision"):
        P.resolve_precision("fp16", CPU)
    monkeypatch.setattr(P, "bf16_native", lambda device: True)
    assert P.resolve_precision("auto", CPU) == "bf16"
    assert P.resolve_precision("bf16", CPU) == "bf16"
    monkeypatch.setattr(P, "bf16_native", lambda device: False)
    assert P.resolve_precision("auto", CPU) == "fp32"
    with pytest.raises(ConfigError, match="native bfloat16"):
        P.resolve_precision("bf16", CPU)


def test_full_precision_undoes_autocast() -> None:
    a, b = torch.randn(8, 8), torch.randn(8, 8)
    with P.autocast(CPU, "bf16"):
        assert (a @ b).dtype == torch.bfloat16
        with P.full_precision(CPU):
            assert (a @ b).dtype == torch.float32
    with P.autocast(CPU, "fp32"):
        assert (a @ b).dtype == torch.float32


@pytest.mark.parametrize("preset", ["triplet_quick", "simclr_quick", "vicreg_quick", "dae_quick"])
def test_bf16_step_keeps_loss_and_gradients_float32(preset: str) -> None:
    """Under bf16 autocast the loss is float32, close to the float32 loss, and every trainable
    parameter gets a float32 gradient; the augmentation/noise input is bit-identical."""
    cfg = get_preset(preset)
    torch.manual_seed(0)
    method = build_method(cfg)
    method.train()
    x = torch.rand(48, 1, 28, 28)
    y = torch.arange(48) % 10
    losses = {}
    for precision in ("fp32", "bf16"):
        g = torch.Generator().manual_seed(3)
        torch.manual_seed(1)  # e.g. a VAE's sampling
        method.zero_grad(set_to_none=True)
        with P.autocast(CPU, precision):
            out = method.training_step(x, y, generator=g)
        assert out.loss.dtype == torch.float32
        out.loss.backward()
        losses[precision] = float(out.loss.detach())
        for name, p in method.named_parameters():
            if p.requires_grad and p.grad is not None:
                assert p.grad.dtype == torch.float32, name
    assert losses["bf16"] == pytest.approx(losses["fp32"], rel=0.05, abs=0.02)


def test_identity_accepts_runs_from_before_precision() -> None:
    cfg = get_preset("triplet_quick")
    new = dataclasses.asdict(cfg)
    old = copy.deepcopy(new)
    del old["train"]["precision"]
    assert _identity(old) == _identity(new)
    changed = dataclasses.asdict(apply_overrides(cfg, ["train.precision=auto"]))
    assert _identity(changed) != _identity(new)


def test_run_records_effective_precision(tmp_path: Path) -> None:
    cfg = apply_overrides(get_preset("triplet_quick"), ["train.precision=auto", "train.epochs=1"])
    metrics = train_run(cfg, tmp_path / "run", quiet=True, evaluate=True)
    expected = P.resolve_precision("auto", CPU)
    epochs = [
        json.loads(line) for line in (tmp_path / "run/metrics.jsonl").read_text().splitlines()
    ]
    assert [r["precision"] for r in epochs if r["kind"] == "epoch"] == [expected]
    assert metrics["train_precision"] == expected
    assert metrics["test/knn@20"] > 0.5


def _randomise_batchnorm(model: nn.Module) -> None:
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=g) - 0.5)


@pytest.mark.parametrize("name", ENCODERS.names())
def test_folding_batchnorm_keeps_outputs(name: str) -> None:
    torch.manual_seed(0)
    enc = build_encoder(name, embed_dim=16).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    _randomise_batchnorm(enc)
    x = torch.rand(20, 1, 28, 28)
    enc.eval()
    with torch.no_grad():
        expected = enc(x)
    enc.train()
    fused = fused_for_inference(enc)
    has_bn = any(isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d) for m in enc.modules())
    if has_bn:
        assert fused is not enc and enc.training  # a copy; the original is untouched
    else:
        assert fused is enc  # nothing to fold: no copy
    got = embed(enc, x)
    assert enc.training  # mode restored
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_folding_removes_the_batchnorm_passes() -> None:
    enc = build_encoder("conv_small", embed_dim=16)
    enc.eval()
    fused = fused_for_inference(enc)
    folded = sum(isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d) for m in fused.modules())
    kept = sum(isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d) for m in enc.modules())
    assert kept == 4 and folded == 0
