"""``mnistmax denoise eval``: a denoise run folder's sweep, eval.json, eval.md and figures.

Training goes through the denoising family (:mod:`mnistmax.families.denoising`): the shared
loop with a ``trace`` that denoises ten fixed noisy test digits after every epoch, which becomes
``figures/training_progress.gif``. Evaluation rebuilds the model from the run folder alone, loads
the cached reference classifier, runs the sweep and writes ``eval.json`` (the one schema of
:mod:`mnistmax.eval.schema`: headline numbers as metric keys, the sweep under ``details``),
``eval.md`` and curves.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from mnistmax.config import RunConfig
from mnistmax.data.splits import Splits, load_splits
from mnistmax.denoise.baselines import baselines
from mnistmax.denoise.classifier import load_or_train_classifier
from mnistmax.denoise.evaluation import (
    default_noises,
    evaluate_sweep,
    flat_metrics,
    markdown_table,
    model_label,
    summary,
)
from mnistmax.denoise.figures import eval_grid, metric_curves
from mnistmax.device import resolve_device
from mnistmax.errors import ConfigError, RunError
from mnistmax.eval.embed import fused_for_inference
from mnistmax.eval.schema import run_facts
from mnistmax.io import write_json_atomic, write_text_atomic
from mnistmax.methods import method_class
from mnistmax.methods.denoise import DenoiseMethod, prepare_clean
from mnistmax.noise import build_noise
from mnistmax.training.checkpoint import load_checkpoint
from mnistmax.training.loop import load_method
from mnistmax.training.runlog import RunDir
from mnistmax.viz.animation import save_png
from mnistmax.viz.dashboard import save_figure


def check_config(cfg: RunConfig) -> None:
    """Refuse a config that is not a denoiser's, or that monitors something a denoiser does not log."""
    if not issubclass(method_class(cfg.method), DenoiseMethod):
        raise ConfigError(f"preset/config is for method {cfg.method!r}, not a denoiser")
    if not cfg.train.monitor.startswith("val/") or cfg.train.monitor.startswith("val/knn"):
        raise ConfigError(
            f"train.monitor={cfg.train.monitor!r}: a denoiser monitors val/psnr, val/ssim or val/loss"
        )


def evaluate_denoise_run(
    path: str | Path,
    *,
    quiet: bool = False,
    splits: Splits | None = None,
    eval_size: int | None = None,
    noises: tuple[str, ...] | None = None,
    device: str = "auto",
    timings: dict[str, float] | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """Evaluate a denoise run folder (best checkpoint): sweep, eval.json, eval.md, curves, grid.

    Args:
        path: The run folder.
        splits: Already-loaded splits (else loaded from the run's data config).
        eval_size: Override of ``denoise.eval_size`` (test images used).
        noises: Override of the swept noise types.
        device: ``auto``, ``cpu`` or ``cuda``.
        timings: The training pipeline's phases so far; eval.json's ``timings`` adds
            ``evaluation`` to them.
        started: ``time.perf_counter()`` when the pipeline started: adds ``wall_seconds``.
    """

    run = RunDir(path)
    if not run.best_checkpoint.exists():
        raise RunError(
            f"{run.path} has no checkpoints/best.pt; train it with `mnistmax denoise train`"
        )
    wall = time.perf_counter()
    dev = resolve_device(device)
    method, cfg = load_method(run, "best", device=dev)
    check_config(cfg)
    if eval_size is not None:
        cfg = replace(cfg, denoise=replace(cfg.denoise, eval_size=eval_size))
    if noises:
        cfg = replace(cfg, denoise=replace(cfg.denoise, eval_noises=tuple(noises)))
    assert isinstance(method, DenoiseMethod)
    full = splits if splits is not None else load_splits(cfg.data, dev)
    classifier, clf_metrics = load_or_train_classifier(full, cfg.data.dataset, cfg.data.root)
    n = (
        len(full.test)
        if cfg.denoise.eval_size is None
        else min(cfg.denoise.eval_size, len(full.test))
    )
    x, y = full.test.x[:n], full.test.y[:n]
    label = model_label(cfg)
    method.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    method.eval()
    net = fused_for_inference(method)  # BatchNorm folded: same outputs, fewer passes
    assert isinstance(net, DenoiseMethod)

    def model(x_noisy: torch.Tensor) -> torch.Tensor:
        return net.denoise(x_noisy.contiguous(memory_format=torch.channels_last)).contiguous()

    rows = evaluate_sweep(model, label, x, y, cfg, classifier=classifier, quiet=quiet)
    eval_seconds = time.perf_counter() - wall
    headline = summary(rows, label)
    result: dict[str, Any] = run_facts(run.path, cfg, load_checkpoint(run.last_checkpoint))
    result |= flat_metrics(rows, headline["at_0.5"], cfg, label)
    result["details"] = {
        "rows": rows,
        "summary": headline,
        "model": label,
        "test_images": n,
        "classifier": clf_metrics,
    }
    if started is not None:
        result["wall_seconds"] = time.perf_counter() - started
    result["timings"] = {**(timings or {}), "evaluation": round(eval_seconds, 3)}
    write_json_atomic(run.path / "eval.json", result)
    header = (
        f"# Denoising evaluation: {run.path.name}\n\nModel `{label}`, {n} test images, "
        f"track `{cfg.denoise.track}`, noise seed {cfg.denoise.noise_seed}. Reference classifier "
        f"clean test accuracy {clf_metrics['test_acc']:.4f}.\n\n## I = 0.5\n\n"
    )
    write_text_atomic(
        run.path / "eval.md",
        header
        + markdown_table(rows, intensities=[0.5])
        + "\n## Every intensity\n\n"
        + markdown_table(rows),
    )
    if cfg.eval.figures:
        write_eval_figures(run, rows, method, x, cfg)
    return result


def write_eval_figures(
    run: RunDir, rows: list[dict[str, Any]], method: DenoiseMethod, x: torch.Tensor, cfg: RunConfig
) -> None:
    """Curves of PSNR, SSIM, Dice and downstream accuracy against I, and the evaluation grid."""

    metrics = ["psnr", "ssim", "dice", "downstream_acc"]
    if any("removal" in r for r in rows):
        metrics += ["removal", "ink_kept"]
    for m in metrics:
        if any(r.get(m) is not None for r in rows):
            save_figure(
                metric_curves(rows, m, title=f"{m} vs intensity"), run.figures / f"curves_{m}.png"
            )
    noises = default_noises(cfg)
    clean = prepare_clean(x[: len(noises)], cfg.denoise.track)
    noisy = torch.cat(
        [
            build_noise(n)(
                clean[i : i + 1].cpu(),
                0.5,
                generator=torch.Generator().manual_seed(cfg.denoise.noise_seed),
            ).to(clean.device)
            for i, n in enumerate(noises)
        ]
    )
    with torch.no_grad():
        outputs = {"noisy": noisy, model_label(cfg): method.denoise(noisy)}
        outputs |= {k: f(noisy) for k, f in baselines(cfg.denoise.track).items() if k != "noisy"}
    save_png(
        eval_grid(clean, list(noises), outputs, title="I = 0.5: one test digit per noise type"),
        run.figures / "eval_grid.png",
    )
