"""``index.html``: the self-contained page (inline CSS, JS and data; figures as data URIs).

Nothing on the page refers to a network address, so it works from ``file://``, offline and as
an e-mail attachment. Rows of the summary table carry ``class="row-method"`` or
``class="row-baseline"`` and the runs behind them, which the browser test reads.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import re
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from mnistmax.report.collect import RunRecord
from mnistmax.report.table import HEAD, Row, best_cells, columns, command, method_rank

MIME = {".gif": "image/gif", ".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg"}  # fmt: skip

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1500px;
  padding:0 18px 40px;color:#222}
h1{margin-bottom:4px} h2{border-bottom:2px solid #eee;padding-bottom:4px;margin-top:34px}
nav a{margin-right:14px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 7px;vertical-align:top}
th{background:#f3f3f3;position:sticky;top:0}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
tr.row-baseline td{color:#555;font-style:italic;background:#fcfcfc}
td.best{font-weight:700} td.data{min-width:140px} td.label{min-width:160px}
.table-wrap{overflow-x:auto}
figure{display:inline-block;margin:6px 12px 12px 0;vertical-align:top}
figure img{max-width:640px;border:1px solid #ddd}
figcaption{font-size:12px;color:#555}
pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px;max-height:420px}
code{font-size:12px}
.muted{color:#666;font-size:13px}
details.prov{font-size:12px} details.prov ul{padding-left:16px;margin:4px 0}
"""


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


def _prov_items(run: RunRecord) -> str:
    meta = run.meta
    argv = " ".join(meta.get("argv", [])) or "—"
    return (
        f"<li><b>{escape(run.name)}</b> (seed {run.seed}): <code>{escape(command(run))}</code></li>"
        f"<li>recorded argv: <code>{escape(argv)}</code></li>"
        f"<li>{escape(versions(meta) or 'versions not recorded')}; git "
        f"<code>{escape(str(meta.get('git_revision') or 'unknown'))}</code>; "
        f"{escape(str(meta.get('started', 'date unknown')))}; {escape(str(meta.get('device', '')))}"
        f' — <a href="#prov-{slug(run.name)}">config</a></li>'
    )


