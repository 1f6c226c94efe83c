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

from mnistmax.errors import ConfigError
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


def _readout_head(in_dim: int, embed_dim: int, dropout: float) -> nn.Sequential:
    """Flattened 3×3 maps → Linear(256) + BN + ReLU + dropout → Linear(embed_dim)."""
    return nn.Sequential(
        nn.Linear(in_dim, 256, bias=False),
        nn.BatchNorm1d(256),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(256, embed_dim),
    )


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
        self.head = _readout_head(4 * w * 9, embed_dim, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# --- Larger and attention encoders for self-supervised learning (issue 4) -------------------


class _BasicBlock(nn.Module):
    """ResNet basic block (He et al. 2016): two 3×3 convs with BN and an identity/1×1 shortcut."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


@ENCODERS.register("resnet_small")
class ResNetSmall(Encoder):
    """A ResNet for 28×28: 3×3 stem without max-pool, stages at 28/14/7 px, global average pool.

    The ImageNet stem (7×7 stride 2 + max-pool) would shrink a digit to 7×7 before the first
    block and to 1×1 at the end; here the last maps are 7×7. ``blocks`` per stage default to one
    (a ResNet-8) to keep CPU training affordable; ``(2, 2, 2)`` is a ResNet-14.
    """

    def __init__(
        self,
        embed_dim: int = 128,
        dropout: float = 0.0,
        width: int = 32,
        blocks: tuple[int, int, int] = (1, 1, 1),
        **_: Any,
    ) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        w = width
        layers: list[nn.Module] = [*_conv(1, w, bn=True)]
        cin = w
        for i, (n, cout) in enumerate(zip(blocks, (w, 2 * w, 4 * w), strict=True)):
            for j in range(n):
                layers.append(_BasicBlock(cin, cout, stride=2 if (i > 0 and j == 0) else 1))
                cin = cout
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(cin, embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@ENCODERS.register("vit_tiny")
class ViTTiny(Encoder):
    """A small Vision Transformer (Dosovitskiy et al. 2021) for 28×28 digits.

    Non-overlapping ``patch``×``patch`` patches (4 → 49 tokens, 7 → 16), learned position
    embeddings, a CLS token, pre-norm encoder layers; ``h`` is a linear map of the final CLS
    token (``pool="cls"``) or of the mean token (``pool="mean"``).
    """

    def __init__(
        self,
        embed_dim: int = 128,
        dropout: float = 0.0,
        patch: int = 4,
        width: int = 96,
        depth: int = 4,
        heads: int = 3,
        mlp_ratio: float = 2.0,
        pool: str = "cls",
        **_: Any,
    ) -> None:
        super().__init__()

        if 28 % patch:
            raise ConfigError(f"vit_tiny patch={patch} must divide 28 (use 4 or 7)")
        if pool not in ("cls", "mean"):
            raise ConfigError(f"vit_tiny pool={pool!r} must be cls or mean")
        self.embed_dim = embed_dim
        self.pool = pool
        n = (28 // patch) ** 2
        self.patch_embed = nn.Conv2d(1, width, patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, n + 1, width) * 0.02)
        layer = nn.TransformerEncoderLayer(
            width,
            heads,
            int(width * mlp_ratio),
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.patch_embed(x).flatten(2).transpose(1, 2)  # (B, N, W)
        t = torch.cat([self.cls.expand(t.shape[0], -1, -1), t], dim=1) + self.pos
        t = self.norm(self.blocks(t))
        return self.head(t[:, 0] if self.pool == "cls" else t[:, 1:].mean(dim=1))


class _SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al., CVPR 2018): channel gates from a pooled descriptor."""

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


@ENCODERS.register("conv_se")
class ConvSE(Encoder):
    """``conv_small`` with a squeeze-and-excitation gate after each conv block (attention CNN)."""

    def __init__(
        self, embed_dim: int = 128, dropout: float = 0.0, width: int = 32, **_: Any
    ) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        w = width
        self.features = nn.Sequential(
            *_conv(1, w, bn=True),
            _SqueezeExcite(w),
            nn.MaxPool2d(2),
            *_conv(w, 2 * w, bn=True),
            _SqueezeExcite(2 * w),
            nn.MaxPool2d(2),
            *_conv(2 * w, 4 * w, bn=True),
            _SqueezeExcite(4 * w),
            nn.AdaptiveMaxPool2d(3),
            nn.Flatten(),
        )
        self.head = _readout_head(4 * w * 9, embed_dim, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
