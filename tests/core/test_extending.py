"""docs/extending.md, run: a toy two-view method (one loss, one class, one preset), a toy metric
(one function, one declaration) and a toy noise (one class, one registry line), each registered
only for the test (``Registry.temporarily``, ``monkeypatch``), go through train → eval → report
on mnist-mini with no other file touched."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from mnistmax.draws import Draw, Params
from mnistmax.eval.metric import METRICS, Metric
from mnistmax.families import train_run
from mnistmax.methods import METHODS
from mnistmax.methods.ssl import SSLMethod
from mnistmax.noise import NOISES, Noise
from mnistmax.recipes import PRESETS, Preset, get_preset
from mnistmax.report import build_report


def alignment_uniformity_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Alignment plus uniformity on the unit sphere (Wang & Isola, 2020), t = 2."""
    z1, z2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
    align = (z1 - z2).pow(2).sum(1).mean()
    uniform = torch.pdist(z1).pow(2).mul(-2).exp().mean().log()
    return align + uniform


class AlignUniform(SSLMethod):
    """The toy two-view method: its loss on the two views' projections."""

    def loss(
        self, h: torch.Tensor, z: torch.Tensor, xv: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        z1, z2 = z.chunk(2)
        return alignment_uniformity_loss(z1, z2), {}


def centroid_accuracy(
    z_train: torch.Tensor, y_train: torch.Tensor, z_test: torch.Tensor, y_test: torch.Tensor
) -> float:
    """Nearest class mean (cosine) accuracy: the toy metric of frozen features."""
    zt, zq = F.normalize(z_train.float(), dim=1), F.normalize(z_test.float(), dim=1)
    classes = int(y_train.max()) + 1
    means = torch.zeros(classes, zt.shape[1]).index_add_(0, y_train.long(), zt)
    pred = (zq @ F.normalize(means, dim=1).T).argmax(1)
    return float((pred == y_test).float().mean())


class Ripple(Noise):
    """The toy noise: sinusoidal stripes of random phase; knob = amplitude."""

    name, knob_max, doc = "ripple", 1.0, "amplitude of sinusoidal stripes"

    def draw(self, d: Draw) -> Params:
        return {"phase": d.rand() * 6.2832}

    def apply(self, x: torch.Tensor, knob: torch.Tensor, params: Params) -> torch.Tensor:
        cols = torch.arange(x.shape[-1], device=x.device, dtype=x.dtype).view(1, 1, 1, -1)
        waves = torch.sin(cols + params["phase"].view(-1, 1, 1, 1))
        return (x + knob.view(-1, 1, 1, 1) * waves).clamp(0, 1)


TOY_METRIC = Metric("centroid_acc", "centroid acc.", from_features=centroid_accuracy)


def _toy_quick() -> Any:
    cfg = get_preset("simclr_quick")
    short = dataclasses.replace(cfg.train, epochs=2, steps_per_epoch=4, batch_size=64)
    return dataclasses.replace(
        cfg, method="align_uniform", preset="align_uniform_quick", train=short
    )


@pytest.fixture
def toy_registrations(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(METRICS, TOY_METRIC.name, TOY_METRIC)
    monkeypatch.setitem(PRESETS, "align_uniform_quick", Preset(_toy_quick, "toy", default=True))
    with METHODS.temporarily("align_uniform", AlignUniform):
        yield


def test_a_toy_method_and_metric_go_through_train_eval_and_report(
    tmp_path: Path, toy_registrations: None
) -> None:
    run = tmp_path / "runs" / "align_uniform"
    metrics = train_run(get_preset("align_uniform_quick"), run, quiet=True)
    # The declared metric is computed for the run and for every baseline, by the protocol.
    assert 0.1 < metrics["test/centroid_acc"] <= 1.0
    for baseline in ("raw_pixels", "pca50", "random_init"):
        assert 0.1 < metrics[f"baseline/{baseline}/centroid_acc"] <= 1.0
    report = build_report([tmp_path / "runs"], tmp_path / "report", maps=("pca",), per_class=5)
    table = json.loads((report.out / "report.json").read_text())["summary"]
    row = next(r for r in table if r["method"] == "align_uniform")
    assert row["mean"]["centroid_acc"] == pytest.approx(metrics["test/centroid_acc"])
    assert "centroid acc." in (report.out / "report.md").read_text()
    assert (
        "mnistmax train align_uniform --preset align_uniform_quick"
        in (report.out / "report.md").read_text()
    )


def test_a_toy_noise_trains_and_evaluates_a_denoiser_and_reaches_the_report(
    tmp_path: Path,
) -> None:
    overrides = [
        "denoise.noise=ripple",
        "denoise.eval_noises=ripple,gaussian",
        "denoise.eval_intensities=0,0.5",
        "denoise.eval_size=32",
        "denoise.width=8",
        "train.epochs=1",
        "train.steps_per_epoch=3",
    ]
    from mnistmax.config import apply_overrides

    with NOISES.temporarily("ripple", Ripple):
        cfg = apply_overrides(get_preset("dae_quick"), overrides)
        metrics = train_run(cfg, tmp_path / "runs" / "dae_ripple", quiet=True)
        assert {r["noise"] for r in metrics["details"]["rows"]} == {"ripple", "gaussian"}
        assert "test/own_noise/psnr@0.5" in metrics and "test/ripple/psnr@0.5" in metrics
        report = build_report([tmp_path / "runs"], tmp_path / "report", maps=("pca",))
    text = (report.out / "report.md").read_text()
    assert "noise ripple" in text and "--set denoise.noise=ripple" in text
    assert "ripple" not in NOISES


def test_the_registries_are_as_before_after_the_toys(toy_registrations: None) -> None:
    assert "align_uniform" in METHODS


def test_nothing_of_the_toys_is_left() -> None:
    assert "align_uniform" not in METHODS and "centroid_acc" not in METRICS
    assert "align_uniform_quick" not in PRESETS