def _table(rows: Sequence[Row], table_id: str, *, first: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in (*HEAD, *(c.label for c in columns())))
    head = head.replace("<th>configuration</th>", f"<th>{escape(first)}</th>")
    head += "<th>n</th><th>provenance</th>"
    body = []
    best = best_cells(rows)
    for r in rows:
        cls = "row-method" if r.kind == "method" else "row-baseline"
        runs = ",".join(run.name for run in r.runs)
        label = r.label + (" (baseline)" if r.kind == "baseline" else "")
        cells = [
            escape(r.method if r.kind == "method" else "baseline"),
            escape(label),
            escape(r.data),
            escape(r.labels),
        ]
        tds = "".join(
            f'<td class="{k}">{c}</td>'
            for k, c in zip(("method", "label", "data", "labels"), cells, strict=True)
        )
        tds += "".join(
            f'<td class="num{" best" if (id(r), c.name) in best else ""}">{escape(r.cell(c))}</td>'
            for c in columns()
        )
        tds += f'<td class="num">{r.n}</td>'
        if r.runs:
            items = "".join(_prov_items(run) for run in r.runs)
            prov = (
                f'<details class="prov"><summary>{len(r.runs)} run'
                f"{'s' if len(r.runs) > 1 else ''}</summary><ul>{items}</ul></details>"
            )
        else:
            prov = '<span class="muted">from the runs\' eval.json</span>'
        tds += f"<td>{prov}</td>"
        body.append(f'<tr class="{cls}" data-runs="{escape(runs)}">{tds}</tr>')
    return (
        f'<div class="table-wrap"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _figures(runs: Sequence[RunRecord]) -> str:
    parts = []
    methods = sorted({r.method for r in runs}, key=lambda m: (method_rank(m), m))
    for method in methods:
        parts.append(f'<h3 id="fig-method-{slug(method)}">{escape(method)}</h3>')
        for run in [r for r in runs if r.method == method]:
            parts.append(f'<h4 id="fig-{slug(run.name)}">{escape(run.name)}</h4>')
            if not run.figures:
                parts.append('<p class="muted">no figures in this run folder</p>')
            for fig in run.figures:
                rel = fig.relative_to(run.path).as_posix()
                parts.append(
                    f'<figure><img src="{data_uri(fig)}" alt="{escape(rel)}" loading="lazy">'
                    f"<figcaption>{escape(rel)}</figcaption></figure>"
                )
            if run.frame_files:
                parts.append(
                    f'<p class="muted">{run.frame_files} per-epoch PNG frames in '
                    "figures/pca_frames/ (the frames of the GIF above).</p>"
                )
    return "\n".join(parts)


def _provenance(runs: Sequence[RunRecord]) -> str:
    parts = []
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
        items = "".join(
            f"<tr><th>{escape(k)}</th><td><code>{escape(v)}</code></td></tr>" for k, v in rows
        )
        parts.append(
            f'<details id="prov-{slug(run.name)}"><summary>{escape(run.name)}</summary>'
            f"<table>{items}</table><pre>{escape(json.dumps(run.config, indent=2))}</pre></details>"
        )
    return "\n".join(parts)


def render_page(
    *,
    runs: Sequence[RunRecord],
    summary: Sequence[Row],
    per_run: Sequence[Row],
    explorer: str | None,
    explorer_css: str,
    skipped: Sequence[tuple[Path, str]],
    sources: Sequence[str],
) -> str:
    """The whole page as one string."""
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    n_methods = sum(1 for r in summary if r.kind == "method")
    skipped_html = ""
    if skipped:
        items = "".join(f"<li><code>{escape(str(p))}</code>: {escape(r)}</li>" for p, r in skipped)
        skipped_html = f'<section id="skipped"><h2>Skipped folders</h2><ul>{items}</ul></section>'
    explorer_html = explorer or (
        '<p class="muted">No run with test embeddings (embeddings_test.npz): nothing to explore.</p>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mnistmax report</title>
<link rel="icon" href="data:,">
<style>{CSS}{explorer_css}</style>
</head><body>
<header><h1>mnistmax report</h1>
<p class="muted">Generated {escape(now)} from {len(runs)} run folder(s) under
{escape(", ".join(sources))}: {n_methods} configuration row(s).</p>
<nav><a href="#summary">summary</a><a href="#explorer-section">explorer</a><a href="#runs">runs</a>
<a href="#figures">figures</a><a href="#provenance">provenance</a></nav></header>

<section id="summary"><h2>Performance summary</h2>
<p class="muted">Test split; accuracies and clustering scores in %. One row per configuration; with
several seeds a cell is mean ± sample std over the n runs. kNN@20: weighted cosine kNN (τ 0.07)
with the training split as the bank; linear probe: logistic regression on frozen features, its
regularisation chosen on the validation split; 10-shot: mean of the few-shot draws; k-means:
ACC (Hungarian), NMI, ARI on the test features. PSNR/SSIM: denoiser output against the clean
digit at intensity 0.5 of the training noise. Losses: at the epoch selected on validation.
Labels used: labelled images in the training loss (every method's validation monitor and the
evaluation's probes use labels). params: encoder (or denoiser) parameters. wall s: training,
figures and evaluation; img/s: training images (views for two-view methods) per second.
Baseline rows (italic) come from the same evaluation protocol. Configuration: the preset and
the overrides that change training; evaluation overrides are in each row's provenance command.
Bold: the best method row of a column.</p>
{_table(summary, "summary-table", first="configuration")}
</section>

<section id="explorer-section"><h2>Embedding explorer</h2>
<p class="muted">Fixed test digits of each run's dataset (the same digits for every run), mapped
to 2-D. Switch run, map and colouring; the epoch slider replays the training trace (the GIF's
digits, one PCA basis fitted on the final epoch, fixed axes).</p>
{explorer_html}
</section>

<section id="runs"><h2>Runs</h2>
<p class="muted">One row per run folder (the seeds behind the summary).</p>
{_table(per_run, "runs-table", first="run")}
</section>

<section id="figures"><h2>Figures</h2>
{_figures(runs)}
</section>

<section id="provenance"><h2>Provenance</h2>
<p class="muted">Per run: the command that makes it again, the recorded command line, versions,
git revision, start date and the resolved config.</p>
{_provenance(runs)}
</section>
{skipped_html}
</body></html>
"""
