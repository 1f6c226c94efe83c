"""Denoising: a model that maps noisy digits to clean ones, evaluated by a sweep over noise types
and intensities next to classical filters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from matplotlib.figure import Figure

from mnistmax.config import RunConfig
from mnistmax.data.splits import Splits, per_class_subset
from mnistmax.denoise.baselines import LABELS
from mnistmax.denoise.evaluation import (
    OWN_NOISE_PSNR,
    OWN_NOISE_SSIM,
    flat_metrics,
    headline_noise,
    model_label,
)
from mnistmax.denoise.figures import denoise_dashboard, metric_curves, progress_frames
from mnistmax.denoise.runner import check_config, evaluate_denoise_run
from mnistmax.errors import ConfigError
from mnistmax.families.base import FAMILIES, BaselineRef, Family, Tracer
from mnistmax.io import write_json_atomic
from mnistmax.methods.base import Method
from mnistmax.methods.denoise import DenoiseMethod, prepare_clean
from mnistmax.noise import build_noise
from mnistmax.timing import Stopwatch
from mnistmax.training.loop import FitResult
from mnistmax.training.runlog import RunDir
from mnistmax.viz.animation import save_gif
from mnistmax.viz.dashboard import save_figure

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
    metrics = (OWN_NOISE_PSNR, OWN_NOISE_SSIM)
    baselines: ClassVar[Mapping[str, str]] = LABELS

    def check(self, cfg: RunConfig) -> None:

        super().check(cfg)
        check_config(cfg)

    def tracer(self, splits: Splits, cfg: RunConfig) -> Tracer:
        clean, noisy = trace_digits(splits, cfg)

        def trace(m: Method) -> torch.Tensor:
            assert isinstance(m, DenoiseMethod)
            return m.denoise(noisy.contiguous(memory_format=torch.channels_last)).contiguous()

        def figures(run: RunDir, result: FitResult) -> None:

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
        started: float | None,
        clock: Stopwatch,
        quiet: bool,
    ) -> dict[str, Any]:

        return evaluate_denoise_run(
            run.path, quiet=quiet, splits=splits, timings=clock.rounded(), started=started
        )

    figure_kinds = ("dashboard", "psnr", "ssim")

    def figure(self, run: Any, kind: str) -> Figure:

        self._check_kind(kind)
        if kind == "dashboard":
            return denoise_dashboard(run.history, title=run.path.name)
        rows = run.metrics.get("details", {}).get("rows")
        if not rows:
            raise ConfigError(f"{run.path} is not evaluated yet: run.evaluate() first")
        return metric_curves(rows, kind, title=f"{kind} vs intensity")

    def summary_lines(self, metrics: Mapping[str, Any]) -> list[str]:
        # Model against the best baseline at I = 0.5, per noise type.
        details = metrics.get("details", {})
        s = details.get("summary", {})
        lines = [
            f"model {details.get('model')} on {details.get('test_images')} test images (I = 0.5):"
        ]
        for noise, r in s.get("at_0.5", {}).items():
            extra = ""
            if "downstream_acc" in r:
                extra += f"  downstream {r['downstream_acc']:.3f} (clean {r['clean_acc']:.3f})"
            if "removal" in r:
                extra += f"  removal {r['removal']:.3f} ink kept {r['ink_kept']:.3f}"
            lines.append(
                f"  {noise:13s} PSNR {r['model_psnr']:6.2f} vs {r['best_baseline']} "
                f"{r['baseline_psnr']:6.2f} ({r['psnr_gain']:+.2f} dB, SSIM {r['ssim_gain']:+.3f}){extra}"
            )
        losses = s.get("psnr_losses_at_I>=0.2", [])
        lines.append(f"  PSNR losses to a baseline at I >= 0.2: {len(losses)}")
        return lines

    def upgrade_eval(self, cfg: RunConfig, eval_json: dict[str, Any]) -> dict[str, Any]:
        # Before the one schema a denoiser's eval.json held its sweep at the top level.
        if "rows" not in eval_json or "details" in eval_json:
            return eval_json

        old = dict(eval_json)
        train = old.pop("train", {})
        details = {
            k: old.pop(k)
            for k in ("rows", "summary", "model", "test_images", "classifier")
            if k in old
        }
        wall = float(train.get("train_wall_seconds", 0.0)) + float(old.pop("eval_seconds", 0.0))
        new: dict[str, Any] = {
            "method": cfg.method,
            "preset": cfg.preset,
            "best_epoch": train.get("best_epoch"),
            **({"train_img_per_s": train["train_img_per_s"]} if "train_img_per_s" in train else {}),
            **({"wall_seconds": wall} if wall else {}),
            **old,
        }
        summary = details.get("summary", {})
        new |= flat_metrics(
            details.get("rows", []),
            summary.get("at_0.5", {}),
            cfg,
            details.get("model") or model_label(cfg),
        )
        return new | {"details": details}

    def data_note(self, cfg: RunConfig) -> str:
        return f"; noise {cfg.denoise.noise}"

    def baseline_ref(
        self, cfg: RunConfig, eval_json: Mapping[str, Any], name: str, values: Mapping[str, float]
    ) -> BaselineRef:
        # One row per dataset, track, headline noise and filter; the same noise draw (seed and
        # test images) computed by several runs counts once.

        details = eval_json.get("details", {})
        noise = headline_noise(details.get("rows", []), cfg)
        ds = cfg.data.dataset
        return BaselineRef(
            label=self.baselines.get(name, name),
            group=f"{self.name}/{ds}/{cfg.denoise.track}/{noise}/{name}",
            draw=json.dumps([cfg.denoise.noise_seed, details.get("test_images")]),
            data=f"{ds}; noise {noise}",
        )
