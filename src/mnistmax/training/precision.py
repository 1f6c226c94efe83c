"""Training precision: float32, or bfloat16 autocast of the network's forward pass.

``bf16`` runs convolutions and matrix products of the forward pass (and so of the backward pass)
in bfloat16 while weights, optimiser state and gradients stay float32 (mixed precision,
Micikevicius et al. 2018, with bfloat16's float32 range so no loss scaling). Losses run in
float32: methods compute them inside :func:`full_precision` on ``.float()`` inputs, because a
contrastive logit ``cos / 0.1`` carries bfloat16's 3-digit error tenfold.

On a CPU with native bfloat16 (AVX512-BF16 or AMX) a seed_cnn training step is about 2x faster;
without it oneDNN emulates bfloat16 and is slower than float32, so ``bf16`` is refused there and
``auto`` falls back to float32. Evaluation always embeds in float32.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from mnistmax.config import PRECISIONS
from mnistmax.errors import ConfigError


def bf16_native(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively (CUDA with bf16, or a CPU with AVX512-BF16/AMX)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def resolve_precision(name: str, device: torch.device) -> str:
    """``fp32`` or ``bf16`` for ``train.precision`` on ``device`` (``auto``: bf16 where native)."""
    if name not in PRECISIONS:
        raise ConfigError(
            f"unknown train.precision {name!r}; choose one of: {', '.join(PRECISIONS)}"
        )
    if name == "fp32":
        return "fp32"
    native = bf16_native(device)
    if name == "bf16" and not native:
        raise ConfigError(
            f"train.precision=bf16 needs native bfloat16 on {device.type} (a CPU with AVX512-BF16 or "
            "AMX, or a CUDA GPU with bf16); use train.precision=auto or fp32"
        )
    return "bf16" if native else "fp32"


@contextmanager
def autocast(device: torch.device, precision: str) -> Iterator[None]:
    """The forward-pass region of a training step: bfloat16 autocast when ``precision`` is bf16."""
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
        yield


@contextmanager
def full_precision(device: torch.device) -> Iterator[None]:
    """A float32 region inside :func:`autocast` (losses); a no-op outside one."""
    with torch.autocast(device.type, enabled=False):
        yield


__all__ = ["PRECISIONS", "autocast", "bf16_native", "full_precision", "resolve_precision"]
