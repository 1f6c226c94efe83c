"""``mnistmax eval RUN``: (re)evaluate a run folder, optionally with other evaluation settings."""

from __future__ import annotations

import argparse
from typing import Any

from mnistmax.cli.common import add_common, load_run


def register(sub: Any) -> None:
    """Add ``eval``."""
    p = sub.add_parser("eval", help="evaluate a run folder (writes eval.json)")
    p.add_argument("run", help="run folder")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="eval.FIELD=VALUE",
        help="override an evaluation field of the run's config, e.g. --set eval.gmm=true",
    )
    p.add_argument(
        "--finetune",
        action="store_true",
        help="add finetune@N vs scratch@N (same as --set eval.finetune=true)",
    )
    add_common(p, out=False, seed=False)
    p.set_defaults(func=run_eval)


def eval_overrides(cfg: Any, overrides: list[str], finetune: bool) -> Any:
    """The run's ``EvalConfig`` with ``eval.FIELD=VALUE`` overrides (``None`` if none given)."""
    from dataclasses import replace

    from mnistmax.config import apply_overrides
    from mnistmax.errors import ConfigError

    if not overrides and not finetune:
        return None
    for item in overrides:
        if not item.startswith("eval."):
            raise ConfigError(
                f"--set {item!r}: mnistmax eval can only change eval.* fields "
                "(retrain to change anything else)"
            )
    ev = apply_overrides(cfg, overrides).eval
    return replace(ev, finetune=True) if finetune else ev


def run_eval(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax eval``."""
    from mnistmax.representation.evaluation import evaluate_run

    run, device = load_run(args)
    ev = eval_overrides(run.config(), args.overrides, args.finetune)
    metrics = evaluate_run(run, device=device, eval_config=ev)
    from mnistmax.families import family_of

    print(family_of(metrics["method"]).summary(metrics))
    for key in sorted(k for k in metrics if k.startswith(("test/finetune@", "test/scratch@"))):
        print(f"{key:<22}{100 * metrics[key]:>9.2f}")
    return 0
