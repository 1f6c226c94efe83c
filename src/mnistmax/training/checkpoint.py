"""Checkpoints: written atomically, loaded with ``weights_only=True`` (no arbitrary unpickling).

A checkpoint holds its run's config, so evaluation and figures rebuild the model from the
folder alone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from mnistmax.errors import RunError
from mnistmax.io import atomic_path


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Save ``state`` (tensors, dicts, lists, numbers, strings) atomically."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(
    path: str | os.PathLike[str], map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Load a checkpoint safely; a clear error if it is missing or unreadable."""
    p = Path(path)
    if not p.is_file():
        raise RunError(f"checkpoint {p} does not exist; train the run first")
    try:
        state = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        raise RunError(
            f"checkpoint {p} could not be read ({type(exc).__name__}); it may be corrupt"
        ) from None
    if not isinstance(state, dict):
        raise RunError(f"checkpoint {p} is not a mnistmax checkpoint")
    return state
