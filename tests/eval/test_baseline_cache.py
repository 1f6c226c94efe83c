"""Cached baselines: computed once, keyed by a checksum of what they depend on, said on screen."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import torch

import mnistmax.representation.baselines as evaluate
from mnistmax.config import RunConfig
from mnistmax.data import catalog
from mnistmax.data.splits import Splits, load_splits
from mnistmax.recipes import get_preset


@pytest.fixture(scope="module")
def mini() -> tuple[RunConfig, Splits]:
    cfg = get_preset("triplet_quick")
    return cfg, load_splits(cfg.data, "cpu")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the feature sets the baselines evaluate (a fake metric keeps the test fast)."""
    seen: list[int] = []

    def fake(feats: dict[str, torch.Tensor], *args: Any, **kwargs: Any) -> dict[str, float]:
        seen.append(feats["train"].shape[1])
        return {"knn@20": 0.5}

    monkeypatch.setattr(evaluate, "representation_metrics", fake)
    return seen


def _root(cfg: RunConfig, tmp_path: Path) -> RunConfig:
    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, root=str(tmp_path)))


def test_computed_once_then_read_from_the_cache(
    mini: tuple[RunConfig, Splits],
    calls: list[int],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="mnistmax")
    cfg, splits = mini
    cfg = _root(cfg, tmp_path)
    first = evaluate.baseline_metrics(cfg, splits, torch.device("cpu"), quiet=False)
    assert len(calls) == 3  # raw pixels, PCA-50, random init
    out = caplog.text
    assert "computing baselines for mnist-mini" in out and "baselines computed in" in out
    caplog.clear()
    assert len(list((tmp_path / "baselines").glob("*.json"))) == 3
    again = evaluate.baseline_metrics(cfg, splits, torch.device("cpu"), quiet=False)
    assert again == first and len(calls) == 3
    assert "computing" not in caplog.text
    assert set(first) == {
        "baseline/raw_pixels/knn@20",
        "baseline/pca50/knn@20",
        "baseline/random_init/knn@20",
    }


def test_key_follows_what_the_numbers_depend_on(
    mini: tuple[RunConfig, Splits],
    calls: list[int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg, splits = mini
    cfg = _root(cfg, tmp_path)
    cpu = torch.device("cpu")
    evaluate.baseline_metrics(cfg, splits, cpu)
    assert len(calls) == 3
    # Figures and the GIF's digits change no baseline: still cached.
    cosmetic = dataclasses.replace(cfg, eval=dataclasses.replace(cfg.eval, pca_per_class=3))
    evaluate.baseline_metrics(cosmetic, splits, cpu)
    assert len(calls) == 3
    # A protocol setting changes all three.
    tau = dataclasses.replace(cfg, eval=dataclasses.replace(cfg.eval, knn_tau=0.1))
    evaluate.baseline_metrics(tau, splits, cpu)
    assert len(calls) == 6
    # Another encoder seed changes only the random-init baseline.
    seed = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, seed=7))
    evaluate.baseline_metrics(seed, splits, cpu)
    assert len(calls) == 7
    # Other data bytes (their checksums) or other evaluation code change all three.
    info = catalog.DATASETS[cfg.data.dataset]
    monkeypatch.setattr(type(info), "md5s", property(lambda self: {"train-images": "0" * 32}))
    evaluate.baseline_metrics(cfg, splits, cpu)
    assert len(calls) == 10
    monkeypatch.undo()
    monkeypatch.setattr(evaluate, "representation_metrics", lambda *a, **k: calls.append(0) or {})
    monkeypatch.setattr(evaluate, "_source_digest", lambda *modules: "other code")
    evaluate.baseline_metrics(cfg, splits, cpu)
    assert len(calls) == 13
