"""``mnistmax augment``: look at what an augmentation preset does to real digits.

``mnistmax augment preview --preset digits --out runs/augment_preview.png`` writes a grid: the
original images in the top row, augmented views of the same images below.

Only argparse is imported at module level; torch and matplotlib load inside the handler so that
``mnistmax --help`` stays fast.
"""

from __future__ import annotations

import argparse
from typing import Any

from mnistmax.cli.common import add_common, add_data_root


def register(sub: Any) -> None:
    """Register ``augment`` and its sub-command ``preview`` on the top-level sub-parsers."""
    parser = sub.add_parser(
        "augment",
        help="preview augmentation presets",
        description="Augmentation presets: see what each one does to real digits.",
    )
    parser.set_defaults(func=lambda args: _no_subcommand(parser))
    commands = parser.add_subparsers(dest="augment_command", metavar="SUBCOMMAND")

    preview = commands.add_parser(
        "preview",
        help="write a grid of original digits and augmented views",
        description=(
            "Write a PNG grid: originals in the top row, augmented views of the same images below."
        ),
    )
    add_common(preview, preset="digits", device=False)
    add_data_root(preview)
    preview.add_argument("--dataset", default="mnist", help="dataset name (default: mnist)")
    preview.add_argument("--n", type=int, default=8, help="images per row (default: 8)")
    preview.add_argument("--views", type=int, default=6, help="augmented rows (default: 6)")
    preview.set_defaults(func=run_preview)


def _no_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_preview(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax augment preview``; returns the exit code."""
    from mnistmax.errors import ConfigError

    if args.n < 1 or args.views < 1:
        raise ConfigError(
            f"--n and --views must be at least 1, got --n {args.n} --views {args.views}"
        )

    from mnistmax.augment import build_augment

    pipeline = build_augment(args.preset)  # an unknown preset fails before any data is loaded

    from mnistmax.augment.preview import (
        pick_examples,
        plot_augment_grid,
        render_views,
        save_figure_atomic,
    )
    from mnistmax.data.store import load_arrays

    seed = 0 if args.seed is None else args.seed
    images, labels = load_arrays(
        args.dataset, "train", root=args.data_root, fetch_if_missing=True, quiet=args.quiet
    )
    chosen = pick_examples(labels, args.n, seed)
    rows = render_views(images[chosen], pipeline, views=args.views, seed=seed)
    title = f"augment preset '{args.preset}' on {args.dataset} (seed {seed})"
    fig = plot_augment_grid(rows, title=title)
    out = args.out or f"runs/augment_preview_{args.preset}.png"
    path = save_figure_atomic(fig, out)
    if not args.quiet:
        print(f"wrote {path} ({len(chosen)} images × {args.views} views, preset {args.preset})")
    return 0
