"""``mnistmax denoise train|eval`` and ``mnistmax noise gallery|scale``.

* ``denoise train --preset NAME --out DIR [--set section.field=value] [--constrained]``
* ``denoise eval DIR [--eval-size N] [--noises a,b]`` — writes eval.json, eval.md and curves.
* ``noise gallery --out DIR [--noises ...]`` — types × levels PNG grid and a GIF.
* ``noise scale`` — the measured intensity scale (PSNR and changed pixels per type and level).
"""

from __future__ import annotations

import argparse
from typing import Any

from mnistmax.cli.common import (
    add_data_root,
    add_device,
    add_run_options,
    print_config,
    resolve_run_config,
)


def register(sub: Any) -> None:
    """Add ``denoise`` and ``noise``."""
    p = sub.add_parser("denoise", help="denoising autoencoders: train and evaluate")
    dsub = p.add_subparsers(dest="denoise_command", metavar="ACTION")
    t = dsub.add_parser("train", help="train a denoiser (resumes an interrupted run in --out)")
    add_run_options(t, example="denoise.model=residual")
    t.add_argument("--model", default=None, help="shortcut for --set denoise.model=NAME")
    t.add_argument(
        "--constrained", action="store_true", help="output = input × mask (only removes ink)"
    )
    t.set_defaults(func=run_denoise_train)

    e = dsub.add_parser("eval", help="sweep noise types × intensities against the baselines")
    e.add_argument("run", help="a run folder made by `mnistmax denoise train`")
    e.add_argument("--eval-size", type=int, default=None, help="test images (default: config)")
    e.add_argument("--noises", default=None, help="comma-separated noise types (default: zoo)")
    add_device(e)
    e.add_argument("--quiet", action="store_true", help="no progress bars")
    e.set_defaults(func=run_denoise_eval)
    p.set_defaults(func=lambda a: _help(p))

    n = sub.add_parser("noise", help="the noise zoo: gallery and intensity scale")
    nsub = n.add_subparsers(dest="noise_command", metavar="ACTION")
    g = nsub.add_parser("gallery", help="types × levels grid PNG and GIF")
    g.add_argument("--out", default="noise_gallery", help="output folder")
    g.add_argument("--noises", default=None, help="comma-separated types (default: all)")
    g.add_argument("--dataset", default="mnist-mini", help="dataset the digits come from")
    add_data_root(g)
    g.set_defaults(func=run_noise_gallery)
    s = nsub.add_parser("scale", help="measure PSNR and changed pixels per type and level")
    s.add_argument("--dataset", default="mnist-mini", help="dataset of the clean digits")
    s.add_argument("--n", type=int, default=1000, help="test digits used")
    s.add_argument("--skip", type=int, default=0, help="skip this many test digits first")
    add_data_root(s)
    s.set_defaults(func=run_noise_scale)
    n.set_defaults(func=lambda a: _help(n))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _noise_list(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    from mnistmax.errors import ConfigError
    from mnistmax.noise import NOISES

    names = tuple(t.strip() for t in text.split(",") if t.strip())
    for name in names:
        if name not in NOISES:
            raise ConfigError(f"unknown noise {name!r}; choose from {', '.join(NOISES.names())}")
    return names


def resolve_denoise_config(args: argparse.Namespace) -> Any:
    """Preset or config file, --set overrides, --seed/--device/--data-root, --model/--constrained."""
    from dataclasses import replace

    cfg = resolve_run_config(args, "denoise")
    if args.model:
        cfg = replace(cfg, denoise=replace(cfg.denoise, model=args.model))
    if args.constrained:
        cfg = replace(cfg, denoise=replace(cfg.denoise, constrained=True))
    return cfg


def run_denoise_train(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax denoise train``."""
    if args.list_presets:
        from mnistmax.recipes import preset_listing

        print(preset_listing("denoise"))
        return 0
    cfg = resolve_denoise_config(args)
    if args.print_config:
        return print_config(cfg)
    out = args.out or f"runs/{cfg.preset}_{cfg.denoise.model}_seed{cfg.train.seed}"
    from mnistmax.families import family_of

    # The denoise method's family trains it; its check refuses another method's preset.
    family = family_of("denoise")
    metrics = family.train(cfg, out, quiet=args.quiet, evaluate=not args.no_eval)
    if metrics:
        print(family.summary(metrics))
    print(f"run folder: {out}")
    return 0


def run_denoise_eval(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax denoise eval``."""
    from mnistmax.denoise.runner import evaluate_denoise_run

    metrics = evaluate_denoise_run(
        args.run,
        quiet=args.quiet,
        eval_size=args.eval_size,
        noises=_noise_list(args.noises),
        device=args.device,
    )
    from mnistmax.families import family_of

    print(family_of("denoise").summary(metrics))
    print(f"wrote {args.run}/eval.json, eval.md and figures/curves_*.png")
    return 0


def _digits(dataset: str, root: str | None, n: int, skip: int = 0) -> Any:
    from mnistmax.config import DataConfig
    from mnistmax.data.splits import load_splits

    splits = load_splits(DataConfig(dataset=dataset, root=root))
    return splits.test.x[skip : skip + n]


def run_noise_gallery(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax noise gallery``."""
    from pathlib import Path

    from mnistmax.denoise.figures import noise_gallery
    from mnistmax.noise import noise_names
    from mnistmax.viz.animation import save_gif, save_png

    names = _noise_list(args.noises) or tuple(noise_names())
    x = _digits(args.dataset, args.data_root, 6)
    levels = [round(0.1 * i, 1) for i in range(11)]
    grid, frames = noise_gallery(x, names, levels)
    out = Path(args.out)
    save_png(grid, out / "noise_grid.png")
    save_gif(frames, out / "noise_gallery.gif", ms_per_frame=250)
    print(f"wrote {out / 'noise_grid.png'} and {out / 'noise_gallery.gif'} ({len(frames)} frames)")
    return 0


def run_noise_scale(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax noise scale``: prints a markdown table."""
    import torch

    from mnistmax.noise import noise_names
    from mnistmax.noise.calibration import measure_scale

    torch.set_num_threads(max(1, min(torch.get_num_threads(), 2)))
    x = _digits(args.dataset, args.data_root, args.n, args.skip)
    levels = [round(0.1 * i, 1) for i in range(1, 11)]
    rows = measure_scale(x, noise_names(), levels)
    print("| noise | " + " | ".join(f"I={v}" for v in levels) + " |")
    print("|---|" + "---:|" * len(levels))
    for name in noise_names():
        cells = [
            f"{r['psnr']:.1f} dB / {100 * r['changed']:.1f}%" for r in rows if r["noise"] == name
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    targets = " | ".join(f"{r['target_psnr']:.1f} dB" for r in rows[: len(levels)])
    print(f"| *target* | {targets} |")
    return 0
