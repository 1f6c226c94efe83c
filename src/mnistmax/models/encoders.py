"""Encoders: ``forward(x) -> h`` with ``x`` (B, 1, 28, 28) in [0, 1] and ``h`` (B, embed_dim).

``seed_cnn`` is the reference project's encoder, layer for layer (158,592 parameters at
``embed_dim=128``). ``conv_small`` is ours: BatchNorm and a 3×3 spatial read-out instead of a
global average pool (digits are defined by where strokes are, which a global pool throws away),
at a similar cost.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mnistmax.registry import Registry


class Encoder(nn.Module):
    """Base class: subclasses set ``embed_dim`` and implement ``forward``."""

    embed_dim: int


ENCODERS: Registry[Encoder] = Registry("encoder")


def build_encoder(name: str, **kwargs: Any) -> Encoder:
    """Build a registered encoder by name."""
    return ENCODERS.build(name, **kwargs)


def _conv(cin: int, cout: int, bn: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.ReLU(inplace=True))
    return layers


@ENCODERS.register("seed_cnn")
class SeedCNN(Encoder):
    """The reference encoder: 3 conv blocks → global average pool → Dense(256) → Dense(D).

    Initialised as Keras does (Glorot-uniform weights, zero biases). PyTorch's default init
    (uniform ±1/√fan_in, random biases) shrinks the signal through this BN-free ReLU stack until
    the output is mostly bias: random-init features then score ~10% kNN instead of ~80%, and
    training starts far behind the reference.
    """

    def __init__(self, embed_dim: int = 128, dropout: float = 0.2, **_: Any) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.features = nn.Sequential(
            *_conv(1, 32, bn=False),
            nn.MaxPool2d(2),
            *_conv(32, 64, bn=False),
            nn.MaxPool2d(2),
            *_conv(64, 128, bn=False),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Linear(128, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(256, embed_dim),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@ENCODERS.register("conv_small")
class ConvSmall(Encoder):
    """BN CNN: 32→64→128 channels at 28/14/7 px, 3×3 pooled read-out, MLP to ``embed_dim``."""

    def __init__(
        self, embed_dim: int = 128, dropout: float = 0.0, width: int = 32, **_: Any
    ) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        w = width
        self.features = nn.Sequential(
            *_conv(1, w, bn=True),
            nn.MaxPool2d(2),
            *_conv(w, 2 * w, bn=True),
            nn.MaxPool2d(2),
            *_conv(2 * w, 4 * w, bn=True),
            nn.AdaptiveMaxPool2d(3),
            nn.Flatten(),
        )
        self.head = nn.Sequential(
            nn.Linear(4 * w * 9, 256, bias=False),
            nn.BatchNorm1d(256),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(256, embed_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
