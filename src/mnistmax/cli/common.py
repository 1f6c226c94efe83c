"""Options shared by every command, so all commands spell them the same way."""

from __future__ import annotations

import argparse
from typing import Any


def device_arg(text: str) -> str:
    """argparse type of ``--device``: the spelling is checked at parse time (usage error, exit
    2); whether the device is present is checked when the command resolves it."""
    from mnistmax.device import check_device_name
    from mnistmax.errors import ConfigError

    try:
        return check_device_name(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_device(parser: argparse.ArgumentParser) -> None:
    """``--device auto|cpu|cuda|cuda:N|mps``."""
    parser.add_argument(
        "--device",
        default="auto",
        type=device_arg,
        metavar="DEVICE",
        help="auto, cpu, cuda, cuda:N or mps (auto: CUDA, else MPS, else CPU)",
    )


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
        add_device(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_data_root(parser: argparse.ArgumentParser) -> None:
    """``--data-root`` overrides ``$MNISTMAX_DATA`` (default ``~/.cache/mnistmax``)."""
    parser.add_argument(
        "--data-root",
        default=None,
        help="dataset cache folder (default: $MNISTMAX_DATA or ~/.cache/mnistmax)",
    )


def add_run_options(parser: argparse.ArgumentParser, *, example: str) -> None:
    """The options of the commands that train one run: preset or config file, overrides,
    ``--print-config``, ``--no-eval``, ``--list-presets``, ``--data-root`` (and the house ones)."""
    add_common(parser, preset=None)
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--preset", default=None, help="named preset (default: marked in --list-presets)"
    )
    source.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="run from a TOML config file (as --print-config writes); --set applies on top",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help=f"override a config field, e.g. --set {example} (repeatable)",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the resolved config (TOML: preset or file, then every option) and exit",
    )
    parser.add_argument("--no-eval", action="store_true", help="skip the final evaluation")
    parser.add_argument(
        "--list-presets", action="store_true", help="print this method's presets and exit"
    )
    add_data_root(parser)


def resolve_run_config(args: argparse.Namespace, method: str) -> Any:
    """The config a training command runs: ``--preset`` (or the method's default) or
    ``--config FILE``, then ``--set`` overrides, then ``--seed``, ``--device``, ``--data-root``.

    Raises:
        ConfigError: Unknown preset, unreadable or invalid file, a file of another method, a
            bad override.
    """
    from dataclasses import replace

    from mnistmax.config import apply_overrides
    from mnistmax.errors import ConfigError
    from mnistmax.recipes import default_preset, get_preset

    config_file = getattr(args, "config", None)  # a Namespace built by hand may lack it
    if config_file is not None:
        from mnistmax.config_file import read_config

        cfg = read_config(config_file)
        if cfg.method != method:
            raise ConfigError(f"{args.config} is a config of method {cfg.method!r}, not {method!r}")
    else:
        cfg = get_preset(args.preset or default_preset(method), method)
    cfg = apply_overrides(cfg, args.overrides)
    if args.seed is not None:
        cfg = replace(cfg, train=replace(cfg.train, seed=args.seed))
    if args.device != "auto":
        cfg = replace(cfg, train=replace(cfg.train, device=args.device))
    if args.data_root is not None:
        cfg = replace(cfg, data=replace(cfg.data, root=args.data_root))
    return cfg


def print_config(cfg: Any) -> int:
    """``--print-config``: the resolved config as TOML on stdout; exit status 0."""
    from mnistmax.config_file import to_toml

    print(to_toml(cfg), end="")
    return 0


def load_run(args: argparse.Namespace) -> Any:
    """``(RunDir, device)`` of the run folder ``args.run`` (one clear error if it is not one)."""
    from mnistmax.device import resolve_device
    from mnistmax.training.runlog import RunDir

    run = RunDir(args.run)
    run.config()  # clear error if not a run folder
    return run, resolve_device(args.device)
