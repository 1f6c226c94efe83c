"""Device selection: ``auto`` picks CUDA when present, else CPU. Nothing hard-codes ``cuda``."""

from __future__ import annotations

import torch

from mnistmax.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """Turn ``auto|cpu|cuda[:N]`` into a ``torch.device``; clear error if CUDA is missing."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(
            "--device cuda was asked for but no CUDA device is available; use --device cpu"
        )
    if name != "cpu" and not name.startswith("cuda"):
        raise ConfigError(f"unknown device {name!r}; use auto, cpu or cuda")
    return torch.device(name)
