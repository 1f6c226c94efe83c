"""``mnistmax review`` (run every method at a budget, then report) and ``mnistmax report``.

* ``review [--budget quick|standard|full] [--out DIR]`` — trains what is missing under
  ``DIR/runs`` (finished runs are reused, interrupted ones resumed) and writes ``DIR/report``.
* ``report RUN_OR_STUDY_DIR... --out DIR`` — ``index.html`` (self-contained, with the embedding
  explorer) and ``report.md`` from finished run folders or folders holding them.
"""

from __future__ import annotations

import argparse
from typing import Any

from mnistmax.cli.common import add_data_root, add_device

BUDGET_CHOICES = ("quick", "standard", "full")


MAPS_HELP = "explorer maps (default: pca,tsne,umap; pca alone without the 'maps' extra)"


def _maps(text: str | None, *, quiet: bool = False) -> tuple[str, ...]:
    """The ``--maps`` names; by default every map whose package is installed."""
    import sys

    from mnistmax.errors import ConfigError
    from mnistmax.viz.manifold import KINDS, available_kinds, check_kinds

    if text is None:
        names = available_kinds()
        if names != KINDS and not quiet:
            print(
                f"mnistmax: the explorer draws {', '.join(names)} maps only; t-SNE and UMAP need "
                "the 'maps' extra: pip install 'mnistmax[maps]'",
                file=sys.stderr,
            )
        return names
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    for name in names:
        if name not in KINDS:
            raise ConfigError(f"unknown map {name!r} in --maps; choose from {', '.join(KINDS)}")
    check_kinds(names)
    return names


def register(sub: Any) -> None:
    """Add ``review`` and ``report``."""
    r = sub.add_parser(
        "review", help="run every method at a budget (reusing finished runs), then the report"
    )
    r.add_argument("--budget", choices=BUDGET_CHOICES, default="quick", help="default: quick")
    r.add_argument("--out", default=None, help="review folder (default: runs/review_<budget>)")
    r.add_argument(
        "--dataset",
        default=None,
        help="run every preset on this catalogue dataset (e.g. fashion-mnist) instead of its own; "
        "its runs go to OUT/runs/<dataset>/",
    )
    add_device(r)
    r.add_argument("--maps", default=None, help=MAPS_HELP)
    r.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: torch's; 1 is fastest on a busy 2-core machine)",
    )
    r.add_argument("--no-report", action="store_true", help="only run; build no report")
    r.add_argument("--dry-run", action="store_true", help="print the planned runs and exit")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    add_data_root(r)
    r.set_defaults(func=run_review_cmd)

    p = sub.add_parser("report", help="side-by-side HTML and markdown report of finished runs")
    p.add_argument(
        "paths", nargs="+", metavar="RUN_OR_STUDY_DIR", help="run folders or folders holding them"
    )
    p.add_argument("--out", required=True, help="report folder (index.html, report.md)")
    p.add_argument("--maps", default=None, help=MAPS_HELP)
    p.add_argument("--per-class", type=int, default=100, help="explorer test digits per class")
    p.add_argument("--no-explorer", action="store_true", help="skip the embedding explorer")
    p.add_argument("--quiet", action="store_true", help="print only the result line")
    p.set_defaults(func=run_report_cmd)


def run_review_cmd(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax review``."""
    from mnistmax.review import plan, run_review

    out = args.out or f"runs/review_{args.budget}"
    maps = _maps(args.maps, quiet=args.quiet or args.dry_run)
    if args.dry_run:
        planned = plan(
            args.budget, out, device=args.device, data_root=args.data_root, dataset=args.dataset
        )
        for p in planned:
            extra = " ".join(f"--set {o}" for o in p.item.overrides)
            state = "finished" if (p.folder / "eval.json").is_file() else "to run"
            print(f"{p.folder}  preset {p.item.preset} seed {p.seed} {extra}  [{state}]")
        return 0
    result = run_review(
        args.budget,
        out,
        device=args.device,
        data_root=args.data_root,
        dataset=args.dataset,
        quiet=args.quiet,
        report=not args.no_report,
        maps=maps,
        threads=args.threads,
    )
    return 1 if result.failed else 0


def run_report_cmd(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax report``."""
    from mnistmax.errors import ConfigError
    from mnistmax.report import build_report

    if args.per_class < 1:
        raise ConfigError(f"--per-class must be at least 1, not {args.per_class}")
    result = build_report(
        args.paths,
        args.out,
        maps=_maps(args.maps, quiet=args.quiet),
        per_class=args.per_class,
        explorer=not args.no_explorer,
        log=None if args.quiet else print,
    )
    print(f"report of {result.runs} run(s): {result.index} and {result.markdown}")
    return 0
