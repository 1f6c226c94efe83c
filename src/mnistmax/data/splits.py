"""Train / validation / test splits as device-resident tensors.

The validation split is a fixed, stratified carve of the training file (default 5,000 images,
seed 0): model selection, early stopping and hyper-parameter choices use it; the test file is
only touched for final numbers. A per-class subset (``train_per_class``) is drawn from what
remains after the carve, so a small-label run never trains on validation images.
:func:`load_splits` always returns the full training split (the evaluation protocol's bank);
:func:`labelled` narrows it to a run's labelled subset.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from mnistmax.config import DataConfig
from mnistmax.errors import ConfigError


@dataclass(frozen=True)
class Split:
    """Images ``x`` (N, 1, 28, 28) float32 in [0, 1] and labels ``y`` (N,) int64, one device."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, idx: torch.Tensor) -> Split:
        """The images at ``idx`` (a view-free gather)."""
        return Split(self.x[idx], self.y[idx])


@dataclass(frozen=True)
class Splits:
    """The three splits of one dataset plus its class names."""

    train: Split
    val: Split
    test: Split
    class_names: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def _largest_remainder(counts: np.ndarray, total: int) -> np.ndarray:
    """Integer per-class quotas proportional to ``counts`` that sum exactly to ``total``."""
    exact = counts * (total / counts.sum())
    quota = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - quota), kind="stable")
    quota[order[: total - int(quota.sum())]] += 1
    return quota


def stratified_carve(y: np.ndarray, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split indices of ``y`` into (kept, carved) with ``size`` carved, stratified by class.

    Deterministic for a given ``seed``; the carved share of each class matches its frequency
    (largest-remainder rounding).
    """
    if not 0 <= size < len(y):
        raise ConfigError(f"validation size {size} must be in [0, {len(y)})")
    classes, counts = np.unique(y, return_counts=True)
    quota = _largest_remainder(counts, size)
    perm = np.random.default_rng(seed).permutation(len(y))
    carved = [perm[y[perm] == c][:q] for c, q in zip(classes, quota, strict=True)]
    carved_idx = np.sort(np.concatenate(carved)) if carved else np.empty(0, np.int64)
    mask = np.ones(len(y), dtype=bool)
    mask[carved_idx] = False
    return np.flatnonzero(mask), carved_idx


def per_class_subset(y: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices of ``per_class`` images of every class (seeded draw, sorted)."""
    perm = np.random.default_rng(seed + 1).permutation(len(y))
    picks = []
    for c in np.unique(y):
        members = perm[y[perm] == c]
        if len(members) < per_class:
            raise ConfigError(
                f"train_per_class={per_class} but class {c} has only {len(members)} images"
            )
        picks.append(members[:per_class])
    return np.sort(np.concatenate(picks))


def _to_split(images: np.ndarray, labels: np.ndarray, device: torch.device) -> Split:
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    x = x.to(torch.float32).div_(255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64)).to(device)
    return Split(x, y)


def load_splits(cfg: DataConfig, device: torch.device | str = "cpu") -> Splits:
    """Load (fetching if needed) and split a dataset; every tensor lives on ``device``.

    ``cfg.train_per_class`` is not applied here: see :func:`labelled`.
    """
    from mnistmax.data import catalog, store  # start-up: data commands import only numpy

    info = catalog.DATASETS.get(cfg.dataset)
    if info is None:
        raise ConfigError(
            f"unknown dataset {cfg.dataset!r}; choose one of: {', '.join(catalog.names())}"
        )
    device = torch.device(device)
    x_tr, y_tr = store.load_arrays(cfg.dataset, "train", root=cfg.root)
    x_te, y_te = store.load_arrays(cfg.dataset, "test", root=cfg.root)
    val_size = info.default_val_size if cfg.val_size is None else cfg.val_size
    keep, carved = stratified_carve(y_tr, val_size, cfg.split_seed)
    return Splits(
        train=_to_split(x_tr[keep], y_tr[keep], device),
        val=_to_split(x_tr[carved], y_tr[carved], device),
        test=_to_split(x_te, y_te, device),
        class_names=tuple(info.class_names),
    )


def labelled_indices(splits: Splits, cfg: DataConfig) -> torch.Tensor | None:
    """Indices into ``splits.train`` of the run's labelled subset (``None``: all of it)."""
    if cfg.train_per_class is None:
        return None
    idx = per_class_subset(splits.train.y.cpu().numpy(), cfg.train_per_class, cfg.split_seed)
    return torch.from_numpy(idx).to(splits.train.y.device)


def labelled(splits: Splits, cfg: DataConfig) -> Splits:
    """``splits`` with the training split narrowed to ``cfg.train_per_class`` images per class."""
    idx = labelled_indices(splits, cfg)
    return splits if idx is None else replace(splits, train=splits.train.subset(idx))
