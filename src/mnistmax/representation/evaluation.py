"""Evaluation of a representation run folder: the protocol on its best checkpoint next to the
cached baselines, written as eval.json (:mod:`mnistmax.eval.schema`) and
``embeddings_test.npz``; ``test/knn@20_labelled_only`` adds the kNN that sees only the run's
own labels.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mnistmax.config import EvalConfig
from mnistmax.data.splits import Splits, labelled_indices, load_splits
from mnistmax.eval.embed import embed
from mnistmax.eval.knn import knn_accuracy
from mnistmax.eval.schema import run_facts
from mnistmax.io import atomic_path, write_json_atomic
from mnistmax.representation.baselines import baseline_metrics
from mnistmax.representation.protocol import finetune_metrics, representation_metrics
from mnistmax.timing import Stopwatch
from mnistmax.training.checkpoint import load_checkpoint
from mnistmax.training.loop import load_method
from mnistmax.training.runlog import RunDir


def evaluate_run(
    run: RunDir,
    *,
    device: torch.device,
    splits: Splits | None = None,
    started: float | None = None,
    eval_config: EvalConfig | None = None,
    clock: Stopwatch | None = None,
    quiet: bool = True,
) -> dict[str, Any]:
    """Evaluate a finished run; writes ``eval.json`` and ``embeddings_test.npz``; returns metrics.

    ``started`` (a ``time.perf_counter()`` value) adds ``wall_seconds``: train + figures + eval.
    ``eval_config`` replaces the run's own ``eval`` section (e.g. ``mnistmax eval --finetune``);
    eval.json then records it under ``eval_config``. ``clock`` times the phases (its phases so far
    and this evaluation's are written to eval.json as ``timings``); ``quiet`` silences the
    baselines' message and progress bar.
    """

    clock = clock or Stopwatch()
    with clock("evaluation"):
        with clock("evaluation/embed"):
            method, cfg = load_method(run, "best", device)
            if eval_config is not None:
                cfg = dataclasses.replace(cfg, eval=eval_config)
            if splits is None:
                splits = load_splits(cfg.data, device)
            feats = {s: embed(method, getattr(splits, s).x) for s in ("train", "val", "test")}
        results: dict[str, Any] = run_facts(run.path, cfg, load_checkpoint(run.last_checkpoint))
        results |= representation_metrics(feats, splits, cfg.eval, clock=clock)
        labelled = labelled_indices(splits, cfg.data)
        if labelled is not None:
            # The kNN that sees only the labels the run trained with.
            with clock("evaluation/knn"):
                acc = knn_accuracy(
                    feats["train"][labelled],
                    splits.train.y[labelled],
                    feats["test"],
                    splits.test.y,
                    ks=(20,),
                    tau=cfg.eval.knn_tau,
                    num_classes=splits.num_classes,
                )
            results["test/knn@20_labelled_only"] = acc[20]
        if cfg.eval.finetune:
            with clock("evaluation/finetune"):
                results |= finetune_metrics(method, cfg, splits)
    if cfg.eval.baselines:
        with clock("baselines"):
            results |= baseline_metrics(cfg, splits, device, quiet=quiet)
    if eval_config is not None:
        results["eval_config"] = dataclasses.asdict(eval_config)
    if started is not None:
        results["wall_seconds"] = time.perf_counter() - started
    results["timings"] = clock.rounded()
    write_json_atomic(run.path / "eval.json", results)
    save_embeddings(run.path / "embeddings_test.npz", feats["test"], splits.test.y)
    return results


def save_embeddings(path: str | Path, z: torch.Tensor, y: torch.Tensor) -> None:
    """Write ``embeddings`` and ``labels`` arrays to an .npz atomically."""
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, embeddings=z.cpu().numpy().astype(np.float32), labels=y.cpu().numpy())
