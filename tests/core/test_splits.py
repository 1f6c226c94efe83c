"""Stratified validation carve and per-class subsets."""

from __future__ import annotations

import numpy as np
import pytest

from mnistmax.config import DataConfig
from mnistmax.data.splits import labelled, load_splits, per_class_subset, stratified_carve
from mnistmax.errors import ConfigError


def test_carve_is_stratified_disjoint_and_deterministic() -> None:
    y = np.repeat(np.arange(10), [100, 200, 300, 50, 50, 100, 100, 40, 30, 30])
    keep, carved = stratified_carve(y, 100, seed=0)
    assert len(carved) == 100 and len(keep) + len(carved) == len(y)
    assert not set(keep) & set(carved)
    counts = np.bincount(y[carved], minlength=10)
    expected = np.bincount(y, minlength=10) * 100 / len(y)
    assert np.all(np.abs(counts - expected) < 1)
    _keep2, carved2 = stratified_carve(y, 100, seed=0)
    assert np.array_equal(carved, carved2)
    _, carved3 = stratified_carve(y, 100, seed=1)
    assert not np.array_equal(carved, carved3)


def test_per_class_subset_counts_and_errors() -> None:
    y = np.repeat(np.arange(3), 10)
    idx = per_class_subset(y, 4, seed=0)
    assert np.array_equal(np.bincount(y[idx]), [4, 4, 4])
    with pytest.raises(ConfigError):
        per_class_subset(y, 11, seed=0)


def test_mini_splits_never_share_images() -> None:
    cfg = DataConfig(dataset="mnist-mini", train_per_class=20)
    full = load_splits(cfg)
    s = labelled(full, cfg)
    assert len(full.train) + len(full.val) == 2000 and len(full.test) == 1000
    assert len(s.train) == 200 and s.train.y.bincount().tolist() == [20] * 10
    assert (
        full.train.x.shape[1:] == (1, 28, 28)
        and 0 <= float(full.train.x.min()) <= float(full.train.x.max()) <= 1
    )
    train_rows = {r.numpy().tobytes() for r in full.train.x}
    assert not any(r.numpy().tobytes() in train_rows for r in full.val.x)
