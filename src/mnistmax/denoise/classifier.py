"""The downstream reference classifier: trained once on clean training images, cached.

Denoised digits are judged by whether a fixed classifier still reads them: a small LeNet-style
CNN (cheap enough to run on every method's output at every sweep point), trained on the clean
training split (validation images excluded) with a fixed recipe and seed, and cached as
``<data root>/classifiers/<dataset>_lenet_v2.pt`` (weights only, loaded with
``weights_only=True``). Its clean test accuracy is stored with it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from mnistmax.data.splits import Splits
from mnistmax.data.store import data_root
from mnistmax.io import atomic_path
from mnistmax.progress import progress

VERSION = 2  # bump when the architecture or recipe changes: the cache key holds it
EPOCHS_FULL = 2  # epochs on a full dataset; small datasets get more (see train_classifier)
MIN_STEPS = 300


class Classifier(nn.Module):
    """Conv(16, 5)→pool→Conv(32, 3)→pool→Linear(64)→Linear(classes), BatchNorm, ReLU."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 49, 64),
            nn.ReLU(inplace=True),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch: int = 1000) -> torch.Tensor:
        """Class predictions (B,) in eval mode."""
        was = self.training
        self.eval()
        out = torch.cat([self(x[i : i + batch]).argmax(1) for i in range(0, len(x), batch)])
        self.train(was)
        return out


def classifier_path(dataset: str, root: str | None = None) -> str:
    """Where the reference classifier of ``dataset`` is cached."""

    return str(data_root(root) / "classifiers" / f"{dataset}_lenet_v{VERSION}.pt")


def train_classifier(splits: Splits, *, seed: int = 0, quiet: bool = True) -> Classifier:
    """Train the reference classifier on ``splits.train`` (clean images, Adam, batch 128)."""

    device = splits.train.x.device
    torch.manual_seed(seed)
    model = Classifier(splits.num_classes).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    n = len(splits.train)
    steps_per_epoch = max(1, n // 128)
    epochs = max(EPOCHS_FULL, -(-MIN_STEPS // steps_per_epoch))  # >= MIN_STEPS on small sets
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=total)
    g = torch.Generator(device="cpu").manual_seed(seed)
    model.train()
    for _ in progress(range(epochs), quiet=quiet, desc="reference classifier"):
        perm = torch.randperm(n, generator=g).to(device)
        for s in range(steps_per_epoch):
            idx = perm[s * 128 : (s + 1) * 128]
            loss = nn.functional.cross_entropy(model(splits.train.x[idx]), splits.train.y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    return model


def load_or_train_classifier(
    splits: Splits, dataset: str, root: str | None = None, *, quiet: bool = True
) -> tuple[Classifier, dict[str, float]]:
    """The cached reference classifier of ``dataset`` (trained and cached on first use).

    Returns:
        The classifier (eval mode, on the splits' device) and ``{"val_acc", "test_acc"}`` on
        clean images.
    """

    device = splits.train.x.device
    path = Path(classifier_path(dataset, root))
    model = Classifier(splits.num_classes)
    if path.exists():
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        model.to(device).eval()
        return model, {k: float(v) for k, v in state["metrics"].items()}
    model = train_classifier(splits, quiet=quiet)
    metrics = {
        "val_acc": float((model.predict(splits.val.x) == splits.val.y).float().mean()),
        "test_acc": float((model.predict(splits.test.x) == splits.test.y).float().mean()),
    }
    cpu_state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save({"model": cpu_state, "metrics": metrics, "version": VERSION}, tmp)
    return model, metrics
