"""``mnistmax denoise train`` / ``eval``: train through the shared loop, figures, the sweep.

Training uses :func:`mnistmax.train.loop.fit` (resume, validation-only selection on
``val/psnr``, checkpoints) with a ``trace`` that denoises ten fixed noisy test digits after every
epoch, which becomes ``figures/training_progress.gif``. Evaluation rebuilds the model from the
run folder alone, loads the cached reference classifier, runs the sweep and writes
``eval.json`` (``{"rows": [...], "summary": ..., ...}``), ``eval.md`` and curves.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from mnistmax.config import RunConfig
from mnistmax.data.splits import Splits, labelled, load_splits, per_class_subset
from mnistmax.denoise.evaluation import evaluate_sweep, markdown_table, model_label, summary
from mnistmax.device import resolve_device
from mnistmax.errors import ConfigError, RunError
from mnistmax.eval.embed import fused_for_inference
from mnistmax.io import write_json_atomic, write_text_atomic
from mnistmax.methods.base import Method
from mnistmax.methods.denoise import DenoiseMethod, prepare_clean
from mnistmax.noise import build_noise
from mnistmax.train.runlog import RunDir

TRACE_SEED = 7


def trace_digits(splits: Splits, cfg: RunConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(clean, noisy) of ten fixed test digits (one per class) under the training noise at
    ``val_intensity`` with a fixed seed: the training-progress GIF's inputs."""
    idx = per_class_subset(splits.test.y.cpu().numpy(), 1, seed=0)
    clean = prepare_clean(
        splits.test.x[torch.from_numpy(idx).to(splits.test.x.device)], cfg.denoise.track
    )
    g = torch.Generator().manual_seed(TRACE_SEED)
    noisy = build_noise(cfg.denoise.noise)(clean.cpu(), cfg.denoise.val_intensity, generator=g)
    return clean, noisy.to(clean.device)


def _check(cfg: RunConfig) -> None:
    if cfg.method != "denoise":
        raise ConfigError(f"preset/config is for method {cfg.method!r}, not 'denoise'")
    if not cfg.train.monitor.startswith("val/") or cfg.train.monitor.startswith("val/knn"):
        raise ConfigError(
            f"train.monitor={cfg.train.monitor!r}: a denoiser monitors val/psnr, val/ssim or val/loss"
        )


def train_denoiser(
    cfg: RunConfig,
    out: str | Path,
    *,
    quiet: bool = False,
    evaluate: bool = True,
    stop_after_epochs: int | None = None,
) -> dict[str, Any]:
    """Train (or resume) the denoiser in ``out``, write figures and (optionally) evaluate it.

    Returns:
        The ``eval.json`` content (empty when not evaluated).
    """

    from mnistmax.methods import build_method
    from mnistmax.train.loop import fit

    _check(cfg)
    wall = time.perf_counter()
    device = resolve_device(cfg.train.device)
    run = RunDir(out)
    if not (run.path / "config.json").exists():
        run.create(cfg, str(device))
    full = load_splits(cfg.data, device)
    splits = labelled(full, cfg.data)
    clean_t, noisy_t = trace_digits(splits, cfg)
    from mnistmax.runner import seed_everything

    seed_everything(cfg.train.seed)  # before the model is built: its init draws from it
    method = build_method(cfg)

    def trace(m: Method) -> torch.Tensor:
        assert isinstance(m, DenoiseMethod)
        return m.denoise(noisy_t.contiguous(memory_format=torch.channels_last)).contiguous()

    result = fit(
        method, splits, cfg, run, trace=trace, quiet=quiet, stop_after_epochs=stop_after_epochs
    )
    if stop_after_epochs is not None and stop_after_epochs < cfg.train.epochs:
        return {}
    if cfg.eval.figures:
        from mnistmax.denoise.figures import denoise_dashboard, progress_frames
        from mnistmax.viz.animation import save_gif
        from mnistmax.viz.dashboard import save_figure

        if result.trace is not None:
            frames = progress_frames(clean_t.cpu(), noisy_t.cpu(), result.trace)
            save_gif(frames, run.figures / "training_progress.gif", ms_per_frame=500)
        if result.history:
            save_figure(
                denoise_dashboard(result.history, title=run.path.name),
                run.figures / "dashboard.png",
            )
    train_info = {
        "train_seconds": result.train_seconds,
        "train_img_per_s": result.train_img_per_s,
        "best_epoch": result.best_epoch,
        "best_val": result.best_monitor,
        "train_wall_seconds": time.perf_counter() - wall,
    }
    write_json_atomic(run.path / "train.json", train_info)
    metrics = evaluate_denoise_run(run.path, quiet=quiet, splits=full) if evaluate else {}
    if cfg.train.tensorboard:
        from mnistmax.train.tensorboard import log_run_outputs

        log_run_outputs(run.path, cfg.train.epochs)
    return metrics


def evaluate_denoise_run(
    path: str | Path,
    *,
    quiet: bool = False,
    splits: Splits | None = None,
    eval_size: int | None = None,
    noises: tuple[str, ...] | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """Evaluate a denoise run folder (best checkpoint): sweep, eval.json, eval.md, curves, grid.

    Args:
        path: The run folder.
        splits: Already-loaded splits (else loaded from the run's data config).
        eval_size: Override of ``denoise.eval_size`` (test images used).
        noises: Override of the swept noise types.
        device: ``auto``, ``cpu`` or ``cuda``.
    """
    from mnistmax.denoise.classifier import load_or_train_classifier
    from mnistmax.train.loop import load_method

    run = RunDir(path)
    if not run.best_checkpoint.exists():
        raise RunError(
            f"{run.path} has no checkpoints/best.pt; train it with `mnistmax denoise train`"
        )
    wall = time.perf_counter()
    dev = resolve_device(device)
    method, cfg = load_method(run, "best", device=dev)
    _check(cfg)
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
    result = {
        "rows": rows,
        "summary": summary(rows, label),
        "model": label,
        "test_images": n,
        "classifier": clf_metrics,
        "eval_seconds": time.perf_counter() - wall,
    }
    train_json = run.path / "train.json"
    if train_json.exists():
        from mnistmax.io import read_json

        result["train"] = read_json(train_json)
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
    from mnistmax.denoise.baselines import baselines
    from mnistmax.denoise.evaluation import default_noises
    from mnistmax.denoise.figures import eval_grid, metric_curves
    from mnistmax.viz.animation import save_png
    from mnistmax.viz.dashboard import save_figure

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
