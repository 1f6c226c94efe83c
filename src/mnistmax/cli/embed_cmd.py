"""``mnistmax embed RUN``: a split's features from a run's best checkpoint, as an .npz."""

from __future__ import annotations

import argparse
from typing import Any

from mnistmax.cli.common import add_common, load_run


def register(sub: Any) -> None:
    """Add ``embed``."""
    p = sub.add_parser("embed", help="write a split's embeddings to an .npz (embeddings, labels)")
    p.add_argument("run", help="run folder")
    p.add_argument("--split", choices=["train", "val", "test"], default="test")
    add_common(p, seed=False)
    p.set_defaults(func=run_embed)


def run_embed(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax embed``."""
    from mnistmax.data.splits import load_splits
    from mnistmax.eval.embed import embed
    from mnistmax.representation.evaluation import save_embeddings
    from mnistmax.training.loop import load_method

    run, device = load_run(args)
    method, cfg = load_method(run, "best", device)
    split = getattr(load_splits(cfg.data, device), args.split)
    out = args.out or str(run.path / f"embeddings_{args.split}.npz")
    save_embeddings(out, embed(method, split.x), split.y)
    print(f"wrote {out}")
    return 0
