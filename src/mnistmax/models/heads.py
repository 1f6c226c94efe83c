"""Heads: ``forward(h) -> z`` mapping encoder features (B, D) to projections (B, P)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mnistmax.registry import Registry

HEADS: Registry[nn.Module] = Registry("head")


def build_head(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered head by name."""
    return HEADS.build(name, **kwargs)


@HEADS.register("identity")
def identity_head(in_dim: int, out_dim: int | None = None, **_: Any) -> nn.Module:
    """``z = h`` (the triplet method evaluates and trains on the same vector)."""
    del in_dim, out_dim
    return nn.Identity()


@HEADS.register("linear")
def linear_head(in_dim: int, out_dim: int = 128, **_: Any) -> nn.Module:
    """One linear layer."""
    return nn.Linear(in_dim, out_dim)


class MLPHead(nn.Module):
    """Linear → BN → ReLU blocks then a linear output (SimCLR/BYOL-style projector)."""

    def __init__(self, in_dim: int, out_dim: int = 128, hidden: int = 512, layers: int = 2) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        dim = in_dim
        for _ in range(layers - 1):
            blocks += [nn.Linear(dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(True)]
            dim = hidden
        blocks.append(nn.Linear(dim, out_dim))
        self.net = nn.Sequential(*blocks)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


@HEADS.register("mlp")
def mlp_head(
    in_dim: int, out_dim: int = 128, hidden: int = 512, layers: int = 2, **_: Any
) -> nn.Module:
    """An MLP projector."""
    return MLPHead(in_dim, out_dim, hidden, layers)
