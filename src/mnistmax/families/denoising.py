"""Denoising: a model that maps noisy digits to clean ones, evaluated by a sweep over noise types
and intensities next to classical filters."""

from __future__ import annotations

from typing import Any

import torch

from mnistmax.config import RunConfig
from mnistmax.data.splits import Splits, per_class_subset
from mnistmax.families.base import FAMILIES, Family, Tracer
from mnistmax.io import write_json_atomic
from mnistmax.methods.base import Method
from mnistmax.methods.denoise import DenoiseMethod, prepare_clean
from mnistmax.noise import build_noise
from mnistmax.timing import Stopwatch
from mnistmax.train.loop import FitResult
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


@FAMILIES.register("denoising")
class Denoising(Family):
    """Trained by ``mnistmax denoise train``; the training-progress GIF denoises ten fixed noisy
    test digits after every epoch; ``train.json`` keeps the training summary."""

    name = "denoising"
    command = "mnistmax denoise train"

    def check(self, cfg: RunConfig) -> None:
        from mnistmax.denoise.runner import check_config

        super().check(cfg)
        check_config(cfg)

    def tracer(self, splits: Splits, cfg: RunConfig) -> Tracer:
        clean, noisy = trace_digits(splits, cfg)

        def trace(m: Method) -> torch.Tensor:
            assert isinstance(m, DenoiseMethod)
            return m.denoise(noisy.contiguous(memory_format=torch.channels_last)).contiguous()

        def figures(run: RunDir, result: FitResult) -> None:
            from mnistmax.denoise.figures import denoise_dashboard, progress_frames
            from mnistmax.viz.animation import save_gif
            from mnistmax.viz.dashboard import save_figure

            if result.trace is not None:
                frames = progress_frames(clean.cpu(), noisy.cpu(), result.trace)
                save_gif(frames, run.figures / "training_progress.gif", ms_per_frame=500)
            if result.history:
                save_figure(
                    denoise_dashboard(result.history, title=run.path.name),
                    run.figures / "dashboard.png",
                )

        return Tracer(trace, figures)

    def after_fit(self, run: RunDir, result: FitResult, *, wall_seconds: float) -> None:
        train_info = {
            "train_seconds": result.train_seconds,
            "train_img_per_s": result.train_img_per_s,
            "best_epoch": result.best_epoch,
            "best_val": result.best_monitor,
            "train_wall_seconds": wall_seconds,
        }
        write_json_atomic(run.path / "train.json", train_info)

    def evaluate(
        self,
        run: RunDir,
        *,
        device: torch.device,
        splits: Splits,
        started: float,
        clock: Stopwatch,
        quiet: bool,
    ) -> dict[str, Any]:
        from mnistmax.denoise.runner import evaluate_denoise_run

        return evaluate_denoise_run(run.path, quiet=quiet, splits=splits, timings=clock.rounded())
