"""``mnistmax train METHOD --preset NAME --out DIR``: train (or resume), figures, evaluation."""

from __future__ import annotations

import argparse
from typing import Any

from mnistmax.cli.common import add_common, add_data_root


def register(sub: Any) -> None:
    """Add ``train``."""
    from mnistmax.presets import preset_methods

    p = sub.add_parser("train", help="train a method (resumes an interrupted run in --out)")
    p.add_argument("method", choices=preset_methods(), help="method to train")
    add_common(p, preset=None)
    p.add_argument(
        "--preset",
        default=None,
        help="named preset (default: marked in --list-presets)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="override a config field, e.g. --set train.epochs=5 (repeatable)",
    )
    p.add_argument("--no-eval", action="store_true", help="skip the final evaluation")
    p.add_argument(
        "--list-presets", action="store_true", help="print this method's presets and exit"
    )
    add_data_root(p)
    p.set_defaults(func=run_train)


def resolve_config(args: argparse.Namespace) -> Any:
    """Preset, then --set overrides, then the house options (--seed, --device, --data-root)."""
    from dataclasses import replace

    from mnistmax.config import apply_overrides
    from mnistmax.presets import default_preset, get_preset

    cfg = get_preset(args.preset or default_preset(args.method), args.method)
    cfg = apply_overrides(cfg, args.overrides)
    if args.seed is not None:
        cfg = replace(cfg, train=replace(cfg.train, seed=args.seed))
    if args.device != "auto":
        cfg = replace(cfg, train=replace(cfg.train, device=args.device))
    if args.data_root is not None:
        cfg = replace(cfg, data=replace(cfg.data, root=args.data_root))
    return cfg


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax train``."""
    if args.list_presets:
        from mnistmax.presets import preset_listing

        print(preset_listing(args.method))
        return 0
    cfg = resolve_config(args)
    out = args.out or f"runs/{cfg.preset}_seed{cfg.train.seed}"
    from mnistmax.families import family_of

    family = family_of(cfg.method)
    metrics = family.train(cfg, out, quiet=args.quiet, evaluate=not args.no_eval)
    if metrics:
        print(family.summary(metrics))
    print(f"run folder: {out}")
    return 0
