"""Self-supervised methods: wiring, EMA/queue/prototype mechanics, learning, presets, CLI."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from mnistmax.config import DataConfig, ModelConfig, RunConfig, SSLConfig, TrainConfig
from mnistmax.errors import ConfigError
from mnistmax.methods import build_method
from mnistmax.methods.ssl import SSL_METHODS, build_mlp, collapse_std


def tiny_cfg(method: str, **ssl: object) -> RunConfig:
    base = {
        "augment": "none",
        "projector": "32-16",
        "predictor": "32-16",
        "prototypes": 10,
    } | ssl
    return RunConfig(
        method=method,
        # seed_cnn: the cheapest registered encoder (the tests check wiring, not capacity).
        model=ModelConfig(encoder="seed_cnn", embed_dim=16, dropout=0.0),
        train=TrainConfig(epochs=1, batch_size=32),
        ssl=SSLConfig(**base),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def mini_batch() -> tuple[torch.Tensor, torch.Tensor]:
    from mnistmax.data.splits import load_splits

    s = load_splits(DataConfig(dataset="mnist-mini"))
    return s.train.x[:32], s.train.y[:32]


def _loss(method: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    g = torch.Generator().manual_seed(123)
    with torch.no_grad():
        return float(method.training_step(x, y, generator=g).loss)  # type: ignore[operator]


@pytest.mark.parametrize("name", SSL_METHODS)
def test_step_logs_and_loss_decreases(
    name: str, mini_batch: tuple[torch.Tensor, torch.Tensor]
) -> None:
    torch.manual_seed(0)
    x, y = mini_batch
    method = build_method(tiny_cfg(name, augment="light"))
    method.train()
    opt = torch.optim.Adam([p for p in method.parameters() if p.requires_grad], lr=2e-3)
    before = _loss(method, x, y)
    g = torch.Generator().manual_seed(0)
    for step in range(1, 9):
        out = method.training_step(x, y, generator=g)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        method.after_step(step, 8)
    assert out.n_images == 2 * len(x)
    for key in ("loss", "collapse", "collapse_z"):
        assert isinstance(out.logs[key], torch.Tensor) and torch.isfinite(out.logs[key])
    after = _loss(method, x, y)
    assert after < before, f"{name}: loss {before:.4f} -> {after:.4f}"


@pytest.mark.parametrize("name", SSL_METHODS)
def test_embed_returns_encoder_features_not_projections(
    name: str, mini_batch: tuple[torch.Tensor, torch.Tensor]
) -> None:
    method = build_method(tiny_cfg(name, projector="32-8", predictor="32-8")).eval()
    x = mini_batch[0][:4]
    with torch.no_grad():
        h = method.embed(x)
        assert h.shape == (4, 16)
        assert torch.equal(h, method.encoder(x))


def test_collapse_monitor() -> None:
    g = torch.Generator().manual_seed(0)
    spread = collapse_std(torch.randn(4096, 64, generator=g))
    assert float(spread) == pytest.approx(1.0, abs=0.03)
    assert float(collapse_std(torch.ones(32, 64) + 1e-3)) == pytest.approx(0.0, abs=1e-3)


def test_build_mlp_spec() -> None:
    head = build_mlp(10, "20-30-5")
    assert head(torch.randn(4, 10)).shape == (4, 5)
    assert isinstance(build_mlp(10, ""), torch.nn.Identity)
    with pytest.raises(ConfigError):
        build_mlp(10, "20-x")


def test_byol_target_is_ema_and_outside_the_optimizer(
    mini_batch: tuple[torch.Tensor, torch.Tensor],
) -> None:
    from mnistmax.training.loop import build_optimizer

    cfg = tiny_cfg("byol")
    method = build_method(cfg)
    opt = build_optimizer(method, cfg)
    n_opt = sum(p.numel() for group in opt.param_groups for p in group["params"])
    n_target = sum(
        p.numel()
        for p in [*method.target_encoder.parameters(), *method.target_projector.parameters()]
    )
    assert n_opt == sum(p.numel() for p in method.parameters()) - n_target
    online = next(iter(method.encoder.parameters()))
    target = next(iter(method.target_encoder.parameters()))
    with torch.no_grad():
        online.add_(1.0)
    before = target.detach().clone()
    method.after_step(0, 100)  # momentum ema_base = 0.99
    assert torch.allclose(target, 0.99 * before + 0.01 * online.detach(), atol=1e-6)
    method.after_step(100, 100)  # momentum 1: frozen
    frozen = target.detach().clone()
    method.after_step(100, 100)
    assert torch.equal(target, frozen)
    with pytest.raises(ConfigError):
        build_method(tiny_cfg("byol", predictor="32-7"))


def test_swav_prototypes_stay_normalised_and_queue_kicks_in(
    mini_batch: tuple[torch.Tensor, torch.Tensor],
) -> None:
    x, y = mini_batch
    cfg = replace(tiny_cfg("swav", queue_size=64, queue_start_epoch=0), train=TrainConfig(epochs=2))
    method = build_method(cfg)
    opt = torch.optim.SGD(method.parameters(), lr=0.5)
    g = torch.Generator().manual_seed(0)
    used = []
    for step in range(1, 5):
        out = method.training_step(x, y, generator=g)
        used.append(float(out.logs["queue_on"]))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        method.after_step(step, 10)
        norms = method.prototypes.weight.norm(dim=1)
        assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5)
    # 32 images per step: the 64-deep queue is full after two steps.
    assert used == [0.0, 0.0, 1.0, 1.0]
    assert int(method.steps_done) == 4


def test_swav_freezes_prototypes_early(mini_batch: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, y = mini_batch
    method = build_method(tiny_cfg("swav", freeze_prototypes_steps=5))
    out = method.training_step(x, y, generator=torch.Generator().manual_seed(0))
    out.loss.backward()
    assert method.prototypes.weight.grad is None


def test_every_ssl_method_has_quick_and_standard_presets() -> None:
    from mnistmax.recipes import get_preset, preset_methods

    assert set(SSL_METHODS) <= set(preset_methods())
    for name in SSL_METHODS:
        quick = get_preset(f"{name}_quick", name)
        standard = get_preset(f"{name}_standard", name)
        assert quick.data.dataset == "mnist-mini"
        assert standard.model.encoder == "seed_cnn"
        # The measured <= 8-minute budget (docs/results.md): 4 x 200 steps, no fine-tuning.
        assert standard.train.epochs * standard.train.steps_per_epoch == 800
        assert not standard.eval.finetune
        assert get_preset(f"{name}_long", name).eval.finetune
        assert quick.preset == f"{name}_quick"


def test_ssl_overrides_parse() -> None:
    from mnistmax.config import apply_overrides

    cfg = apply_overrides(
        RunConfig(), ["ssl.temperature=0.5", "ssl.projector=64-32", "eval.fewshot_shots=1,5"]
    )
    assert cfg.ssl.temperature == 0.5 and cfg.ssl.projector == "64-32"
    assert cfg.eval.fewshot_shots == (1, 5)


@pytest.mark.parametrize(
    "name",
    # simclr and byol (the after_step hook) by default; the rest with the slow tests.
    [
        n if n in ("simclr", "byol") else pytest.param(n, marks=pytest.mark.slow)
        for n in SSL_METHODS
    ],
)
def test_fit_smoke_through_shared_loop(name: str, tmp_path: Path) -> None:
    from mnistmax.families import train_run
    from mnistmax.recipes import get_preset

    cfg = get_preset(f"{name}_quick")
    cfg = replace(
        cfg,
        train=replace(
            cfg.train,
            epochs=1,
            steps_per_epoch=2,
            batch_size=32,
            monitor_val_size=200,
            monitor_bank_size=300,
        ),
        eval=replace(cfg.eval, figures=False),
    )
    train_run(cfg, tmp_path / name, quiet=True, evaluate=False)
    assert (tmp_path / name / "checkpoints").is_dir()
    line = (tmp_path / name / "metrics.jsonl").read_text().strip().splitlines()[-1]
    assert "train/collapse" in line and "val/knn@20" in line


@pytest.mark.parametrize("name", SSL_METHODS)
def test_quick_preset_runs_and_learns(name: str, tmp_path: Path) -> None:
    """Each ``<method>_quick`` preset end to end (CI smoke); it must beat random init.

    In the default suite: 13-37 s each, 127 s for all six at one torch thread on the shared
    2-core machine (load ≈ 3-5), the first one also filling the baseline cache.
    """
    import time

    from mnistmax.families import train_run
    from mnistmax.recipes import get_preset

    tic = time.perf_counter()
    metrics = train_run(get_preset(f"{name}_quick"), tmp_path / name, quiet=True)
    assert time.perf_counter() - tic < 120
    for key in ("test/fewshot@10", "test/fewshot@10_std", "test/kmeans_nmi", "test/linear_probe"):
        assert math.isfinite(metrics[key])
    assert metrics["test/linear_probe"] > metrics["baseline/random_init/linear_probe"] + 0.02
