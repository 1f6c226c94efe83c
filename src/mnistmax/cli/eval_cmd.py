"""``mnistmax eval RUN``, ``mnistmax embed RUN``, ``mnistmax viz RUN``: work from a run folder."""

from __future__ import annotations

import argparse
from typing import Any

from mnistmax.cli.common import add_common

SUMMARY_KEYS = (
    "test/knn@1",
    "test/knn@20",
    "test/knn@200",
    "test/linear_probe",
    "test/p@1",
    "test/map@r",
)


def register(sub: Any) -> None:
    """Add ``eval``, ``embed`` and ``viz``."""
    p = sub.add_parser("eval", help="evaluate a run folder (writes eval.json)")
    p.add_argument("run", help="run folder")
    add_common(p, out=False, seed=False)
    p.set_defaults(func=run_eval)

    p = sub.add_parser("embed", help="write a split's embeddings to an .npz (embeddings, labels)")
    p.add_argument("run", help="run folder")
    p.add_argument("--split", choices=["train", "val", "test"], default="test")
    add_common(p, seed=False)
    p.set_defaults(func=run_embed)

    p = sub.add_parser("viz", help="plot a run's test embedding")
    p.add_argument("run", help="run folder")
    p.add_argument("--kind", choices=["pca"], default="pca")
    add_common(p, seed=False)
    p.set_defaults(func=run_viz)


def print_summary(metrics: dict[str, Any]) -> None:
    """A short table of the headline metrics next to the baselines."""
    print(f"{'metric':<22}{'run':>9}{'raw pixels':>12}{'random init':>13}")
    for key in SUMMARY_KEYS:
        if key not in metrics:
            continue
        base = key.split("/", 1)[1]
        raw = metrics.get(f"baseline/raw_pixels/{base}")
        rnd = metrics.get(f"baseline/random_init/{base}")
        fmt = lambda v: f"{100 * v:.2f}" if isinstance(v, float) else "-"  # noqa: E731
        print(f"{key:<22}{fmt(metrics[key]):>9}{fmt(raw):>12}{fmt(rnd):>13}")
    for key in ("train_seconds", "train_img_per_s", "wall_seconds"):
        if key in metrics:
            print(f"{key:<22}{metrics[key]:>9.1f}")


def _load(args: argparse.Namespace) -> Any:
    from mnistmax.device import resolve_device
    from mnistmax.train.runlog import RunDir

    run = RunDir(args.run)
    run.config()  # clear error if not a run folder
    return run, resolve_device(args.device)


def run_eval(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax eval``."""
    from mnistmax.evaluate import evaluate_run

    run, device = _load(args)
    print_summary(evaluate_run(run, device=device))
    return 0


def run_embed(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax embed``."""
    from mnistmax.data.splits import load_splits
    from mnistmax.eval.embed import embed
    from mnistmax.evaluate import save_embeddings
    from mnistmax.train.loop import load_method

    run, device = _load(args)
    method, cfg = load_method(run, "best", device)
    split = getattr(load_splits(cfg.data, device), args.split)
    out = args.out or str(run.path / f"embeddings_{args.split}.npz")
    save_embeddings(out, embed(method, split.x), split.y)
    print(f"wrote {out}")
    return 0


def run_viz(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax viz``."""
    import torch

    from mnistmax.data.splits import load_splits
    from mnistmax.eval.embed import embed
    from mnistmax.train.loop import load_method
    from mnistmax.viz.dashboard import save_figure
    from mnistmax.viz.projections import embedding_scatter, pca_2d

    run, device = _load(args)
    method, cfg = load_method(run, "best", device)
    splits = load_splits(cfg.data, device)
    z = torch.nn.functional.normalize(embed(method, splits.test.x), dim=1).cpu().numpy()
    fig = embedding_scatter(
        pca_2d(z),
        splits.test.y.cpu().numpy(),
        splits.class_names,
        title=f"{cfg.preset}: test embedding, PCA",
    )
    out = args.out or str(run.figures / f"test_{args.kind}.png")
    save_figure(fig, out)
    print(f"wrote {out}")
    return 0
