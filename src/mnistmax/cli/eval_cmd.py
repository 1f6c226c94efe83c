"""``mnistmax eval RUN``: (re)evaluate a run folder, optionally with other evaluation settings."""

from __future__ import annotations

import argparse
from typing import Any

from mnistmax.cli.common import add_common, load_run

SUMMARY_KEYS = (
    "test/knn@1",
    "test/knn@20",
    "test/knn@200",
    "test/linear_probe",
    "test/p@1",
    "test/map@r",
)


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
    if metrics.get("timings"):
        print(f"time: {format_timings(metrics['timings'])}")


def format_timings(timings: dict[str, float]) -> str:
    """``train 5.0 s, validation 0.9 s, ..., evaluation 6.1 s (embed 4.0 s, knn 1.0 s)``."""
    parts = []
    for phase, seconds in timings.items():
        if "/" in phase:
            continue
        inner = [
            f"{sub.split('/', 1)[1]} {s:.1f} s"
            for sub, s in timings.items()
            if sub.startswith(phase + "/")
        ]
        parts.append(f"{phase} {seconds:.1f} s" + (f" ({', '.join(inner)})" if inner else ""))
    return ", ".join(parts)


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
    from mnistmax.evaluate import evaluate_run

    run, device = load_run(args)
    ev = eval_overrides(run.config(), args.overrides, args.finetune)
    metrics = evaluate_run(run, device=device, eval_config=ev)
    print_summary(metrics)
    for key in sorted(k for k in metrics if k.startswith(("test/finetune@", "test/scratch@"))):
        print(f"{key:<22}{100 * metrics[key]:>9.2f}")
    return 0
