"""Embedding a split with a model: the one place in eval/ that touches a model."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


@torch.no_grad()
def embed(
    model: nn.Module,
    x: torch.Tensor,
    *,
    batch_size: int = 512,
    channels_last: bool = True,
) -> torch.Tensor:
    """Features of ``x`` in eval mode (batched; the model's train/eval mode is restored).

    A model with an ``embed`` method (a training method) is asked for ``embed(x)``, the features
    ``h``; any other module is called. Eval mode matters: dropout off, BatchNorm on running
    statistics (and not updating them). ``channels_last`` is several times faster for CNN
    inference on CPU (DESIGN §9).
    """
    fn: Callable[[torch.Tensor], torch.Tensor] = getattr(model, "embed", model)
    was_training = model.training
    model.eval()
    try:
        out = []
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size]
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            out.append(fn(xb).float())
        return torch.cat(out) if out else x.new_zeros((0, 0))
    finally:
        model.train(was_training)
