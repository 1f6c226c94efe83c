"""Device selection: ``auto`` picks CUDA, then Apple's MPS, then the CPU. Nothing hard-codes
``cuda``; a device that is absent is one clear sentence, never a traceback."""

from __future__ import annotations

import re

import torch

from mnistmax.errors import ConfigError

#: What ``--device`` accepts (``cuda:N`` picks the N-th GPU).
DEVICE_HELP = "auto, cpu, cuda, cuda:N or mps"
_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def check_device_name(name: str) -> str:
    """``name`` if it is a device spelling mnistmax accepts (``ConfigError`` otherwise)."""
    if not _PATTERN.match(name):
        raise ConfigError(f"unknown device {name!r}; use {DEVICE_HELP}")
    return name


def resolve_device(name: str = "auto") -> torch.device:
    """Turn ``auto|cpu|cuda|cuda:N|mps`` into a ``torch.device``; one clear sentence when the
    device is not there."""
    check_device_name(name)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if _mps_available() else "cpu")
    if name.startswith("cuda"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = int(name.split(":")[1]) if ":" in name else 0
        if count == 0:
            raise ConfigError(
                f"--device {name}: no CUDA device is available here; use --device cpu"
            )
        if index >= count:
            raise ConfigError(
                f"--device {name}: this machine has {count} CUDA device(s), cuda:0 to "
                f"cuda:{count - 1}"
            )
    if name == "mps" and not _mps_available():
        raise ConfigError(
            "--device mps: Apple's MPS backend is not available here; use --device cpu"
        )
    return torch.device(name)
