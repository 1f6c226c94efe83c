"""eval.json keys: a baseline's test and validation probe numbers land under distinct keys."""

from __future__ import annotations

import torch

from mnistmax.config import DataConfig, EvalConfig
from mnistmax.data.splits import load_splits
from mnistmax.eval.linear_probe import linear_probe
from mnistmax.representation.protocol import representation_metrics


def test_probe_keys_keep_test_and_validation_apart() -> None:
    splits = load_splits(DataConfig(dataset="mnist-mini"), torch.device("cpu"))
    feats = {s: getattr(splits, s).x.flatten(1)[:, ::4] for s in ("train", "val", "test")}
    ev = EvalConfig(knn_ks=(20,), fewshot=False, clustering=False)
    probe = linear_probe(
        feats["train"], splits.train.y, feats["val"], splits.val.y, feats["test"], splits.test.y
    )
    assert probe.val_acc is not None and probe.val_acc != probe.test_acc  # the case that matters
    run = representation_metrics(feats, splits, ev)
    base = representation_metrics(feats, splits, ev, prefix="")
    assert run["test/linear_probe"] == base["linear_probe"] == probe.test_acc
    assert run["val/linear_probe"] == base["val/linear_probe"] == probe.val_acc
