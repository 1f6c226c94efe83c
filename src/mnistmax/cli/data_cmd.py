"""``mnistmax data``: fetch, inspect and list datasets.

* ``data list`` — the catalogue, with whether each dataset is in the cache.
* ``data fetch [--dataset NAME|all]`` — download (or fall back offline) and verify.
* ``data info [--dataset NAME]`` — location, verification status, images per split and class.

Only argparse is imported at module level; the data layer (numpy) is imported by the handlers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from mnistmax.cli.common import add_data_root


def register(sub: Any) -> None:
    """Register ``data`` and its sub-commands on the top-level sub-parsers object."""
    parser = sub.add_parser(
        "data",
        help="fetch, inspect and list datasets",
        description="Fetch, verify and inspect MNIST-family datasets.",
    )
    data_sub = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda _args: _no_subcommand(parser))

    p_list = data_sub.add_parser("list", help="list the datasets in the catalogue")
    add_data_root(p_list)
    p_list.set_defaults(func=cmd_list)

    p_fetch = data_sub.add_parser(
        "fetch",
        help="download (or copy from an offline source) and verify a dataset",
        description=(
            "Fetch a dataset into the cache. Sources are tried in order (the HTTP mirrors, then "
            "offline fallbacks); only data matching the catalogue md5s is stored."
        ),
    )
    # Names are checked by the handler, not argparse `choices`, so an unknown name is a
    # one-line error listing the catalogue (exit 2) rather than a usage dump.
    p_fetch.add_argument(
        "--dataset", default="mnist", help="dataset name, or 'all' (default: mnist)"
    )
    add_data_root(p_fetch)
    p_fetch.add_argument("--quiet", action="store_true", help="no progress bars or messages")
    p_fetch.set_defaults(func=cmd_fetch)

    p_info = data_sub.add_parser(
        "info",
        help="show where a dataset is, whether it verifies, and its class counts",
    )
    p_info.add_argument("--dataset", default=None, help="dataset name (default: all)")
    add_data_root(p_info)
    p_info.set_defaults(func=cmd_info)


def _no_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def cmd_list(args: argparse.Namespace) -> int:
    """Print the catalogue: name, sizes, classes and cache state (stamp only, no hashing)."""
    from mnistmax.data import catalog, store

    rows = [("name", "train", "test", "classes", "cached", "title")]
    for info in catalog.DATASETS.values():
        ready = store.is_ready(info, args.data_root)
        cached = "embedded" if info.embedded else ("yes" if ready else "no")
        rows.append(
            (
                info.name,
                str(info.size("train")),
                str(info.size("test")),
                str(info.num_classes),
                cached,
                info.title,
            )
        )
    _print_table(rows)
    print(f"\ncache: {store.data_root(args.data_root)}")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch one dataset or all downloadable ones; exit 2 if any failed."""
    from mnistmax.data import catalog, store
    from mnistmax.errors import ConfigError, MnistmaxError

    if args.dataset == "all":
        names = [n for n, info in catalog.DATASETS.items() if not info.embedded]
    else:
        catalog.get(args.dataset)  # ConfigError listing the names
        names = [args.dataset]
    failed = 0
    for name in names:
        try:
            folder = store.fetch(name, root=args.data_root, quiet=args.quiet)
        except ConfigError:
            raise
        except MnistmaxError as exc:
            if len(names) == 1:
                raise
            print(f"mnistmax: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{name}: verified in {folder}")
    return 2 if failed else 0


def _info_one(name: str, root: str | None) -> bool:
    from mnistmax.data import catalog, store

    info = catalog.get(name)
    status = store.verify_status(name, root)
    print(f"{info.name}: {info.title}")
    print(f"  location: {status['path']}")
    print(f"  status:   {status['state']}")
    if status["stamp"]:
        print(f"  verified: {status['stamp'].get('verified_at', '?')} (last fetch)")
    for f in status["files"]:
        mark = "ok" if f["ok"] else "missing" if not f["exists"] else f"FAIL: {f['problem']}"
        print(f"    {f['key']:<13} md5 {f['expected_md5']}  {mark}")
    if status["state"] == "missing":
        print(f"  not fetched; run `mnistmax data fetch --dataset {name}`")
    elif status["state"] != "verified":
        print(f"  repair with `mnistmax data fetch --dataset {name}`")
    if status["counts"]:
        counts = status["counts"]
        rows = [("class", "name", "train", "test")]
        for c, cname in enumerate(info.class_names):
            rows.append((str(c), cname, str(counts["train"][c]), str(counts["test"][c])))
        rows.append(("", "total", str(sum(counts["train"])), str(sum(counts["test"]))))
        _print_table(rows, indent="  ")
    print(f"  validation carve (default): {info.default_val_size} of the training images")
    print(
        f"  augmentation (augment=auto): {info.augment.one_view} for one view (triplet), "
        f"{info.augment.two_views} for two views (ssl)"
    )
    print(f"  credit: {info.credit}")
    # A dataset that was never fetched is not an error for `info`; a damaged one is.
    return status["state"] in ("verified", "missing")


def cmd_info(args: argparse.Namespace) -> int:
    """Verify and describe one dataset (or all); exit 1 if a cached one fails verification."""
    from mnistmax.data import catalog

    names = [catalog.get(args.dataset).name] if args.dataset else catalog.names()
    ok = True
    for i, name in enumerate(names):
        if i:
            print()
        ok = _info_one(name, args.data_root) and ok
    return 0 if ok else 1


def _print_table(rows: Sequence[Sequence[str]], indent: str = "") -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
