"""``index.html``: the self-contained page (inline CSS, JS and data; figures as data URIs).

The page is rendered from ``templates/page.html.j2`` with autoescaping (:mod:`.render`): this
module only turns runs and rows into plain values. Nothing on the page refers to a network
address, so it works from ``file://``, offline and as an e-mail attachment. Rows of the summary
table carry ``class="row-method"`` or ``class="row-baseline"`` and the runs behind them, which
the browser test reads.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mnistmax.report.collect import RunRecord
from mnistmax.report.render import asset, render
from mnistmax.report.table import (
    HEAD,
    Row,
    best_cells,
    columns,
    command,
    dataset_title,
    method_rank,
)

MIME = {".gif": "image/gif", ".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg"}  # fmt: skip


def slug(text: str) -> str:
    """An HTML id from a run name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "run"


def data_uri(path: Path) -> str:
    """The file as a ``data:`` URI."""
    mime = MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def versions(meta: dict[str, Any]) -> str:
    keys = ("mnistmax", "torch", "python", "numpy")
    return ", ".join(f"{k} {meta[k]}" for k in keys if meta.get(k))


def _prov_item(run: RunRecord) -> dict[str, Any]:
    meta = run.meta
    return {
        "name": run.name,
        "seed": run.seed,
        "command": command(run),
        "argv": " ".join(meta.get("argv", [])) or "—",
        "versions": versions(meta) or "versions not recorded",
        "git": str(meta.get("git_revision") or "unknown"),
        "started": str(meta.get("started", "date unknown")),
        "device": str(meta.get("device", "")),
        "slug": slug(run.name),
    }


def _table(rows: Sequence[Row], table_id: str, *, first: str) -> dict[str, Any]:
    """A results table as plain values for ``table.html.j2``."""
    cols = columns()
    best = best_cells(rows)
    head = [first if h == "configuration" else h for h in HEAD] + [c.label for c in cols]
    views = []
    several = len({r.dataset for r in rows}) > 1
    for i, r in enumerate(rows):
        # With several datasets, a heading row opens each dataset's group (rows come grouped).
        opens = several and (i == 0 or rows[i - 1].dataset != r.dataset)
        label = r.label + (" (baseline)" if r.kind == "baseline" else "")
        method = r.method if r.kind == "method" else "baseline"
        views.append(
            {
                "cls": "row-method" if r.kind == "method" else "row-baseline",
                "group": dataset_title(r.dataset) if opens else "",
                "runs": [run.name for run in r.runs],
                "cells": list(
                    zip(
                        ("method", "label", "data", "labels"),
                        (method, label, r.data, r.labels),
                        strict=True,
                    )
                ),
                "nums": [(r.cell(c), (id(r), c.name) in best) for c in cols],
                "n": r.n,
                "prov": [_prov_item(run) for run in r.runs],
            }
        )
    return {"id": table_id, "head": head, "rows": views, "width": len(head) + 2}


def _figures(runs: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """Each method's runs with their figures (data URIs), in method order."""
    methods = sorted({r.method for r in runs}, key=lambda m: (method_rank(m), m))
    return [
        {
            "method": method,
            "slug": slug(method),
            "runs": [
                {
                    "name": run.name,
                    "slug": slug(run.name),
                    "figures": [
                        {"uri": data_uri(fig), "rel": fig.relative_to(run.path).as_posix()}
                        for fig in run.figures
                    ],
                    "frame_files": run.frame_files,
                }
                for run in runs
                if run.method == method
            ],
        }
        for method in methods
    ]


def _provenance(runs: Sequence[RunRecord]) -> list[dict[str, Any]]:
    out = []
    for run in runs:
        meta = run.meta
        rows = [
            ("folder", str(run.path)),
            ("command", command(run)),
            ("recorded argv", " ".join(meta.get("argv", [])) or "—"),
            ("versions", versions(meta) or "—"),
            ("git revision", str(meta.get("git_revision") or "unknown")),
            ("started", str(meta.get("started", "unknown"))),
            ("device / threads", f"{meta.get('device', '?')} / {meta.get('threads', '?')}"),
            ("platform", str(meta.get("platform", "?"))),
        ]
        config = json.dumps(run.config, indent=2)
        out.append({"slug": slug(run.name), "name": run.name, "rows": rows, "config": config})
    return out


def render_page(
    *,
    runs: Sequence[RunRecord],
    summary: Sequence[Row],
    per_run: Sequence[Row],
    explorer: str | None,
    skipped: Sequence[tuple[Path, str]],
    sources: Sequence[str],
) -> str:
    """The whole page as one string (``explorer``: the explorer's rendered markup, if any)."""
    return str(
        render(
            "page.html.j2",
            css=asset("report.css") + asset("explorer.css"),
            now=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            n_runs=len(runs),
            n_methods=sum(1 for r in summary if r.kind == "method"),
            sources=list(sources),
            summary=_table(summary, "summary-table", first="configuration"),
            per_run=_table(per_run, "runs-table", first="run"),
            explorer=explorer,
            figures=_figures(runs),
            provenance=_provenance(runs),
            skipped=[(str(path), reason) for path, reason in skipped],
        )
    )
