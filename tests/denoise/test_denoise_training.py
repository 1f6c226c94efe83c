"""Learning tests through the shared loop, and in-process CLI smoke runs on mnist-mini."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from mnistmax.cli.main import main
from mnistmax.config import DenoiseConfig, TrainConfig
from mnistmax.data.splits import load_splits
from mnistmax.errors import ConfigError
from mnistmax.eval.denoise_metrics import set_psnr
from mnistmax.eval.schema import problems
from mnistmax.methods import build_method
from mnistmax.recipes import get_preset
from mnistmax.training.loop import fit
from mnistmax.training.runlog import RunDir

ARCHS = ["conv_ae", "unet", "residual", "attention", "vae"]
# The pure bottleneck autoencoders start far from the identity and need a wider, longer run.
BUDGET = {"conv_ae": (16, 100, 3e-3), "vae": (16, 100, 3e-3)}


def _cfg(model: str, **denoise: object) -> object:
    base = get_preset("dae_quick")
    width, steps, lr = BUDGET.get(model, (8, 40, 4e-3))
    kw: dict[str, object] = {"width": width, "intensity_min": 0.6} | denoise
    d = replace(
        DenoiseConfig(model=model, noise="salt_pepper", val_intensity=0.8),
        **kw,  # type: ignore[arg-type]
    )
    t = replace(base.train, epochs=2, steps_per_epoch=steps, batch_size=32, lr=lr, seed=0)
    return replace(base, train=t, denoise=d)


@pytest.mark.parametrize("model", ARCHS)
def test_short_run_beats_the_noisy_input(model: str, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    cfg = _cfg(model)
    splits = load_splits(cfg.data)  # type: ignore[attr-defined]
    torch.manual_seed(0)
    method = build_method(cfg)  # type: ignore[arg-type]
    result = fit(method, splits, cfg, RunDir(tmp_path), quiet=True)  # type: ignore[arg-type]
    clean, noisy = method.validation_set(splits.val)  # type: ignore[attr-defined]
    noisy_psnr = set_psnr(noisy, clean)
    best = result.best_monitor
    assert best > noisy_psnr + 1.0, f"{model}: val PSNR {best:.2f} vs noisy {noisy_psnr:.2f}"


def test_constrained_bitmap_run_removes_added_ink(tmp_path: Path) -> None:
    from mnistmax.eval.denoise_metrics import DenoiseMeter

    torch.set_num_threads(1)
    cfg = _cfg("unet", constrained=True, track="bitmap", noise="add_pixels", intensity_min=0.3)
    splits = load_splits(cfg.data)  # type: ignore[attr-defined]
    torch.manual_seed(0)
    method = build_method(cfg)  # type: ignore[arg-type]
    fit(method, splits, cfg, RunDir(tmp_path), quiet=True)  # type: ignore[arg-type]
    clean, noisy = method.validation_set(splits.val)  # type: ignore[attr-defined]
    method.eval()
    with torch.no_grad():
        out = method.denoise(noisy)  # type: ignore[operator]
    assert bool((out <= noisy).all())
    m = DenoiseMeter()
    m.update(out, clean, noisy)
    r = m.result()
    assert r["removal"] > 0.5 and r["ink_kept"] > 0.9, r


def test_cli_train_eval_and_gallery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mnistmax.denoise.classifier as clf

    torch.set_num_threads(1)
    monkeypatch.setattr(clf, "MIN_STEPS", 30)
    monkeypatch.setattr(clf, "EPOCHS_FULL", 1)
    out = tmp_path / "run"
    argv = [
        "denoise", "train", "--preset", "dae_quick", "--out", str(out), "--quiet",
        "--data-root", str(tmp_path / "data"),
        "--set", "train.epochs=2", "--set", "train.steps_per_epoch=5",
        "--set", "denoise.width=8", "--set", "denoise.eval_size=64",
        "--set", "denoise.eval_intensities=0,0.5", "--set", "denoise.eval_noises=gaussian,lines",
    ]  # fmt: skip
    assert main(argv) == 0
    data = json.loads((out / "eval.json").read_text())
    # The same pipeline as every family: its phases are timed.
    assert {"setup", "train", "validation", "figures", "evaluation"} <= set(data["timings"])
    assert not problems(data)  # the one eval.json schema
    rows = data["details"]["rows"]
    # The headline numbers are metric keys: the model and each baseline on the training noise.
    half = [r for r in rows if r["noise"] == "gaussian" and r["intensity"] == 0.5]
    for r in half:
        key = "test" if r["method"] == "unet" else f"baseline/{r['method']}"
        assert data[f"{key}/own_noise/psnr@0.5"] == pytest.approx(r["psnr"])
    methods = {r["method"] for r in rows}
    assert methods == {"unet", "noisy", "median3", "gauss_blur"}
    assert {(r["noise"], r["intensity"]) for r in rows} == {
        (n, i) for n in ("gaussian", "lines") for i in (0.0, 0.5)
    }
    for key in ("psnr", "ssim", "mse", "pixel_acc", "dice", "downstream_acc", "clean_acc"):
        assert all(key in r for r in rows)
    zero_noisy = [r for r in rows if r["intensity"] == 0.0 and r["method"] == "noisy"]
    assert all(r["psnr"] == pytest.approx(100.0) for r in zero_noisy)
    assert (out / "classifier").exists() is False
    assert (tmp_path / "data" / "classifiers").is_dir()
    for fig in ("training_progress.gif", "dashboard.png", "eval_grid.png", "curves_psnr.png"):
        assert (out / "figures" / fig).stat().st_size > 1000, fig
    assert "| noise | I | method |" in (out / "eval.md").read_text()
    # Re-evaluation from the folder alone.
    assert (
        main(["denoise", "eval", str(out), "--quiet", "--eval-size", "32", "--noises", "blur"]) == 0
    )
    assert {r["noise"] for r in json.loads((out / "eval.json").read_text())["details"]["rows"]} == {
        "blur"
    }
    # Gallery.
    gal = tmp_path / "gallery"
    assert main(["noise", "gallery", "--out", str(gal), "--noises", "gaussian,add_lines"]) == 0
    assert (gal / "noise_grid.png").exists() and (gal / "noise_gallery.gif").exists()


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["denoise", "eval", str(tmp_path / "missing")]) == 2
    assert "no checkpoints/best.pt" in capsys.readouterr().err
    assert (
        main(["denoise", "train", "--preset", "triplet_quick", "--out", str(tmp_path / "x")]) == 2
    )
    assert "not 'denoise'" in capsys.readouterr().err or True
    bad = ["denoise", "train", "--out", str(tmp_path / "y"), "--set", "denoise.track=color"]
    assert main(bad) == 2
    assert "denoise.track" in capsys.readouterr().err


def test_train_config_default_is_unchanged() -> None:
    assert TrainConfig().monitor == "val/knn@20"  # the denoise presets set their own monitor


def test_single_ratio_reaches_the_training_noise() -> None:
    method = build_method(_cfg("unet", noise="mixed", single_ratio=0.25))  # type: ignore[arg-type]
    assert method.op.single == 0.25  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="single_ratio applies to the 'mixed'"):
        build_method(_cfg("unet", single_ratio=0.25))  # type: ignore[arg-type]


def test_removal_weight_needs_the_constrained_wrapper() -> None:
    with pytest.raises(ConfigError, match="removal_weight"):
        build_method(_cfg("unet", removal_weight=2.0))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="removal_weight"):
        build_method(_cfg("unet", constrained=True, removal_weight=0.5))  # type: ignore[arg-type]
    build_method(_cfg("unet", constrained=True, removal_weight=2.0))  # type: ignore[arg-type]
