"""The method contract the training loop drives: ``embed`` and ``training_step``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

from mnistmax.config import RunConfig
from mnistmax.data.loader import epoch_batches
from mnistmax.data.splits import Split
from mnistmax.models.encoders import Encoder


@dataclass
class StepOutput:
    """One step's loss, its logs (tensors; ``.item()`` only at log steps) and images seen."""

    loss: torch.Tensor
    logs: dict[str, torch.Tensor] = field(default_factory=dict)
    n_images: int = 0


class Method(nn.Module):
    """Base class. Subclasses own an ``encoder`` and implement ``training_step``."""

    encoder: Encoder
    #: The registered family that trains, evaluates and reports this method (mnistmax.families).
    family: ClassVar[str] = "representation"
    #: Whether the training loss sees labels (the report's "labels used" column).
    uses_labels: ClassVar[bool] = False

    @classmethod
    def check_config(cls, cfg: RunConfig, *, num_classes: int) -> None:
        """Refuse a config the method cannot train on a dataset of ``num_classes`` classes
        (rules that need two fields or the data; default: none)."""
        del cfg, num_classes

    def inference_module(self) -> nn.Module:
        """The part of the method used at test time (the report counts its parameters)."""
        return self.encoder

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Features ``h`` used by evaluation (encoder output, not a projection)."""
        return self.encoder(x)

    def batches(
        self, train: Split, steps: int, batch_size: int, *, generator: torch.Generator
    ) -> Iterator[torch.Tensor]:
        """Index batches for one epoch (default: one shuffled pass)."""

        for i, idx in enumerate(
            epoch_batches(
                len(train), batch_size, generator=generator, drop_last=True, device=train.y.device
            )
        ):
            if i >= steps:
                break
            yield idx

    def training_step(
        self, x: torch.Tensor, y: torch.Tensor, *, generator: torch.Generator
    ) -> StepOutput:
        """Loss on one batch (the loop does backward and the optimiser step)."""
        raise NotImplementedError

    def after_step(self, step: int, total_steps: int) -> None:
        """Called by the loop after every optimiser step (default: nothing).

        Args:
            step: Global step just taken, 1-based, counted across epochs (and resumes).
            total_steps: Steps of the whole run (``epochs × steps_per_epoch``), for schedules
                such as BYOL's target momentum.
        """
        del step, total_steps

    @torch.no_grad()
    def validation_logs(self, val: Split, z: torch.Tensor | None = None) -> dict[str, float]:
        """Validation-only metrics the method defines (e.g. the loss on fixed triplets).

        ``z``: ``self.embed`` of ``val.x`` when the loop already computed it (the kNN monitor
        needs it too), so that it is computed once per epoch.
        """
        del val, z
        return {}
