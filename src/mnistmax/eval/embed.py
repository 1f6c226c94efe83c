"""Embedding a split with a model: the one place in eval/ that touches a model."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval


def _fusable_pairs(model: nn.Module) -> list[tuple[nn.Sequential, int]]:
    """``(seq, i)`` for each ``seq[i]`` Conv2d→BatchNorm2d or Linear→BatchNorm1d pair."""
    pairs = []
    for seq in model.modules():
        if not isinstance(seq, nn.Sequential):
            continue
        layers = list(seq)
        for i, (a, b) in enumerate(itertools.pairwise(layers)):
            conv_bn = isinstance(a, nn.Conv2d) and type(b) is nn.BatchNorm2d
            linear_bn = isinstance(a, nn.Linear) and type(b) is nn.BatchNorm1d
            if (conv_bn or linear_bn) and b.running_mean is not None:
                pairs.append((seq, i))
    return pairs


def fused_for_inference(model: nn.Module) -> nn.Module:
    """An eval-mode copy of ``model`` with BatchNorm folded into the layer before it.

    In eval mode a BatchNorm after a convolution or linear layer is a per-channel affine map, so
    it folds exactly into that layer's weight and bias (equal outputs up to float rounding, about
    1e-7). The folded BatchNorm becomes an ``nn.Identity`` so layer indices stay valid. This
    skips one pass over every activation map: 1.0-2.0x the images per second for conv_small on
    2 CPU threads, depending on the batch size (benchmarks/bench_inference.py). Returns
    ``model`` itself, untouched, when there is nothing to fold.
    """
    if not _fusable_pairs(model):
        return model
    fused = copy.deepcopy(model).eval()
    for seq, i in _fusable_pairs(fused):
        layer, bn = seq[i], seq[i + 1]
        assert isinstance(bn, nn.BatchNorm1d | nn.BatchNorm2d)
        new: nn.Module
        if isinstance(layer, nn.Conv2d):
            channels_last = layer.weight.is_contiguous(memory_format=torch.channels_last)
            new = fuse_conv_bn_eval(layer, bn)
            if channels_last:
                new.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        else:
            assert isinstance(layer, nn.Linear)
            new = fuse_linear_bn_eval(layer, bn)
        seq[i], seq[i + 1] = new, nn.Identity()
    return fused


@torch.no_grad()
def embed(
    model: nn.Module,
    x: torch.Tensor,
    *,
    batch_size: int = 128,
    channels_last: bool = True,
) -> torch.Tensor:
    """Features of ``x`` in eval mode (batched; the model's train/eval mode is restored).

    A model with an ``embed`` method (a training method) is asked for ``embed(x)``, the features
    ``h``; any other module is called. Eval mode matters: dropout off, BatchNorm on running
    statistics (and not updating them); BatchNorm is then folded into the layer before it
    (:func:`fused_for_inference`). ``channels_last`` is several times faster for CNN inference
    on CPU (DESIGN §9). Batches of 128 keep a small CNN's activations in cache: 1.15-1.5x the
    images per second of batches of 512 for seed_cnn and conv_small at 2 threads
    (benchmarks/bench_inference.py, docs/benchmarks.md).
    """
    was_training = model.training
    model.eval()
    try:
        net = fused_for_inference(model)
        fn: Callable[[torch.Tensor], torch.Tensor] = getattr(net, "embed", net)
        out = []
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size]
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            out.append(fn(xb).float())
        return torch.cat(out) if out else x.new_zeros((0, 0))
    finally:
        model.train(was_training)
