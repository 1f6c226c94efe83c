"""One readable training loop for every method.

Validation-only model selection: the monitor (online kNN on a fixed validation subset, bank =
a fixed training subset) drives best-checkpoint selection, the plateau schedule and early
stopping; the test split is never seen here. A run checkpoints after every epoch (model,
optimiser, schedule, RNG states, history) and resumes from its last checkpoint to the same
result as an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from mnistmax.config import RunConfig
from mnistmax.data.splits import Split, Splits
from mnistmax.errors import ConfigError, RunError
from mnistmax.eval.embed import embed
from mnistmax.eval.knn import knn_accuracy
from mnistmax.methods import build_method
from mnistmax.methods.base import Method
from mnistmax.progress import progress
from mnistmax.training.checkpoint import load_checkpoint, save_checkpoint
from mnistmax.training.precision import autocast, resolve_precision
from mnistmax.training.runlog import RunDir
from mnistmax.training.schedule import Scheduler
from mnistmax.training.tensorboard import TensorBoardLog

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    """What a finished fit reports."""

    history: list[dict[str, Any]]
    best_epoch: int
    best_monitor: float
    train_seconds: float
    train_img_per_s: float
    trace: torch.Tensor | None  # (epochs + 1, ...) outputs of the trace function per epoch
    # Seconds of training steps in this call (train_seconds also counts resumed epochs); the
    # rest of fit's wall time is set-up, per-epoch validation, traces and checkpoints.
    step_seconds: float = 0.0


def build_optimizer(method: Method, cfg: RunConfig) -> torch.optim.Optimizer:
    """Adam, AdamW or SGD (momentum 0.9, Nesterov) over the method's parameters."""
    t = cfg.train
    params = [p for p in method.parameters() if p.requires_grad]
    if t.optimizer == "adam":
        return torch.optim.Adam(params, lr=t.lr, weight_decay=t.weight_decay)
    if t.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=t.lr, weight_decay=t.weight_decay)
    if t.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=t.lr, momentum=0.9, nesterov=True, weight_decay=t.weight_decay
        )
    raise ConfigError(f"unknown optimizer {t.optimizer!r}; choose adam, adamw or sgd")


def _fixed_subset(n: int, size: int, seed: int, device: torch.device) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=g)[: min(n, size)].to(device)


class Monitor:
    """Online kNN@20 of a fixed validation subset against a fixed training bank."""

    def __init__(self, splits: Splits, val: Split, cfg: RunConfig) -> None:
        dev = splits.train.y.device
        self.bank = splits.train.subset(
            _fixed_subset(len(splits.train), cfg.train.monitor_bank_size, 1, dev)
        )
        self.val = val
        self.tau = cfg.eval.knn_tau
        self.num_classes = splits.num_classes

    def __call__(self, method: Method, z_val: torch.Tensor | None = None) -> dict[str, float]:
        """kNN@20 of the validation subset; ``z_val``: its embeddings, if already computed."""

        k = min(20, len(self.bank))
        acc = knn_accuracy(
            embed(method, self.bank.x),
            self.bank.y,
            embed(method, self.val.x) if z_val is None else z_val,
            self.val.y,
            ks=(k,),
            tau=self.tau,
            num_classes=self.num_classes,
        )
        return {"val/knn@20": acc[k]}


