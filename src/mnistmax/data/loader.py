"""Device-resident batching: an epoch is one ``randperm`` and a batch is an index slice.

A split lives on its device as one tensor (see :mod:`mnistmax.data.splits`), so a "data loader"
only has to hand out index tensors; ``x[idx]`` is then one gather on the device. This replaces a
``torch.utils.data.DataLoader`` (per-sample Python, worker processes, host-to-device copies) with
a handful of tensor ops per epoch.

Two samplers:

* :func:`epoch_batches` — a uniform shuffle; every index appears exactly once per epoch.
* :class:`PKSampler` / :func:`pk_batches` — class-balanced P×K batches for metric learning
  (P distinct classes, K images of each), drawn with a few vectorised ops per batch.

Random numbers come from the caller's ``torch.Generator`` (on its own device) and are moved to the
data's device, so a CPU generator drives GPU-resident data and one seed gives one sequence.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from mnistmax.errors import ConfigError

__all__ = ["PKSampler", "epoch_batches", "pk_batches"]


def epoch_batches(
    n: int,
    batch_size: int,
    *,
    generator: torch.Generator,
    drop_last: bool = False,
    device: torch.device | str | None = None,
) -> Iterator[torch.Tensor]:
    """Yield the index batches of one shuffled epoch over ``n`` items.

    Args:
        n: Number of items in the split.
        batch_size: Indices per batch; the last batch is shorter unless ``drop_last``.
        generator: Source of the permutation; the same seed gives the same batches.
        drop_last: Drop the final short batch (so every batch has exactly ``batch_size``).
        device: Device of the yielded index tensors (default: the generator's device).

    Yields:
        int64 index tensors of shape ``(batch_size,)`` (the last may be shorter); every index in
        ``range(n)`` appears exactly once per epoch (once at most with ``drop_last``).

    Raises:
        ConfigError: ``n`` is negative or ``batch_size`` is not positive.
    """
    if n < 0:
        raise ConfigError(f"epoch_batches needs n >= 0, got {n}")
    if batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, got {batch_size}")
    perm = torch.randperm(n, generator=generator, device=generator.device)
    if device is not None:
        perm = perm.to(device)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield perm[start : start + batch_size]


class PKSampler:
    """Class-balanced batches: P distinct classes × K images of each.

    The per-class index tables are built once here; each batch then costs a few vectorised ops
    (no per-sample Python). Classes are drawn uniformly without replacement; within a class, K
    images are drawn without replacement, or with replacement when the class holds fewer than K.

    Batches are **class-major**: positions ``[j*K, (j+1)*K)`` all belong to the j-th drawn class,
    so ``y[batch].view(P, K)`` has one class per row.

    Args:
        y: Labels (N,) of the split, any integer dtype, on the data's device.
        p: Classes per batch (P); at most the number of distinct labels in ``y``.
        k: Images per class (K).

    Raises:
        ConfigError: ``y`` is empty or not 1-D, ``p``/``k`` are not positive, or ``p`` exceeds the
            number of classes.
    """

    def __init__(self, y: torch.Tensor, p: int, k: int) -> None:
        if y.ndim != 1 or y.numel() == 0:
            raise ConfigError(
                f"PKSampler needs a non-empty 1-D label tensor, got shape {tuple(y.shape)}"
            )
        if p < 1 or k < 1:
            raise ConfigError(f"P×K batches need P >= 1 and K >= 1, got P={p}, K={k}")
        classes, counts = torch.unique(y, return_counts=True)
        if p > len(classes):
            raise ConfigError(
                f"P={p} classes per batch but the labels hold only {len(classes)} classes; "
                f"lower classes_per_batch"
            )
        self.p = p
        self.k = k
        self.device = y.device
        self.classes = classes
        self.counts = counts
        # table[c, j] is the j-th index of class c (sorted by label, stable); rows are padded with
        # 0 past counts[c], and the sampling below never picks a padded slot.
        order = torch.argsort(y, stable=True)
        starts = torch.cumsum(counts, 0) - counts
        width = int(counts.max())
        slot = torch.arange(width, device=y.device)
        valid = slot[None, :] < counts[:, None]
        gather = (starts[:, None] + slot[None, :]).clamp(max=len(y) - 1)
        self.table = torch.where(valid, order[gather], torch.zeros_like(gather))
        self._valid = valid

    @property
    def batch_size(self) -> int:
        """Indices per batch, P·K."""
        return self.p * self.k

    def sample(self, generator: torch.Generator) -> torch.Tensor:
        """Draw one P×K batch of indices into ``y`` (class-major, see the class docstring)."""
        gdev = generator.device
        n_classes, width = self._valid.shape
        # P distinct classes: the P smallest of C uniform keys is a uniform P-subset.
        class_keys = torch.rand(n_classes, generator=generator, device=gdev).to(self.device)
        chosen = torch.topk(class_keys, self.p, largest=False).indices  # (P,)
        # K distinct slots per chosen class the same way; padded slots get key 2 so they lose to
        # every real slot (keys are in [0, 1)), which is why classes need >= K images here.
        slot_keys = torch.rand(self.p, width, generator=generator, device=gdev).to(self.device)
        slot_keys = slot_keys.masked_fill(~self._valid[chosen], 2.0)
        if width >= self.k:
            no_repl = torch.topk(slot_keys, self.k, dim=1, largest=False).indices  # (P, K)
        else:  # every class is smaller than K: only the with-replacement branch is used
            no_repl = torch.zeros(self.p, self.k, dtype=torch.long, device=self.device)
        # Classes with fewer than K images: K uniform draws with replacement from their slots.
        counts = self.counts[chosen]
        u = torch.rand(self.p, self.k, generator=generator, device=gdev).to(self.device)
        repl = (u * counts[:, None]).long().clamp(max=width - 1)
        slots = torch.where((counts >= self.k)[:, None], no_repl, repl)
        return self.table[chosen[:, None], slots].reshape(-1)

    def batches(self, n_batches: int, *, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """Yield ``n_batches`` independent P×K batches (see :meth:`sample`)."""
        if n_batches < 0:
            raise ConfigError(f"n_batches must be >= 0, got {n_batches}")
        for _ in range(n_batches):
            yield self.sample(generator)


def pk_batches(
    y: torch.Tensor, p: int, k: int, n_batches: int, *, generator: torch.Generator
) -> Iterator[torch.Tensor]:
    """Yield ``n_batches`` class-balanced batches of P classes × K images (class-major).

    A convenience wrapper around :class:`PKSampler`; build the sampler once yourself when you draw
    batches over many epochs, so the per-class tables are not rebuilt.

    Args:
        y: Labels (N,) on the data's device.
        p: Distinct classes per batch.
        k: Images per class; drawn with replacement only for classes holding fewer than K.
        n_batches: Number of batches to yield.
        generator: Source of randomness; the same seed gives the same batches.

    Yields:
        int64 index tensors of shape ``(p * k,)`` into ``y``, on ``y``'s device.
    """
    return PKSampler(y, p, k).batches(n_batches, generator=generator)


def triplet_batches(
    y: torch.Tensor, n_triplets: int, n_batches: int, *, generator: torch.Generator
) -> Iterator[torch.Tensor]:
    """Yield batches of random triplets drawn from the whole labelled set (the reference's sampling).

    Each triplet: anchor class uniform over the classes, anchor uniform within it, positive a
    *different* image of that class, negative class uniform over the other classes, negative
    uniform within it. Vectorised over the batch; no per-sample Python.

    Yields:
        int64 index tensors of shape ``(3 * n_triplets,)``: anchors, then positives, then
        negatives, on ``y``'s device.
    """
    sampler = PKSampler(y, 1, 1)  # its per-class tables
    if len(sampler.classes) < 2 or int(sampler.counts.min()) < 2:
        raise ConfigError("random triplets need >= 2 classes with >= 2 images each")
    if n_triplets < 1 or n_batches < 0:
        raise ConfigError(f"need n_triplets >= 1 and n_batches >= 0, got {n_triplets}, {n_batches}")
    n_classes = len(sampler.classes)
    counts = sampler.counts
    gdev = generator.device

    def uniform(size: int) -> torch.Tensor:
        return torch.rand(size, generator=generator, device=gdev).to(y.device)

    for _ in range(n_batches):
        c = (uniform(n_triplets) * n_classes).long().clamp(max=n_classes - 1)
        a = (uniform(n_triplets) * counts[c]).long().clamp(max=counts[c] - 1)
        # A different slot of the same class: shift by 1 .. count-1, wrapping.
        shift = 1 + (uniform(n_triplets) * (counts[c] - 1)).long().clamp(max=counts[c] - 2)
        p = (a + shift) % counts[c]
        nc = (c + 1 + (uniform(n_triplets) * (n_classes - 1)).long().clamp(max=n_classes - 2)) % (
            n_classes
        )
        n = (uniform(n_triplets) * counts[nc]).long().clamp(max=counts[nc] - 1)
        t = sampler.table
        yield torch.cat([t[c, a], t[c, p], t[nc, n]])
