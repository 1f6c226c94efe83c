"""One readable training loop for every method.

Validation-only model selection: the monitor (online kNN on a fixed validation subset, bank =
a fixed training subset) drives best-checkpoint selection, the plateau schedule and early
stopping; the test split is never seen here. A run checkpoints after every epoch (model,
optimiser, schedule, RNG states, history) and resumes from its last checkpoint to the same
result as an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
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
from mnistmax.methods.base import Method
from mnistmax.progress import progress
from mnistmax.train.checkpoint import load_checkpoint, save_checkpoint
from mnistmax.train.precision import autocast, resolve_precision
from mnistmax.train.runlog import RunDir
from mnistmax.train.schedule import Scheduler
from mnistmax.train.tensorboard import TensorBoardLog


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
        from mnistmax.eval.knn import knn_accuracy

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

    Args:
        trace: called (in eval mode, no grad) before the first epoch and after every epoch; its
            outputs are stacked for animations (e.g. embeddings of fixed test digits).
        stop_after_epochs: stop (as if interrupted) after this many epochs in total; for tests.
    """
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
    scheduler = Scheduler(optimizer, t, steps)
    # The kNN monitor runs when a kNN metric is monitored; other methods monitor their own
    # validation logs (e.g. val/psnr).
    # Per-epoch validation uses one fixed subset (monitor_val_size images): cheap enough to run
    # every epoch, identical across epochs and resumes.
    val = splits.val.subset(_fixed_subset(len(splits.val), t.monitor_val_size, 2, device))
    monitor = Monitor(splits, val, cfg) if t.monitor.startswith("val/knn") else None

    history: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    traces: list[torch.Tensor] = []
    start_epoch, best_epoch, best = 0, 0, -math.inf
    train_seconds, images_seen, bad_epochs = 0.0, 0, 0
    step_seconds = 0.0

    def record_trace() -> None:
        if trace is not None:
            was_training = method.training
            method.eval()
            with torch.no_grad():
                traces.append(trace(method).detach().cpu())
            method.train(was_training)

    if run.last_checkpoint.exists():
        state = load_checkpoint(run.last_checkpoint, map_location=device)
        if _identity(state["config"]) != _identity(dataclasses.asdict(cfg)):
            raise RunError(
                f"{run.path} holds a run with a different config; use a new --out folder to start another run"
            )
        method.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        _set_rng_state(generator, state["rng"])
        start_epoch = int(state["epoch"])
        best_epoch, best = int(state["best_epoch"]), float(state["best_monitor"])
        train_seconds, images_seen = float(state["train_seconds"]), int(state["images_seen"])
        bad_epochs = int(state["bad_epochs"])
        history = list(state["history"])
        traces = list(state["trace"]) if state.get("trace") is not None else []
        records = [r for r in run.read_metrics() if int(r.get("epoch", 0)) <= start_epoch]
    else:
        record_trace()
    tb = TensorBoardLog(run.path, purge_step=start_epoch * steps + 1) if t.tensorboard else None

    for epoch in range(start_epoch + 1, t.epochs + 1):
        if stop_after_epochs is not None and epoch > stop_after_epochs:
            break
        if t.early_stop_patience is not None and bad_epochs >= t.early_stop_patience:
            break
        method.train()
        sums: dict[str, torch.Tensor] = {}
        epoch_images, tic = 0, time.perf_counter()
        batches = method.batches(splits.train, steps, t.batch_size, generator=generator)
        for step, idx in enumerate(
            progress(batches, quiet=quiet, desc=f"epoch {epoch}/{t.epochs}", total=steps)
        ):
            x = splits.train.x[idx].contiguous(memory_format=memory_format)
            with autocast(device, precision):
                out = method.training_step(x, splits.train.y[idx], generator=generator)
            optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            optimizer.step()
            scheduler.step()
            method.after_step((epoch - 1) * steps + step + 1, t.epochs * steps)
            epoch_images += out.n_images
            for key, log in out.logs.items():
                sums[key] = sums.get(key, 0) + log.detach().float()
            if t.log_every and (step + 1) % t.log_every == 0:
                loss_now = float(out.loss.detach())
                records.append(
                    {
                        "kind": "step",
                        "epoch": epoch,
                        "step": step + 1,
                        "train/loss": loss_now,
                        "lr": scheduler.lr,
                    }
                )
                if tb is not None:
                    tb.scalars({"step/train_loss": loss_now}, (epoch - 1) * steps + step + 1)
        epoch_seconds = time.perf_counter() - tic
        train_seconds += epoch_seconds
        step_seconds += epoch_seconds
        images_seen += epoch_images

        record: dict[str, Any] = {"kind": "epoch", "epoch": epoch, "lr": scheduler.lr}
        record |= {f"train/{k}": float(v) / steps for k, v in sums.items()}
        # One embedding of the validation subset per epoch serves the method's logs and the monitor.
        z_val = embed(method, val.x) if monitor is not None else None
        record |= {f"val/{k}": v for k, v in method.validation_logs(val, z_val).items()}
        if monitor is not None:
            record |= monitor(method, z_val)
        record["train_seconds"] = epoch_seconds
        record["precision"] = precision
        record["train_img_per_s"] = epoch_images / max(epoch_seconds, 1e-9)
        if t.monitor not in record:
            raise ConfigError(
                f"monitor {t.monitor!r} is not logged; logged: {', '.join(sorted(record))}"
            )
        value = float(record[t.monitor])
        if value > best:
            best, best_epoch, bad_epochs = value, epoch, 0
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
            bad_epochs += 1
        record["best_epoch"] = best_epoch
        scheduler.epoch_end(value)
        record_trace()
        history.append(record)
        records.append(record)
        # The epoch's metrics first, then the checkpoint that makes the epoch count: a run killed
        # between the two resumes from the previous checkpoint, redoes this epoch and drops its
        # line (records are kept up to the checkpoint's epoch). The other order could leave a
        # finished epoch with no line in metrics.jsonl.
        run.write_metrics(records)
        save_checkpoint(
            run.last_checkpoint,
            {
                "config": dataclasses.asdict(cfg),
                "epoch": epoch,
                "model": method.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": _rng_state(generator),
                "best_epoch": best_epoch,
                "best_monitor": best,
                "bad_epochs": bad_epochs,
                "train_seconds": train_seconds,
                "images_seen": images_seen,
                "precision": precision,
                "history": history,
                "trace": torch.stack(traces) if traces else None,
            },
        )
        if tb is not None:
            tb.scalars(record, epoch * steps)
        if not quiet:
            shown = {k: round(v, 4) for k, v in record.items() if isinstance(v, float)}
            print(f"epoch {epoch}: {shown}", flush=True)

    if tb is not None:
        tb.close()
    return FitResult(
        history=history,
        best_epoch=best_epoch,
        best_monitor=best,
        train_seconds=train_seconds,
        train_img_per_s=images_seen / max(train_seconds, 1e-9),
        trace=torch.stack(traces) if traces else None,
        step_seconds=step_seconds,
    )


def load_method(
    run: RunDir, which: str = "best", device: str | torch.device = "cpu"
) -> tuple[Method, RunConfig]:
    """Rebuild a run's method from its folder and load the ``best`` or ``last`` weights."""
    from mnistmax.methods import build_method

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
