"""Options shared by every command, so all commands spell them the same way."""

from __future__ import annotations

import argparse
from typing import Any


def add_common(
    parser: argparse.ArgumentParser,
    *,
    preset: str | None = None,
    out: bool = True,
    seed: bool = True,
    device: bool = True,
) -> None:
    """Add the house options ``--preset --out --seed --device --quiet``."""
    if preset is not None:
        parser.add_argument("--preset", default=preset, help=f"named preset (default: {preset})")
    if out:
        parser.add_argument("--out", default=None, help="output run folder or file")
    if seed:
        parser.add_argument("--seed", type=int, default=None, help="random seed")
    if device:
        parser.add_argument(
            "--device",
            default="auto",
            choices=["auto", "cpu", "cuda"],
            help="compute device (auto: CUDA when present, else CPU)",
        )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_data_root(parser: argparse.ArgumentParser) -> None:
    """``--data-root`` overrides ``$MNISTMAX_DATA`` (default ``~/.cache/mnistmax``)."""
    parser.add_argument(
        "--data-root",
        default=None,
        help="dataset cache folder (default: $MNISTMAX_DATA or ~/.cache/mnistmax)",
    )


def load_run(args: argparse.Namespace) -> Any:
    """``(RunDir, device)`` of the run folder ``args.run`` (one clear error if it is not one)."""
    from mnistmax.device import resolve_device
    from mnistmax.train.runlog import RunDir

    run = RunDir(args.run)
    run.config()  # clear error if not a run folder
    return run, resolve_device(args.device)
