"""The Python API: the README's notebook example runs as written; Run's members on a trained
representation run and a denoiser; errors are one sentence."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import mnistmax
from mnistmax.errors import ConfigError

README = Path(__file__).parents[2] / "README.md"


def _first_python_block(text: str) -> str:
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match, "README has no python block"
    return match.group(1)


def test_the_readme_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _first_python_block(README.read_text())
    assert code == _first_python_block((README.parent / "docs" / "api.md").read_text())
    assert len([line for line in code.splitlines() if line.strip()]) <= 6
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    scope: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), scope)
    knn, raw = (float(v) for v in capsys.readouterr().out.split())
    assert 0.5 < knn <= 1.0 and 0.5 < raw <= 1.0
    assert scope["features"].shape == (1000, 64)  # type: ignore[attr-defined]
    assert (tmp_path / "runs" / "triplet_quick_seed0" / "eval.json").is_file()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> mnistmax.Run:
    out = tmp_path_factory.mktemp("api") / "run"
    return mnistmax.train("triplet_quick", out, seed=1, overrides=["train.epochs=1"], quiet=True)


def test_a_run_holds_its_config_numbers_model_and_figures(trained: mnistmax.Run) -> None:
    run = mnistmax.load(trained.path)
    assert run.config.train.seed == 1 and run.config.train.epochs == 1
    assert run.metrics["method"] == "triplet" and "test/linear_probe" in run.metrics
    assert not run.encoder.training and isinstance(run.encoder, torch.nn.Module)
    z, y = run.embed("val")
    assert z.dtype == np.float32 and len(z) == len(y) and z.shape[1] == 64
    assert isinstance(run.plot("dashboard"), Figure) and isinstance(run.plot("pca"), Figure)
    with pytest.raises(ConfigError, match="a representation run draws dashboard, pca"):
        run.plot("psnr")
    with pytest.raises(ConfigError, match="not a denoiser"):
        run.denoise(np.zeros((2, 28, 28), np.uint8))
    again = run.evaluate()
    assert again["test/knn@20"] == pytest.approx(run.metrics["test/knn@20"])


def test_a_fresh_folder_each_time_and_overrides_as_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "triplet_quick_seed0").mkdir(parents=True)
    with pytest.raises(ConfigError, match="unknown field 'epoch'"):
        mnistmax.train("triplet_quick", overrides={"train.epoch": 1})
    with pytest.raises(ConfigError, match="unknown preset"):
        mnistmax.train("no_such_preset")
    with pytest.raises(ConfigError, match="not a run folder"):
        mnistmax.load(tmp_path)


def test_listings() -> None:
    assert "simclr_quick" in mnistmax.presets("simclr") and "dae_quick" not in mnistmax.presets(
        "simclr"
    )
    ready = mnistmax.datasets()
    assert ready["mnist-mini"] is True and "fashion-mnist" in ready


def test_a_denoiser_run_denoises_and_draws_its_curves(tmp_path: Path) -> None:
    overrides = {
        "train.epochs": 1,
        "train.steps_per_epoch": 3,
        "denoise.width": 8,
        "denoise.eval_size": 32,
        "denoise.eval_noises": ["gaussian"],
        "denoise.eval_intensities": [0.0, 0.5],
    }
    run = mnistmax.train("dae_quick", tmp_path / "dae", overrides=overrides, quiet=True)
    out = run.denoise(np.full((3, 28, 28), 128, np.uint8))
    assert out.shape == (3, 28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert isinstance(run.plot("psnr"), Figure) and isinstance(run.plot("dashboard"), Figure)
