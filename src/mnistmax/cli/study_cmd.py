"""``mnistmax study run|status|report``: ablation and hyper-parameter studies on Optuna.

* ``study run SPEC [--storage URL] [--workers N] [--root DIR]`` — SPEC is a TOML file
  (``studies/*.toml``) or a study preset (``smoke``); runs (or resumes) the study until every
  unit is done. Storage defaults to ``<root>/<name>/study.db``; a PostgreSQL URL lets workers on
  several machines share the study (run the same command on each).
* ``study status NAME`` — units and trials per state, the best cell so far, recent failures.
* ``study report NAME [--out DIR]`` — per-cell table (mean ± std, n), best configuration,
  figures, CSV and JSON.

A study NAME resolves to ``<root>/<NAME>/`` (root ``runs/studies`` unless ``--root``), whose
``study.json`` names its storage; ``--storage URL`` reads a study straight from a database.
"""

from __future__ import annotations

import argparse
from typing import Any

from mnistmax.cli.common import add_data_root


def _add_where(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", default=None, help="folder of study folders (default: runs/studies)")
    p.add_argument(
        "--storage",
        default=None,
        metavar="URL",
        help="optuna storage: sqlite:///FILE or postgresql://USER:PASS@HOST/DB "
        "(default: <root>/<name>/study.db)",
    )


def register(sub: Any) -> None:
    """Add ``study``."""
    p = sub.add_parser("study", help="ablation and hyper-parameter studies (Optuna)")
    ssub = p.add_subparsers(dest="study_command", metavar="ACTION")

    r = ssub.add_parser("run", help="run or resume a study until every unit is done")
    r.add_argument("spec", help="a study spec (.toml) or a study preset name (smoke)")
    _add_where(r)
    r.add_argument(
        "--workers", type=int, default=1, help="worker processes on this machine (default 1)"
    )
    r.add_argument(
        "--heartbeat",
        type=int,
        default=30,
        metavar="S",
        help="seconds between a trial's heartbeats; a trial silent for 3×S is re-queued",
    )
    r.add_argument(
        "--retry-failed", action="store_true", help="queue again the units whose trials failed"
    )
    r.add_argument("--quiet", action="store_true", help="no per-trial lines")
    add_data_root(r)
    r.set_defaults(func=run_study_cmd)

    s = ssub.add_parser("status", help="progress, best cell and failures of a study")
    s.add_argument("name", help="study name")
    _add_where(s)
    s.set_defaults(func=status_cmd)

    rep = ssub.add_parser("report", help="tables, best config and figures of a study")
    rep.add_argument("name", help="study name")
    _add_where(rep)
    rep.add_argument("--out", default=None, help="output folder (default: <study>/report)")
    rep.set_defaults(func=report_cmd)

    def _help(_: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=_help)


def run_study_cmd(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax study run``."""
    from mnistmax.studies.spec import check_buildable, resolve_spec

    spec = resolve_spec(args.spec)
    check_buildable(spec)
    from mnistmax.studies.engine import load_stored_study, run_study
    from mnistmax.studies.report import status_text, trial_rows, unit_states
    from mnistmax.studies.storage import default_storage_url, study_dir

    folder = run_study(
        spec,
        root=args.root,
        storage=args.storage,
        workers=args.workers,
        heartbeat_s=args.heartbeat,
        data_root=args.data_root,
        quiet=args.quiet,
        retry_failed=args.retry_failed,
        spec_source=args.spec,
    )
    url = args.storage or default_storage_url(study_dir(spec.name, args.root))
    study, _ = load_stored_study(spec.name, url)
    print(status_text(study, spec, url))
    where = f" --root {args.root}" if args.root else ""
    print(f"study folder: {folder}; report: mnistmax study report {spec.name}{where}")
    failed = [u for u, s in unit_states(trial_rows(study)).items() if s == "FAIL"]
    return 1 if failed else 0


def status_cmd(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax study status``."""
    from mnistmax.studies.engine import load_stored_study
    from mnistmax.studies.report import status_text
    from mnistmax.studies.storage import resolve_storage

    _, url = resolve_storage(args.name, args.root, args.storage)
    study, spec = load_stored_study(args.name, url)
    print(status_text(study, spec, url))
    return 0


def report_cmd(args: argparse.Namespace) -> int:
    """Handler of ``mnistmax study report``."""
    from mnistmax.studies.engine import load_stored_study
    from mnistmax.studies.report import write_report
    from mnistmax.studies.storage import resolve_storage

    folder, url = resolve_storage(args.name, args.root, args.storage)
    study, spec = load_stored_study(args.name, url)
    out = args.out or str(folder / "report")
    written = write_report(study, spec, out, folder=folder, url=url)
    print(f"wrote {len(written)} files to {out}/ (report.md, cells.csv, best.json, figures/)")
    return 0
