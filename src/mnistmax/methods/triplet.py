"""Supervised triplet metric learning (the reference project's headline method, done right).

The ``random`` miner reproduces the reference's sampling: each batch is ``batch_size`` random
triplets drawn from the whole labelled set (anchor class uniform, a different same-class
positive, a negative from another class), their three images embedded as separate inputs so
that ``augment_mode="shared"`` can apply one augmentation draw to all three (the reference's
"consistent augmentation", with a rotation that actually rotates). Distance miners take P
classes × K images per batch, embed it once (each image augmented on its own) and index
triplets into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from mnistmax.augment import build_augment
from mnistmax.config import RunConfig
from mnistmax.data import catalog
from mnistmax.data.loader import pk_batches, triplet_batches
from mnistmax.data.splits import Split
from mnistmax.errors import ConfigError
from mnistmax.eval.embed import embed
from mnistmax.losses.miners import MINERS, RandomMiner
from mnistmax.losses.triplet import (
    pairwise_distances,
    triplet_accuracy_from_indices,
    triplet_loss,
)
from mnistmax.methods import METHODS
from mnistmax.methods.base import Method, StepOutput
from mnistmax.models.encoders import build_encoder
from mnistmax.training.precision import full_precision


@METHODS.register("triplet")
class TripletMethod(Method):
    """Encoder trained with a triplet loss on L2-normalised embeddings."""

    uses_labels = True

    @classmethod
    def check_config(cls, cfg: RunConfig, *, num_classes: int) -> None:
        # A P×K batch (distance miners) takes K images of each of P classes.
        t = cfg.triplet
        if getattr(MINERS.factory(t.miner), "embeds_triplets", False):
            return  # batch_size triplets drawn from the whole set: no P×K
        p, k = t.classes_per_batch, cfg.train.batch_size // t.classes_per_batch
        if p > num_classes:
            raise ConfigError(
                f"triplet.classes_per_batch={p}: the dataset has only {num_classes} classes"
            )
        if k < 2:
            raise ConfigError(
                f"train.batch_size={cfg.train.batch_size}: a P×K batch needs K >= 2 images of each "
                f"of triplet.classes_per_batch={p} classes, so at least {2 * p}"
            )
        per_class = cfg.data.train_per_class
        if per_class is not None and k > per_class:
            raise ConfigError(
                f"train.batch_size={cfg.train.batch_size}: K={k} images of a class per batch, more "
                f"than the data.train_per_class={per_class} labelled images of a class"
            )

    def __init__(self, cfg: RunConfig, **_: Any) -> None:
        super().__init__()
        t = cfg.triplet
        if t.augment_mode not in ("shared", "independent"):
            raise ConfigError(
                f"triplet.augment_mode must be shared or independent, not {t.augment_mode!r}"
            )
        self.miner = MINERS.build(t.miner)
        if not self.miner.embeds_triplets and cfg.train.batch_size % t.classes_per_batch:
            raise ConfigError(
                f"train.batch_size={cfg.train.batch_size} must be a multiple of "
                f"triplet.classes_per_batch={t.classes_per_batch}"
            )
        self.cfg = t
        self.encoder = build_encoder(
            cfg.model.encoder, embed_dim=cfg.model.embed_dim, dropout=cfg.model.dropout
        )
        self.augment = build_augment(t.augment, auto=catalog.get(cfg.data.dataset).augment.one_view)
        pairwise_distances(torch.zeros(1, 1), t.distance)  # validates the name early
        self._val_triplets: tuple[torch.Tensor, ...] | None = None

    def batches(
        self, train: Split, steps: int, batch_size: int, *, generator: torch.Generator
    ) -> Iterator[torch.Tensor]:

        if self.miner.embeds_triplets:  # batch_size triplets from the whole set: 3 x images
            yield from triplet_batches(train.y, batch_size, steps, generator=generator)
            return
        p = self.cfg.classes_per_batch
        yield from pk_batches(train.y, p, batch_size // p, steps, generator=generator)

    def _loss(
        self, z: torch.Tensor, a: torch.Tensor, p: torch.Tensor, n: torch.Tensor
    ) -> torch.Tensor:
        return triplet_loss(z, a, p, n, margin=self.cfg.margin, distance=self.cfg.distance)

    def training_step(
        self, x: torch.Tensor, y: torch.Tensor, *, generator: torch.Generator
    ) -> StepOutput:
        # x holds anchors, positives, negatives when the miner embeds triplets (batches())
        groups = 3 if self.miner.embeds_triplets and self.cfg.augment_mode == "shared" else 1
        with full_precision(x.device):  # augmentation in float32 (training/precision.py)
            xa = self.augment(x, generator=generator, groups=groups)
        z = self.encoder(xa)
        if self.miner.embeds_triplets:
            ar = torch.arange(len(x) // 3, device=z.device)
            a, p, n = ar, ar + len(ar), ar + 2 * len(ar)
        with full_precision(z.device):  # mining and loss in float32 (training/precision.py)
            z = z.float()
            if not self.miner.embeds_triplets:
                with torch.no_grad():
                    dist = pairwise_distances(z.detach(), self.cfg.distance)
                a, p, n = self.miner(dist, y, generator=generator)
            loss = self._loss(z, a, p, n)
            logs = {
                "loss": loss.detach(),
                "triplet_acc": triplet_accuracy_from_indices(z.detach(), a, p, n),
                "triplets": torch.tensor(float(len(a))),
            }
        return StepOutput(loss, logs, n_images=int(z.shape[0]))

    @torch.no_grad()
    def validation_logs(self, val: Split, z: torch.Tensor | None = None) -> dict[str, float]:
        """Loss and triplet accuracy on fixed random validation triplets, no augmentation."""
        if self._val_triplets is None:
            g = torch.Generator(device="cpu").manual_seed(1234)
            y = val.y.cpu()
            a, p, n = RandomMiner()(None, y, generator=g)
            self._val_triplets = (a.to(val.y.device), p.to(val.y.device), n.to(val.y.device))
        a, p, n = self._val_triplets

        if z is None:
            z = embed(self.encoder, val.x)
        return {
            "loss": float(self._loss(z, a, p, n)),
            "triplet_acc": float(triplet_accuracy_from_indices(z, a, p, n)),
        }