def _identity(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of a config that define the training (evaluation and logging may change)."""
    out = {k: v for k, v in config.items() if k not in ("eval",)}
    out["train"] = {k: v for k, v in out["train"].items() if k not in ("tensorboard",)}
    out["train"].setdefault("precision", "fp32")  # runs from before the field existed
    return out


def _rng_state(generator: torch.Generator) -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state(), "generator": generator.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def _set_rng_state(generator: torch.Generator, state: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(state["torch"])
    generator.set_state(state["generator"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


@dataclass
class _Setup:
    """What every epoch uses and nothing changes: optimiser, schedule, generator, validation."""

    steps: int
    optimizer: torch.optim.Optimizer
    scheduler: Scheduler
    generator: torch.Generator
    val: Split
    monitor: Monitor | None
    precision: str
    memory_format: torch.memory_format


@dataclass
class _Progress:
    """What a checkpoint carries from epoch to epoch (and across a resume)."""

    epoch: int = 0
    best_epoch: int = 0
    best: float = -math.inf
    bad_epochs: int = 0
    train_seconds: float = 0.0
    images_seen: int = 0
    history: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    traces: list[torch.Tensor] = dataclasses.field(default_factory=list)
    records: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def _set_up(method: Method, splits: Splits, cfg: RunConfig) -> _Setup:
    """Move the method to the data's device and build what the epochs share."""
    t = cfg.train
    device = splits.train.x.device
    memory_format = torch.channels_last if t.channels_last else torch.contiguous_format
    precision = resolve_precision(t.precision, device)
    method.to(device=device, memory_format=memory_format)  # type: ignore[call-overload]
    torch.manual_seed(t.seed)
    generator = torch.Generator(device=device).manual_seed(t.seed)
    steps = t.steps_per_epoch or len(splits.train) // t.batch_size
    if steps < 1:
        raise ConfigError(
            f"batch size {t.batch_size} exceeds the {len(splits.train)} training images"
        )
    optimizer = build_optimizer(method, cfg)
    # Per-epoch validation uses one fixed subset (monitor_val_size images): cheap enough to run
    # every epoch, identical across epochs and resumes. The kNN monitor runs when a kNN metric
    # is monitored; other methods monitor their own validation logs (e.g. val/psnr).
    val = splits.val.subset(_fixed_subset(len(splits.val), t.monitor_val_size, 2, device))
    return _Setup(
        steps=steps,
        optimizer=optimizer,
        scheduler=Scheduler(optimizer, t, steps),
        generator=generator,
        val=val,
        monitor=Monitor(splits, val, cfg) if t.monitor.startswith("val/knn") else None,
        precision=precision,
        memory_format=memory_format,
    )


def _resume(run: RunDir, method: Method, cfg: RunConfig, setup: _Setup) -> _Progress | None:
    """The progress saved in the run's last checkpoint (``None``: a fresh run)."""
    if not run.last_checkpoint.exists():
        return None
    state = load_checkpoint(run.last_checkpoint, map_location=setup.generator.device)
    if _identity(state["config"]) != _identity(dataclasses.asdict(cfg)):
        raise RunError(
            f"{run.path} holds a run with a different config; use a new --out folder to start another run"
        )
    method.load_state_dict(state["model"])
    setup.optimizer.load_state_dict(state["optimizer"])
    setup.scheduler.load_state_dict(state["scheduler"])
    _set_rng_state(setup.generator, state["rng"])
    epoch = int(state["epoch"])
    return _Progress(
        epoch=epoch,
        best_epoch=int(state["best_epoch"]),
        best=float(state["best_monitor"]),
        bad_epochs=int(state["bad_epochs"]),
        train_seconds=float(state["train_seconds"]),
        images_seen=int(state["images_seen"]),
        history=list(state["history"]),
        traces=list(state["trace"]) if state.get("trace") is not None else [],
        records=[r for r in run.read_metrics() if int(r.get("epoch", 0)) <= epoch],
    )


def _train_epoch(
    method: Method,
    splits: Splits,
    cfg: RunConfig,
    setup: _Setup,
    epoch: int,
    state: _Progress,
    tb: TensorBoardLog | None,
    quiet: bool,
) -> tuple[dict[str, torch.Tensor], int, float]:
    """One epoch of optimiser steps: (summed step logs, images seen, seconds)."""
    t, steps = cfg.train, setup.steps
    method.train()
    sums: dict[str, torch.Tensor] = {}
    images, tic = 0, time.perf_counter()
    batches = method.batches(splits.train, steps, t.batch_size, generator=setup.generator)
    for step, idx in enumerate(
        progress(batches, quiet=quiet, desc=f"epoch {epoch}/{t.epochs}", total=steps)
    ):
        x = splits.train.x[idx].contiguous(memory_format=setup.memory_format)
        with autocast(splits.train.x.device, setup.precision):
            out = method.training_step(x, splits.train.y[idx], generator=setup.generator)
        setup.optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        setup.optimizer.step()
        setup.scheduler.step()
        method.after_step((epoch - 1) * steps + step + 1, t.epochs * steps)
        images += out.n_images
        for key, log in out.logs.items():
            sums[key] = sums.get(key, 0) + log.detach().float()
        if t.log_every and (step + 1) % t.log_every == 0:  # .item() only at log steps
            loss_now = float(out.loss.detach())
            state.records.append(
                {
                    "kind": "step",
                    "epoch": epoch,
                    "step": step + 1,
                    "train/loss": loss_now,
                    "lr": setup.scheduler.lr,
                }
            )
            if tb is not None:
                tb.scalars({"step/train_loss": loss_now}, (epoch - 1) * steps + step + 1)
    return sums, images, time.perf_counter() - tic


def _validate(
    method: Method,
    cfg: RunConfig,
    setup: _Setup,
    epoch: int,
    sums: dict[str, torch.Tensor],
    images: int,
    seconds: float,
) -> dict[str, Any]:
    """The epoch's record: mean step logs, the method's validation logs and the monitor."""
    record: dict[str, Any] = {"kind": "epoch", "epoch": epoch, "lr": setup.scheduler.lr}
    record |= {f"train/{k}": float(v) / setup.steps for k, v in sums.items()}
    # One embedding of the validation subset per epoch serves the method's logs and the monitor.
    z_val = embed(method, setup.val.x) if setup.monitor is not None else None
    record |= {f"val/{k}": v for k, v in method.validation_logs(setup.val, z_val).items()}
    if setup.monitor is not None:
        record |= setup.monitor(method, z_val)
    record["train_seconds"] = seconds
    record["precision"] = setup.precision
    record["train_img_per_s"] = images / max(seconds, 1e-9)
    if cfg.train.monitor not in record:
        raise ConfigError(
            f"monitor {cfg.train.monitor!r} is not logged; logged: {', '.join(sorted(record))}"
        )
    return record


def _select(
    run: RunDir, method: Method, cfg: RunConfig, epoch: int, value: float, state: _Progress
) -> None:
    """Keep the best checkpoint by the validation monitor; count epochs without progress."""
    if value > state.best:
        state.best, state.best_epoch, state.bad_epochs = value, epoch, 0
        save_checkpoint(
            run.best_checkpoint,
            {
                "config": dataclasses.asdict(cfg),
                "epoch": epoch,
                "model": method.state_dict(),
                "monitor": value,
            },
        )
    else:
        state.bad_epochs += 1


def _save_last(
    run: RunDir, method: Method, cfg: RunConfig, setup: _Setup, state: _Progress
) -> None:
    """The epoch's metrics, then the checkpoint that makes the epoch count.

    A run killed between the two resumes from the previous checkpoint, redoes this epoch and
    drops its line (records are kept up to the checkpoint's epoch). The other order could leave
    a finished epoch with no line in metrics.jsonl.
    """
    run.write_metrics(state.records)
    save_checkpoint(
        run.last_checkpoint,
        {
            "config": dataclasses.asdict(cfg),
            "epoch": state.epoch,
            "model": method.state_dict(),
            "optimizer": setup.optimizer.state_dict(),
            "scheduler": setup.scheduler.state_dict(),
            "rng": _rng_state(setup.generator),
            "best_epoch": state.best_epoch,
            "best_monitor": state.best,
            "bad_epochs": state.bad_epochs,
            "train_seconds": state.train_seconds,
            "images_seen": state.images_seen,
            "precision": setup.precision,
            "history": state.history,
            "trace": torch.stack(state.traces) if state.traces else None,
        },
    )


def fit(
    method: Method,
    splits: Splits,
    cfg: RunConfig,
    run: RunDir,
    *,
    trace: Callable[[Method], torch.Tensor] | None = None,
    quiet: bool = False,
    stop_after_epochs: int | None = None,
) -> FitResult:
    """Train ``method`` on ``splits.train`` per ``cfg.train``, resuming from ``run`` if it can.

    Each epoch: optimiser steps, validation, best-checkpoint selection, the schedule's epoch
    step, the trace, then the metrics line and the last checkpoint.

    Args:
        trace: called (in eval mode, no grad) before the first epoch and after every epoch; its
            outputs are stacked for animations (e.g. embeddings of fixed test digits).
        stop_after_epochs: stop (as if interrupted) after this many epochs in total; for tests.
    """
    t = cfg.train
    setup = _set_up(method, splits, cfg)
    resumed = _resume(run, method, cfg, setup)
    state = resumed or _Progress()

    def record_trace() -> None:
        if trace is not None:
            was_training = method.training
            method.eval()
            with torch.no_grad():
                state.traces.append(trace(method).detach().cpu())
            method.train(was_training)

    if resumed is None:
        record_trace()  # the untrained model: frame 0 of the animations
    tb = (
        TensorBoardLog(run.path, purge_step=state.epoch * setup.steps + 1)
        if t.tensorboard
        else None
    )
    step_seconds = 0.0
    for epoch in range(state.epoch + 1, t.epochs + 1):
        if stop_after_epochs is not None and epoch > stop_after_epochs:
            break
        if t.early_stop_patience is not None and state.bad_epochs >= t.early_stop_patience:
            break
        sums, images, seconds = _train_epoch(method, splits, cfg, setup, epoch, state, tb, quiet)
        step_seconds += seconds
        state.train_seconds += seconds
        state.images_seen += images
        record = _validate(method, cfg, setup, epoch, sums, images, seconds)
        value = float(record[t.monitor])
        _select(run, method, cfg, epoch, value, state)
        record["best_epoch"] = state.best_epoch
        setup.scheduler.epoch_end(value)
        record_trace()
        state.epoch = epoch
        state.history.append(record)
        state.records.append(record)
        _save_last(run, method, cfg, setup, state)
        if tb is not None:
            tb.scalars(record, epoch * setup.steps)
        if not quiet:
            shown = {k: round(v, 4) for k, v in record.items() if isinstance(v, float)}
            log.info("epoch %d: %s", epoch, shown)
    if tb is not None:
        tb.close()
    return FitResult(
        history=state.history,
        best_epoch=state.best_epoch,
        best_monitor=state.best,
        train_seconds=state.train_seconds,
        train_img_per_s=state.images_seen / max(state.train_seconds, 1e-9),
        trace=torch.stack(state.traces) if state.traces else None,
        step_seconds=step_seconds,
    )


def load_method(
    run: RunDir, which: str = "best", device: str | torch.device = "cpu"
) -> tuple[Method, RunConfig]:
    """Rebuild a run's method from its folder and load the ``best`` or ``last`` weights."""

    cfg = run.config()
    path = run.best_checkpoint if which == "best" else run.last_checkpoint
    state = load_checkpoint(path, map_location=device)
    method = build_method(cfg)
    method.load_state_dict(state["model"])
    # channels_last: 2-2.5x faster CNN inference on CPU (NCHW max-pooling is slow).
    method.to(device=device, memory_format=torch.channels_last)  # type: ignore[call-overload]
    method.eval()
    return method, cfg


__all__ = ["FitResult", "Split", "build_optimizer", "fit", "load_method"]
