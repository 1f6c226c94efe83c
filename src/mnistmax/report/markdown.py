"""``report.md``: the summary table, figures (copied beside it) and provenance, as markdown."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from mnistmax.report.collect import RunRecord
from mnistmax.report.html import slug, versions
from mnistmax.report.table import Row, by_dataset, command, dataset_title, markdown_table


def render_markdown(
    *,
    runs: Sequence[RunRecord],
    summary: Sequence[Row],
    per_run: Sequence[Row],
    figure_links: Mapping[str, Sequence[str]],
    config_links: Mapping[str, str],
    skipped: Sequence[tuple[Path, str]],
) -> str:
    """The markdown report. ``figure_links``/``config_links``: run name → paths relative to it."""
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    out = [
        "# mnistmax report",
        "",
        f"Generated {now} from {len(runs)} run folder(s). `index.html` beside this file holds the "
        "same table, every figure and the interactive embedding explorer (self-contained).",
        "",
        "## Performance summary",
        "",
        "Test split; accuracies and clustering scores in %; mean ± sample std over n seeds where "
        "several exist. PSNR/SSIM: denoiser at intensity 0.5 of its training noise. Losses at "
        "the validation-selected epoch. Baseline rows are in italics.",
        "",
        *_grouped(summary),
        "## Runs",
        "",
        *_grouped(per_run, with_n=False, first="run"),
        "## Figures",
        "",
    ]
    for run in runs:
        links = figure_links.get(run.name, [])
        out.append(f"### {run.name} ({run.method})")
        out.append("")
        if not links:
            out.append("No figures in this run folder.")
        for link in links:
            out.append(f"![{Path(link).name}]({link})")
        out.append("")
    out += ["## Provenance", ""]
    for run in runs:
        meta = run.meta
        out += [
            f"### {run.name}",
            "",
            f"- command: `{command(run)}`",
            f"- recorded argv: `{' '.join(meta.get('argv', [])) or '—'}`",
            f"- versions: {versions(meta) or '—'}",
            f"- git revision: `{meta.get('git_revision') or 'unknown'}`",
            f"- started: {meta.get('started', 'unknown')}; device {meta.get('device', '?')}, "
            f"{meta.get('threads', '?')} threads",
            f"- config: [{config_links.get(run.name, '')}]({config_links.get(run.name, '')})",
            "",
        ]
    if skipped:
        out += ["## Skipped folders", ""]
        out += [f"- `{p}`: {reason}" for p, reason in skipped]
        out.append("")
    return "\n".join(out)


def _grouped(
    rows: Sequence[Row], *, with_n: bool = True, first: str = "configuration"
) -> list[str]:
    """One table per dataset under a ``###`` heading (a single table when there is one)."""
    groups = by_dataset(rows)
    if len(groups) < 2:
        return [markdown_table(rows, with_n=with_n, first=first)]
    out = []
    for dataset, members in groups:
        out += [
            f"### {dataset_title(dataset)}",
            "",
            markdown_table(members, with_n=with_n, first=first),
        ]
    return out


def run_asset_folder(run: RunRecord) -> str:
    """Folder (relative to the report) that holds the run's copied figures and config."""
    return f"runs/{slug(run.name)}"
