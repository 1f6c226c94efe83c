"""``mnistmax viz RUN``: a run's test embedding as a 2-D map (PCA, t-SNE, UMAP), its animation
across epochs, or a nearest-neighbour grid."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mnistmax.cli.common import add_common, load_run


def register(sub: Any) -> None:
    """Add ``viz``."""
    p = sub.add_parser(
        "viz", help="plot a run's test embedding (PCA, t-SNE, UMAP) or a nearest-neighbour grid"
    )
    p.add_argument("run", help="run folder")
    p.add_argument(
        "--kind",
        choices=["pca", "tsne", "umap", "neighbors"],
        default="pca",
        help="2-D map of test features, or query digits with their nearest training images",
    )
    p.add_argument(
        "--animate",
        action="store_true",
        help="a GIF of the map across epochs (from the run's trace of fixed test digits)",
    )
    p.add_argument(
        "--points",
        type=int,
        default=2000,
        help="test points in a static map (stratified, fixed seed; default 2000)",
    )
    p.add_argument("--queries", type=int, default=10, help="query digits of --kind neighbors")
    p.add_argument("--k", type=int, default=8, help="neighbours per query of --kind neighbors")
    add_common(p)
    p.set_defaults(func=run_viz)


def _check_viz_args(args: argparse.Namespace) -> None:
    from mnistmax.errors import ConfigError

    if args.animate and args.kind == "neighbors":
        raise ConfigError("--animate draws pca, tsne or umap maps; drop it for --kind neighbors")
    if args.points < 5:
        raise ConfigError(f"--points must be at least 5, got {args.points}")
    if args.queries < 1 or args.k < 1:
        raise ConfigError(f"--queries and --k must be at least 1, got {args.queries}, {args.k}")
    from mnistmax.viz.manifold import check_kinds

    check_kinds([args.kind])
    if args.out is not None:
        suffix = Path(args.out).suffix.lower()
        allowed = (".gif",) if args.animate else (".png", ".pdf", ".svg", ".jpg", ".jpeg")
        if suffix not in allowed:
            raise ConfigError(
                f"--out {args.out!r} must end in {' or '.join(allowed)} for this figure"
            )


def run_viz(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax viz``: a 2-D map, its animation, or a nearest-neighbour grid."""
    import time

    _check_viz_args(args)
    run, device = load_run(args)
    tic = time.perf_counter()
    if args.animate:
        out = _viz_animation(args, run)
    elif args.kind == "neighbors":
        out = _viz_neighbors(args, run, device)
    else:
        out = _viz_map(args, run, device)
    print(f"wrote {out} ({time.perf_counter() - tic:.1f} s)")
    return 0


def _viz_map(args: argparse.Namespace, run: Any, device: Any) -> Path:
    """A static map of ``--points`` test digits (stratified, seed 0), coloured by class."""
    import numpy as np
    import torch

    from mnistmax.data.splits import load_splits, stratified_carve
    from mnistmax.eval.embed import embed
    from mnistmax.training.loop import load_method
    from mnistmax.viz.dashboard import save_figure
    from mnistmax.viz.embedding_animation import KIND_NAMES
    from mnistmax.viz.manifold import project_2d
    from mnistmax.viz.projections import embedding_scatter

    method, cfg = load_method(run, "best", device)
    splits = load_splits(cfg.data, device)
    y = splits.test.y.cpu().numpy()
    if args.points < len(y):
        _, idx = stratified_carve(y, args.points, seed=0)
        idx = np.sort(idx)
    else:
        idx = np.arange(len(y))
    x = splits.test.x[torch.from_numpy(idx).to(splits.test.x.device)]
    z = torch.nn.functional.normalize(embed(method, x), dim=1).cpu().numpy()
    coords = project_2d(z, args.kind, seed=0 if args.seed is None else args.seed)
    fig = embedding_scatter(
        coords,
        y[idx],
        splits.class_names,
        title=f"{cfg.preset or run.path.name}: test embedding, {KIND_NAMES[args.kind]} "
        f"({len(idx)} points)",
    )
    out = Path(args.out) if args.out else run.figures / f"test_{args.kind}.png"
    save_figure(fig, out)
    return out


def _viz_animation(args: argparse.Namespace, run: Any) -> Path:
    """The GIF of the trace's frames plus one PNG per frame in ``<out stem>_frames/``."""
    from mnistmax.data import catalog
    from mnistmax.viz.animation import save_gif, save_png
    from mnistmax.viz.embedding_animation import embedding_frames, load_trace

    cfg = run.config()
    trace = load_trace(run.path)
    if len(trace.trace) < 2:
        from mnistmax.errors import RunError

        raise RunError(f"{run.path} traced only {len(trace.trace)} frame; an animation needs two")
    class_names = catalog.DATASETS[cfg.data.dataset].class_names
    frames = embedding_frames(
        trace,
        args.kind,
        class_names,
        seed=0 if args.seed is None else args.seed,
        title=cfg.preset or run.path.name,
    )
    out = Path(args.out) if args.out else run.figures / f"embedding_{args.kind}.gif"
    frames_dir = out.with_name(f"{out.stem}_frames")
    for i, frame in enumerate(frames):
        save_png(frame, frames_dir / f"epoch_{i:03d}.png")
    save_gif(frames, out)
    return out


def _viz_neighbors(args: argparse.Namespace, run: Any, device: Any) -> Path:
    """``--queries`` fixed test digits and their ``--k`` nearest training images (cosine)."""
    import torch

    from mnistmax.augment.preview import pick_examples
    from mnistmax.data.splits import load_splits
    from mnistmax.eval.embed import embed
    from mnistmax.training.loop import load_method
    from mnistmax.viz.dashboard import save_figure
    from mnistmax.viz.neighbors import nearest_neighbors, neighbor_grid

    method, cfg = load_method(run, "best", device)
    splits = load_splits(cfg.data, device)
    if args.k > len(splits.train):
        from mnistmax.errors import ConfigError

        raise ConfigError(f"--k {args.k} exceeds the {len(splits.train)} training images")
    q = pick_examples(
        splits.test.y.cpu().numpy(), args.queries, seed=0 if args.seed is None else args.seed
    )
    q_t = torch.from_numpy(q).to(splits.test.x.device)
    query_z = embed(method, splits.test.x[q_t])
    sims, idx = nearest_neighbors(query_z, embed(method, splits.train.x), args.k)
    flat = idx.flatten().to(splits.train.x.device)
    fig = neighbor_grid(
        splits.test.x[q_t][:, 0].cpu().numpy(),
        splits.test.y[q_t].cpu().numpy(),
        splits.train.x[flat][:, 0]
        .cpu()
        .numpy()
        .reshape(len(q), args.k, *splits.train.x.shape[-2:]),
        splits.train.y[flat].cpu().numpy().reshape(len(q), args.k),
        sims.cpu().numpy(),
        splits.class_names,
        title=f"{cfg.preset or run.path.name}: nearest training images (cosine), red: other class",
    )
    out = Path(args.out) if args.out else run.figures / "neighbors.png"
    save_figure(fig, out)
    return out
