"""Fine-tuning transfer: a pretrained encoder fine-tuned on ``N`` labels per class, next to the
same architecture trained from scratch on the same labels (``finetune@N`` vs ``scratch@N``).

This is the one evaluation besides :mod:`mnistmax.eval.embed` that takes a model: fine-tuning
changes the encoder, so it cannot work on frozen features. The caller's encoder is never
modified (each fit trains a deep copy).

Protocol (DESIGN.md §5, "transfer"):

- Labels: ``N`` images of every class drawn from the training split by
  :func:`mnistmax.eval.fewshot.fewshot_splits` (one stratified, seeded draw; nested, so the
  10-shot set lies inside the 100-shot set). The validation and test splits are not drawn from.
- Model: the encoder's features ``h`` → one ``Linear(embed_dim, K)`` head, trained end to end
  with cross-entropy. AdamW (weight decay 1e-4) with a cosine decay to zero over ``steps`` steps
  of ``batch_size`` images (a fresh random subset of the labelled set each step, without
  replacement within a step), each batch lightly augmented (the ``light`` preset: a small affine
  jitter). BatchNorm layers use batch statistics while training and running statistics at
  evaluation, as in pretraining.
- Hyper-parameters: the learning rate is chosen from ``lrs`` by accuracy on the validation split
  (a tie goes to the smaller rate), separately for the pretrained and the scratch arm; the test
  split is then used once, for the chosen model. Nothing else is tuned.
- Pairing: both arms of a shot count see the same labelled images, the same batches and the same
  augmentation draws (one generator seed), and the head starts from the same weights; only the
  encoder's starting point differs. The scratch encoder is a fresh initialisation of the same
  architecture from ``make_scratch`` (seeded by the caller).

The budget is small on purpose (500 steps of 64 by default: 32k images through the encoder per
fit): the question is how much a pretrained starting point buys with few labels, not the best
accuracy reachable. It must still be fair to the scratch twin: ``seed_cnn`` (no BatchNorm) from
scratch on 100 labels per class reached only 0.71 accuracy on 1,000 validation images after 200
steps (the top rate of a 3e-4/1e-3/3e-3 grid winning), 0.88 after 600 steps at 1e-3 and 0.92
after 500 steps at 3e-3, while 1e-2 diverged; a pretrained encoder preferred 1e-3 (mnist-mini).
Hence 500 steps and the grid (1e-3, 3e-3). Cost measured on the shared 2-core machine (load
≈ 5): 25-90 s per ``seed_cnn`` fit of 200 steps on MNIST with its validation and test passes,
so several minutes for the 2 rates x 2 arms x 2 shot counts of the SSL standard presets; an
idle machine is several times faster.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mnistmax.augment import build_augment
from mnistmax.data.splits import Splits
from mnistmax.eval.fewshot import fewshot_splits

__all__ = ["FinetuneResult", "finetune", "finetune_eval"]

#: Default learning-rate grid searched on the validation split.
DEFAULT_LRS: tuple[float, ...] = (1e-3, 3e-3)


@dataclass(frozen=True)
class FinetuneResult:
    """Outcome of :func:`finetune`.

    Attributes:
        test_acc: Test accuracy of the model with the chosen learning rate.
        val_acc: Its validation accuracy.
        lr: The chosen learning rate.
        val_curve: ``(lr, val_acc)`` for every rate tried, in grid order.
    """

    test_acc: float
    val_acc: float
    lr: float
    val_curve: tuple[tuple[float, float], ...]


class _Classifier(nn.Module):
    """Encoder → linear head (the head sees the encoder's features ``h``)."""

    def __init__(self, encoder: nn.Module, head: nn.Linear) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x))


def _embed_dim(encoder: nn.Module, x: Tensor) -> int:
    dim = getattr(encoder, "embed_dim", None)
    if isinstance(dim, int):
        return dim
    was_training = encoder.training
    encoder.eval()
    with torch.no_grad():
        out = encoder(x[:2])
    encoder.train(was_training)
    return int(out.shape[1])


@torch.no_grad()
def _accuracy(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 1024) -> float:
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=y.device)
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].contiguous(memory_format=torch.channels_last)
        correct += (model(xb).argmax(dim=1) == y[i : i + batch_size]).sum()
    return float(correct.item()) / max(len(x), 1)


