"""``build_report``: collect runs, compute the table and the explorer, write the report folder.

The folder gets ``index.html`` (self-contained), ``report.md`` with ``runs/<run>/`` (copies of
each run's figures and its config, so the markdown is portable), ``report.json`` (the table as
data) and ``.cache/`` (2-D maps, so rebuilding a report after one more run is quick). Every file
is written atomically.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mnistmax.errors import ConfigError
from mnistmax.io import write_bytes_atomic, write_json_atomic, write_text_atomic
from mnistmax.report.collect import collect
from mnistmax.report.explorer import explorer_data, explorer_html
from mnistmax.report.html import render_page
from mnistmax.report.markdown import render_markdown, run_asset_folder
from mnistmax.report.table import Row, method_rank, per_run_rows, rows_json, summary_rows
from mnistmax.viz.manifold import KINDS


@dataclass
class ReportResult:
    """Where the report went and what it holds."""

    out: Path
    index: Path
    markdown: Path
    runs: int
    summary: list[Row]
    seconds: float


def build_report(
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    maps: Sequence[str] = ("pca", "tsne", "umap"),
    per_class: int = 100,
    explorer: bool = True,
    log: Callable[[str], None] | None = None,
) -> ReportResult:
    """Write the report of the finished runs under ``paths`` into ``out``.

    Args:
        paths: Run folders, or folders holding run folders (studies, reviews).
        out: Report folder (created).
        maps: Explorer projections among ``pca``, ``tsne``, ``umap``.
        per_class: Test digits per class in the explorer.
        explorer: Build the embedding explorer (the slow part: t-SNE and UMAP).
        log: Called with progress lines.

    Raises:
        ConfigError: A path is missing, or no finished run is found.
    """

    tic = time.perf_counter()
    for kind in maps:
        if kind not in KINDS:
            raise ConfigError(f"unknown map {kind!r}; choose from {', '.join(KINDS)}")
    found = collect(paths)
    runs = sorted(found.runs, key=lambda r: (method_rank(r.method), r.name))
    out = Path(out)
    if log:
        log(f"report: {len(runs)} finished run(s), {len(found.skipped)} skipped")
    summary = summary_rows(runs)
    per_run = per_run_rows(runs)

    data = (
        explorer_data(runs, maps=maps, per_class=per_class, cache=out / ".cache", log=log)
        if explorer
        else None
    )
    page = render_page(
        runs=runs,
        summary=summary,
        per_run=per_run,
        explorer=explorer_html(data) if data else None,
        skipped=found.skipped,
        sources=[str(p) for p in paths],
    )
    figure_links: dict[str, list[str]] = {}
    config_links: dict[str, str] = {}
    for run in runs:
        folder = run_asset_folder(run)
        links = []
        for fig in run.figures:
            rel = f"{folder}/{fig.relative_to(run.path).as_posix()}"
            write_bytes_atomic(out / rel, fig.read_bytes())
            links.append(rel)
        figure_links[run.name] = links
        config_links[run.name] = f"{folder}/config.json"
        write_json_atomic(out / folder / "config.json", run.config)
    markdown = render_markdown(
        runs=runs,
        summary=summary,
        per_run=per_run,
        figure_links=figure_links,
        config_links=config_links,
        skipped=found.skipped,
    )
    write_text_atomic(out / "index.html", page)
    write_text_atomic(out / "report.md", markdown)
    write_json_atomic(
        out / "report.json",
        {
            "summary": rows_json(summary),
            "runs": rows_json(per_run),
            "skipped": [[str(p), r] for p, r in found.skipped],
            "explorer_runs": [r["name"] for r in data["runs"]] if data else [],
        },
    )
    seconds = time.perf_counter() - tic
    if log:
        size = (out / "index.html").stat().st_size / 1e6
        log(f"report: wrote {out / 'index.html'} ({size:.1f} MB) and report.md in {seconds:.1f} s")
    return ReportResult(
        out=out,
        index=out / "index.html",
        markdown=out / "report.md",
        runs=len(runs),
        summary=summary,
        seconds=seconds,
    )
