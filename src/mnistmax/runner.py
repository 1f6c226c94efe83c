"""Train → figures → evaluate: what ``mnistmax train`` does, reusable by studies and the review."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mnistmax.config import RunConfig
from mnistmax.data.splits import Splits, labelled, load_splits, per_class_subset
from mnistmax.device import resolve_device
from mnistmax.eval.embed import embed
from mnistmax.methods.base import Method
from mnistmax.timing import Stopwatch
from mnistmax.train.loop import FitResult, fit
from mnistmax.train.runlog import RunDir


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) global generators."""
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def trace_indices(splits: Splits, per_class: int) -> torch.Tensor:
    """Fixed test digits (``per_class`` of each class, seed 0) for the clustering animation."""
    idx = per_class_subset(splits.test.y.cpu().numpy(), per_class, seed=0)
    return torch.from_numpy(idx).to(splits.test.y.device)


def write_figures(
    run: RunDir, result: FitResult, labels: np.ndarray, class_names: tuple[str, ...]
) -> None:
    """The clustering-evolution GIF with its per-epoch PNG frames, and the dashboard."""
    from mnistmax.viz.animation import pca_evolution_frames, save_gif, save_png
    from mnistmax.viz.dashboard import save_figure, training_dashboard

    if result.trace is not None and len(result.trace) > 1:
        trace = result.trace.numpy()
        titles = [f"epoch {i}" + (" (init)" if i == 0 else "") for i in range(len(trace))]
        frames = pca_evolution_frames(trace, labels, class_names, titles=titles)
        for i, frame in enumerate(frames):
            save_png(frame, run.figures / "pca_frames" / f"epoch_{i:03d}.png")
        save_gif(frames, run.figures / "clustering_evolution_pca.gif")
    if result.history:
        save_figure(
            training_dashboard(result.history, title=str(run.path.name)),
            run.figures / "dashboard.png",
        )


def train_run(
    cfg: RunConfig,
    out: str | Path,
    *,
    quiet: bool = False,
    evaluate: bool = True,
    stop_after_epochs: int | None = None,
) -> dict[str, Any]:
    """Train (or resume) the run in ``out``, write its figures, evaluate it; return eval.json.

    eval.json's ``timings`` splits this call's wall time: ``setup`` (data and model), ``train``
    (the training steps), ``validation`` (the rest of the loop: per-epoch validation, traces,
    checkpoints, the optimiser's set-up), ``figures``, ``evaluation`` (with its parts) and
    ``baselines``.
    """
    from mnistmax.evaluate import evaluate_run
    from mnistmax.methods import build_method

    wall = time.perf_counter()
    clock = Stopwatch()
    with clock("setup"):
        device = resolve_device(cfg.train.device)
        run = RunDir(out)
        if not (run.path / "config.json").exists():
            run.create(cfg, str(device))
        full = load_splits(cfg.data, device)
        splits = labelled(full, cfg.data)
        trace_idx = trace_indices(splits, cfg.eval.pca_per_class)
        trace_x = splits.test.x[trace_idx]
        seed_everything(cfg.train.seed)  # before the model is built: its init draws from it
        method = build_method(cfg)

    def trace(m: Method) -> torch.Tensor:
        return torch.nn.functional.normalize(embed(m, trace_x), dim=1)

    tic = time.perf_counter()
    result = fit(
        method, splits, cfg, run, trace=trace, quiet=quiet, stop_after_epochs=stop_after_epochs
    )
    clock.add("train", result.step_seconds)
    clock.add("validation", time.perf_counter() - tic - result.step_seconds)
    if stop_after_epochs is not None and stop_after_epochs < cfg.train.epochs:
        return {}
    if cfg.eval.figures:
        with clock("figures"):
            write_figures(run, result, splits.test.y[trace_idx].cpu().numpy(), splits.class_names)
    metrics = (
        evaluate_run(run, device=device, splits=full, started=wall, clock=clock, quiet=quiet)
        if evaluate
        else {}
    )
    if cfg.train.tensorboard:
        from mnistmax.train.tensorboard import log_run_outputs

        log_run_outputs(run.path, cfg.train.epochs)
    return metrics