def _fit(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    lr: float,
    steps: int,
    batch_size: int,
    weight_decay: float,
    augment: Callable[..., Tensor] | None,
    seed: int,
) -> nn.Module:
    """Train ``model`` in place (AdamW, cosine decay); batches and augmentation from ``seed``."""
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, steps) / steps))
    )
    # On the images' device, as in the training loop (augmentation samples on its generator's
    # device); the same seed then gives the same batches and draws for both arms.
    g = torch.Generator(device=x.device).manual_seed(seed)
    n = len(x)
    b = min(batch_size, n)
    for _ in range(steps):
        idx = torch.randperm(n, generator=g, device=x.device)[:b]
        xb = x[idx]
        if augment is not None:
            xb = augment(xb, generator=g)
        xb = xb.contiguous(memory_format=torch.channels_last)
        loss = F.cross_entropy(model(xb), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return model


def finetune(
    encoder: nn.Module,
    train_x: Tensor,
    train_y: Tensor,
    val_x: Tensor,
    val_y: Tensor,
    test_x: Tensor,
    test_y: Tensor,
    *,
    num_classes: int,
    lrs: Sequence[float] = DEFAULT_LRS,
    steps: int = 500,
    batch_size: int = 64,
    weight_decay: float = 1e-4,
    augment: str | None = "light",
    seed: int = 0,
) -> FinetuneResult:
    """Fine-tune a copy of ``encoder`` + a linear head on ``(train_x, train_y)``.

    Args:
        encoder: Maps (B, 1, 28, 28) images to (B, D) features; left unchanged (copies train).
        train_x: The labelled images (S, 1, 28, 28) in [0, 1], on the encoder's device.
        train_y: Their labels (S,) in ``[0, num_classes)``.
        val_x: Validation images; only used to choose the learning rate.
        val_y: Validation labels.
        test_x: Test images; used once, for the chosen model.
        test_y: Test labels.
        num_classes: K, the head's width.
        lrs: Learning rates tried (one fit each).
        steps: Optimiser steps per fit.
        batch_size: Images per step (capped at S).
        weight_decay: AdamW's decoupled weight decay.
        augment: Augmentation preset applied to every batch (``None``: none).
        seed: Seed of the head's initialisation, the batches and the augmentation.

    Returns:
        A :class:`FinetuneResult`.
    """
    if not lrs or any(lr <= 0 for lr in lrs):
        raise ValueError(f"lrs must hold positive learning rates, got {tuple(lrs)}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if len(train_x) == 0 or len(train_x) != len(train_y):
        raise ValueError("train_x and train_y must be non-empty and of one length")
    pipeline = None
    if augment is not None:
        pipeline = build_augment(augment)

    def fit(model: nn.Module, lr: float) -> nn.Module:
        return _fit(
            model,
            train_x,
            train_y,
            lr=lr,
            steps=steps,
            batch_size=batch_size,
            weight_decay=weight_decay,
            augment=pipeline,
            seed=seed,
        )

    # The global generators (head initialisation, dropout) are seeded here and restored after,
    # so the numbers depend on ``seed`` only and the caller's random state is left alone.
    cuda = [train_x.device] if train_x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        head = nn.Linear(_embed_dim(encoder, train_x), num_classes).to(train_x.device)
        return _search(encoder, head, fit, lrs, (val_x, val_y), (test_x, test_y))


def _search(
    encoder: nn.Module,
    head: nn.Linear,
    fit: Callable[[nn.Module, float], nn.Module],
    lrs: Sequence[float],
    val: tuple[Tensor, Tensor],
    test: tuple[Tensor, Tensor],
) -> FinetuneResult:
    """One fit per learning rate; the best on validation is scored on test, once."""
    best: tuple[float, float, dict[str, Tensor]] | None = None  # (val_acc, lr, state)
    curve: list[tuple[float, float]] = []
    model: nn.Module | None = None
    for lr in lrs:
        model = _Classifier(copy.deepcopy(encoder), copy.deepcopy(head))
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        fit(model, float(lr))
        val_acc = _accuracy(model, *val)
        curve.append((float(lr), val_acc))
        key = (val_acc, -float(lr))
        if best is None or key > (best[0], -best[1]):
            best = (val_acc, float(lr), copy.deepcopy(model.state_dict()))
    assert best is not None and model is not None
    model.load_state_dict(best[2])
    return FinetuneResult(
        test_acc=_accuracy(model, *test),
        val_acc=best[0],
        lr=best[1],
        val_curve=tuple(curve),
    )


def finetune_eval(
    pretrained: nn.Module,
    make_scratch: Callable[[], nn.Module] | None,
    splits: Splits,
    *,
    shots: Sequence[int] = (10, 100),
    lrs: Sequence[float] = DEFAULT_LRS,
    steps: int = 500,
    batch_size: int = 64,
    seed: int = 0,
) -> dict[str, float]:
    """``finetune@N`` (pretrained) and ``scratch@N`` (fresh encoder) for every ``N`` in ``shots``.

    Args:
        pretrained: The pretrained encoder (features ``h``); not modified.
        make_scratch: Returns a freshly initialised encoder of the same architecture (``None``:
            no scratch arm). Called once per shot count; seed it for reproducible numbers.
        splits: Train (the labels are drawn from it), val (learning-rate choice), test.
        shots: Labelled images per class.
        lrs: Learning-rate grid (searched on validation for each arm).
        steps: Optimiser steps per fit.
        batch_size: Images per step.
        seed: Seed of the label draw, the head initialisation, batches and augmentation.

    Returns:
        ``{"test/finetune@N", "val/finetune@N", "test/scratch@N", "val/scratch@N"}`` accuracies.
    """
    if not shots:
        return {}
    draw = fewshot_splits(splits.train.y, shots=shots, draws=1, seed=seed)[0]
    out: dict[str, float] = {}
    for n in shots:
        idx = draw[int(n)]
        arms: list[tuple[str, nn.Module]] = [("finetune", pretrained)]
        if make_scratch is not None:
            arms.append(("scratch", make_scratch().to(splits.train.x.device)))
        for name, encoder in arms:
            res = finetune(
                encoder,
                splits.train.x[idx],
                splits.train.y[idx],
                splits.val.x,
                splits.val.y,
                splits.test.x,
                splits.test.y,
                num_classes=splits.num_classes,
                lrs=lrs,
                steps=steps,
                batch_size=batch_size,
                seed=seed,
            )
            out[f"test/{name}@{n}"] = res.test_acc
            out[f"val/{name}@{n}"] = res.val_acc
    return out
