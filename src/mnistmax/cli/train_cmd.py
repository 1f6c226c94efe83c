"""``mnistmax train METHOD --preset NAME --out DIR``: train (or resume), figures, evaluation."""

from __future__ import annotations

import argparse
from typing import Any

from mnistmax.cli.common import add_run_options, print_config, resolve_run_config


def register(sub: Any) -> None:
    """Add ``train``."""
    from mnistmax.recipes import preset_methods

    p = sub.add_parser("train", help="train a method (resumes an interrupted run in --out)")
    p.add_argument("method", choices=preset_methods(), help="method to train")
    add_run_options(p, example="train.epochs=5")
    p.set_defaults(func=run_train)


def resolve_config(args: argparse.Namespace) -> Any:
    """Preset or config file, then --set overrides, then --seed, --device, --data-root."""
    return resolve_run_config(args, args.method)


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax train``."""
    if args.list_presets:
        from mnistmax.recipes import preset_listing

        print(preset_listing(args.method))
        return 0
    cfg = resolve_config(args)
    if args.print_config:
        return print_config(cfg)
    out = args.out or f"runs/{cfg.preset}_seed{cfg.train.seed}"
    from mnistmax.families import family_of

    family = family_of(cfg.method)
    metrics = family.train(cfg, out, quiet=args.quiet, evaluate=not args.no_eval)
    if metrics:
        print(family.summary(metrics))
    print(f"run folder: {out}")
    return 0
