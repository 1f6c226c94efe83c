"""Study results: the per-cell table (mean ± std and n over seeds), the best configuration,
the status summary, and the report's files (CSV, JSON, Markdown, PNG).

Everything here reads the optuna storage; run folders (``trials/<unit>/metrics.jsonl``) only add
detail to the learning curves, which fall back to the per-epoch values every trial reports to
the storage, so a report also works on a machine that holds none of the run folders.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mnistmax.families import family_of
from mnistmax.io import write_json_atomic, write_text_atomic
from mnistmax.recipes import get_preset
from mnistmax.studies.engine import unit_progress
from mnistmax.studies.spec import StudySpec, Value, _fmt, _override, cell_label
from mnistmax.studies.storage import redact
from mnistmax.training.runlog import RunDir
from mnistmax.viz.dashboard import save_figure


@dataclass
class TrialRow:
    """One optuna trial as the report sees it."""

    number: int
    state: str
    unit: str | None
    cell: str | None
    seed: int | None
    label: str
    params: dict[str, Value]
    value: float | None
    metrics: dict[str, float]
    error: str
    run_dir: str | None
    wall_seconds: float | None
    worker: str
    lost: int
    curve: list[tuple[int, float]] = field(default_factory=list)


def trial_rows(study: Any) -> list[TrialRow]:
    """Every trial of ``study``, in trial order."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        a = t.user_attrs
        params = dict(t.params) or dict(t.system_attrs.get("fixed_params", {}))
        rows.append(
            TrialRow(
                number=t.number,
                state=t.state.name,
                unit=a.get("unit"),
                cell=a.get("cell"),
                seed=a.get("seed"),
                label=a.get("label", cell_label(params)),
                params=params,
                value=t.value if t.state.name == "COMPLETE" else None,
                metrics=dict(a.get("metrics", {})),
                error=str(a.get("error", "")),
                run_dir=a.get("run_dir"),
                wall_seconds=a.get("wall_seconds"),
                worker=str(a.get("worker", "")),
                lost=int(a.get("lost", 0)),
                curve=sorted((int(k), float(v)) for k, v in t.intermediate_values.items()),
            )
        )
    return rows


def unit_states(rows: Sequence[TrialRow]) -> dict[str, str]:
    """Each unit's state: COMPLETE if a trial of it completed, else RUNNING, WAITING or FAIL."""
    states: dict[str, set[str]] = {}
    for r in rows:
        if r.unit is not None:
            states.setdefault(r.unit, set()).add(r.state)
    order = ("COMPLETE", "RUNNING", "WAITING", "FAIL")
    return {u: next((s for s in order if s in ss), "FAIL") for u, ss in states.items()}


def _mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else None)


def cell_table(rows: Sequence[TrialRow], spec: StudySpec) -> list[dict[str, Any]]:
    """Per cell: params, n (completed seeds), failed units, objective and extras mean ± std.

    Sorted best first (cells with no completed seed last); ``rank`` numbers them.
    """
    states = unit_states(rows)
    cells: dict[str, list[TrialRow]] = {}
    for r in rows:
        if r.cell is not None:
            cells.setdefault(r.cell, []).append(r)
    table = []
    for cell, rs in cells.items():
        done = _completed(rs)
        units = {r.unit for r in rs}
        mean, std = _mean_std([r.value for r in done if r.value is not None])
        row: dict[str, Any] = {
            "cell": cell,
            "label": rs[0].label,
            "params": rs[0].params,
            "n": len(done),
            "seeds": sorted(r.seed for r in done if r.seed is not None),
            "failed": sum(states.get(u or "") == "FAIL" for u in units),
            "mean": mean,
            "std": std,
            "metrics": {},
        }
        for key in spec.extra_metrics:
            m, s = _mean_std([r.metrics[key] for r in done if key in r.metrics])
            if m is not None:
                row["metrics"][key] = {
                    "mean": m,
                    "std": s,
                    "n": sum(key in r.metrics for r in done),
                }
        table.append(row)
    sign = -1.0 if spec.objective.direction == "maximize" else 1.0
    table.sort(key=lambda r: (r["mean"] is None, sign * (r["mean"] or 0.0), r["cell"]))
    for i, cell_row in enumerate(table, 1):
        cell_row["rank"] = i
    return table


def pm(mean: float | None, std: float | None, digits: int = 4) -> str:
    """``0.9731 ± 0.0012`` (no ± for a single seed, ``—`` for none)."""
    if mean is None:
        return "—"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if std is not None else "")


def reproduce_command(spec: StudySpec, params: dict[str, Value], seed: int) -> str:
    """The single-run command that trains one unit of the study."""

    method = get_preset(spec.base).method
    head = family_of(method).train_command(method)
    sets = [_override(k, v) for k, v in (*spec.overrides, *params.items())]
    return " ".join(
        [head, f"--preset {spec.base}", *(f"--set {s}" for s in sets), f"--seed {seed}"]
    )


def best_cell(table: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The best cell with at least one completed seed."""
    return next((r for r in table if r["n"] > 0), None)


_STATE_WORDS = {"FAIL": "failed", "RUNNING": "running", "WAITING": "waiting"}


def status_text(study: Any, spec: StudySpec, url: str) -> str:
    """What ``mnistmax study status`` prints."""

    rows = trial_rows(study)
    states = unit_states(rows)
    done, planned = unit_progress(study, spec)
    by_state: dict[str, int] = {}
    for r in rows:
        by_state[r.state] = by_state.get(r.state, 0) + 1
    unit_counts = {s: sum(v == s for v in states.values()) for s in ("FAIL", "RUNNING", "WAITING")}
    lines = [
        f"study {spec.name}: {spec.kind} on {spec.base}, objective {spec.objective.metric} "
        f"({spec.objective.direction}), seeds {list(spec.seeds)}",
        f"storage: {redact(url)}",
        f"units: {done}/{planned if planned is not None else '?'} complete, "
        + ", ".join(f"{n} {_STATE_WORDS[s]}" for s, n in unit_counts.items()),
        "trials by state: "
        + (", ".join(f"{s} {n}" for s, n in sorted(by_state.items())) or "none"),
    ]
    if spec.kind != "grid":
        used = sum(r.wall_seconds or 0.0 for r in rows)
        cells = len({r.cell for r in rows if r.cell})
        limit = f"/{spec.time_s:.0f}" if spec.time_s is not None else ""
        lines.append(
            f"budget: {cells}/{spec.n_trials or '∞'} configurations, "
            f"{used:.0f}{limit} s of trial time"
        )
    best = best_cell(cell_table(rows, spec))
    if best is not None:
        lines.append(
            f"best cell: {best['cell']} ({best['label']}): {spec.objective.metric} "
            f"{pm(best['mean'], best['std'])} (n={best['n']})"
        )
    failed = [r for r in rows if r.state == "FAIL" and states.get(r.unit or "") == "FAIL"]
    for r in failed[-5:]:
        lines.append(f"failed: {r.unit} (trial {r.number}): {r.error}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Figures: arrays in, Figure out (Agg; the caller saves)


def objective_vs_param(
    x: Sequence[Value],
    y: Sequence[float],
    *,
    name: str,
    metric: str,
    categories: Sequence[Value] | None = None,
    log: bool = False,
) -> Figure:
    """Every trial's objective against one parameter, with the mean per value."""
    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.subplots()
    if categories is not None:
        pos = {repr(c): i for i, c in enumerate(categories)}
        xs = [pos[repr(v)] for v in x]
        ax.scatter(xs, y, alpha=0.6, s=18, label="trials")
        means = []
        for i in range(len(categories)):
            ys = [yy for xx, yy in zip(xs, y, strict=True) if xx == i]
            means.append(statistics.fmean(ys) if ys else math.nan)
        ax.plot(range(len(categories)), means, "k_-", ms=20, lw=1, label="mean")
        ax.set_xticks(range(len(categories)), [_fmt(c) for c in categories])
    else:
        ax.scatter([float(v) for v in x], y, alpha=0.7, s=18, label="trials")
        if log:
            ax.set_xscale("log")
    ax.set_xlabel(name)
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def importance_figure(importances: dict[str, float], *, metric: str) -> Figure:
    """Horizontal bars of fANOVA parameter importances."""
    fig = Figure(figsize=(6, 0.6 * len(importances) + 1.5), dpi=100)
    ax = fig.subplots()
    names = list(importances)[::-1]
    ax.barh(names, [importances[n] for n in names])
    ax.set_xlabel(f"importance for {metric} (fANOVA, sums to 1)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def parallel_coordinates(
    columns: Sequence[tuple[str, Sequence[float], Sequence[str] | None]],
    objective: Sequence[float],
    *,
    metric: str,
) -> Figure:
    """One line per trial across the parameter axes, coloured by the objective.

    Args:
        columns: ``(name, positions in [0, 1], labels)`` per axis, the labels spread evenly
            from bottom to top: a categorical axis's values, a numeric axis's low and high.
        objective: the objective of each trial (also drawn as the last axis).
    """

    fig = Figure(figsize=(2.0 * (len(columns) + 1) + 1, 4.5), dpi=100)
    ax = fig.subplots()
    lo, hi = min(objective), max(objective)
    span = (hi - lo) or 1.0
    cmap = colormaps["viridis"]
    n_axes = len(columns) + 1
    for i, y in enumerate(objective):
        pts = [c[1][i] for c in columns] + [(y - lo) / span]
        ax.plot(range(n_axes), pts, color=cmap((y - lo) / span), alpha=0.7, lw=1.2)
    for j, (_, _, labels) in enumerate(columns):
        ax.axvline(j, color="grey", lw=0.8)
        if labels:
            for k, lab in enumerate(labels):
                ax.text(j + 0.03, k / max(len(labels) - 1, 1), lab, fontsize=7, va="center")
    ax.axvline(n_axes - 1, color="grey", lw=0.8)
    ax.text(n_axes - 1 + 0.03, 0, f"{lo:.4g}", fontsize=7)
    ax.text(n_axes - 1 + 0.03, 1, f"{hi:.4g}", fontsize=7)
    ax.set_xticks(range(n_axes), [c[0] for c in columns] + [metric], fontsize=8)
    ax.set_yticks([])
    ax.set_xlim(-0.2, n_axes - 0.6)
    fig.tight_layout()
    return fig


def learning_curves(
    curves: Sequence[tuple[str, Sequence[int], Sequence[float]]], *, metric: str
) -> Figure:
    """The objective per epoch of the best cells' trials (one colour per cell)."""
    fig = Figure(figsize=(7, 4.5), dpi=100)
    ax = fig.subplots()
    colours: dict[str, Any] = {}
    for label, epochs, values in curves:
        first = label not in colours
        line = ax.plot(
            epochs,
            values,
            marker="o",
            ms=3,
            lw=1,
            color=colours.get(label),
            label=label if first else None,
        )
        colours.setdefault(label, line[0].get_color())

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# The report


def _csv(rows: Sequence[dict[str, Any]]) -> str:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _flat_cell(r: dict[str, Any], spec: StudySpec) -> dict[str, Any]:
    out: dict[str, Any] = {"rank": r["rank"], "cell": r["cell"]}
    out |= {p.field: r["params"].get(p.field) for p in spec.params}
    out |= {"n": r["n"], "failed": r["failed"]}
    out |= {f"{spec.objective.metric} mean": r["mean"], f"{spec.objective.metric} std": r["std"]}
    for key in spec.extra_metrics:
        m = r["metrics"].get(key, {})
        out |= {f"{key} mean": m.get("mean"), f"{key} std": m.get("std")}
    return out


def markdown_table(table: Sequence[dict[str, Any]], spec: StudySpec) -> str:
    """The per-cell table as Markdown: parameters, n, objective and extras as mean ± std."""
    names = [p.field.rsplit(".", 1)[-1] for p in spec.params]
    head = ["#", *names, "n", f"{spec.objective.metric} ({spec.objective.direction})"]
    head += list(spec.extra_metrics)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table:
        cells = [str(r["rank"]), *(_fmt(r["params"].get(p.field, "")) for p in spec.params)]
        cells += [str(r["n"]) + (f" ({r['failed']} failed)" if r["failed"] else "")]
        cells += [pm(r["mean"], r["std"])]
        for key in spec.extra_metrics:
            m = r["metrics"].get(key)
            digits = 1 if "seconds" in key else 4
            cells.append(pm(m["mean"], m["std"], digits) if m else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _importances(study: Any, spec: StudySpec, n_complete: int) -> dict[str, float] | None:
    varied = [p for p in spec.params if p.is_range or len(p.choices) > 1]
    if len(varied) < 2 or n_complete < max(4, 2 * len(varied)):
        return None
    import optuna  # optuna: the 'studies' extra, ~0.5 s to import; only studies need it

    try:
        return dict(
            optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
            )
        )
    except (RuntimeError, ValueError):  # e.g. every trial scored the same
        return None


def _positions(spec_param: Any, values: Sequence[Value]) -> tuple[list[float], list[str] | None]:
    if not spec_param.is_range:
        cats = list(spec_param.choices)
        idx = [next(i for i, c in enumerate(cats) if c == v) for v in values]
        return [i / max(len(cats) - 1, 1) for i in idx], [_fmt(c) for c in cats]
    xs = [float(v) for v in values]
    lo, hi = float(spec_param.low), float(spec_param.high)
    if spec_param.log:
        xs, lo, hi = [math.log10(x) for x in xs], math.log10(lo), math.log10(hi)
    return [(x - lo) / ((hi - lo) or 1.0) for x in xs], [
        _fmt(spec_param.low),
        _fmt(spec_param.high),
    ]


def _run_curve(folder: Path | None, r: TrialRow, metric: str) -> list[tuple[int, float]]:
    if folder is not None and r.run_dir is not None:
        records = RunDir(folder / r.run_dir).read_metrics()
        curve = [
            (int(x["epoch"]), float(x[metric]))
            for x in records
            if x.get("kind") == "epoch" and metric in x
        ]
        if curve:
            return curve
    return r.curve


def write_report(
    study: Any, spec: StudySpec, out: str | Path, *, folder: Path | None = None, url: str = ""
) -> list[Path]:
    """Write the study's tables, best configuration, figures and ``report.md`` into ``out``.

    Returns:
        Every file written, in the order written (``report.md`` last).
    """
    files = _ReportFiles(Path(out))
    rows = trial_rows(study)
    table = cell_table(rows, spec)
    _write_tables(files, rows, table, spec)
    best = _write_best(files, best_cell(table), spec)
    done = _completed(rows)
    if done:
        _write_figures(files, done, table, spec, folder)
    importances = _importances(study, spec, len(done))
    if importances is not None:
        files.figure("importance.png", importance_figure(importances, metric=spec.objective.metric))
        files.json("importance.json", importances)
    md = _report_markdown(study, spec, url, table, best, importances, files.figures())
    files.text("report.md", md)
    return files.written


@dataclass
class _ReportFiles:
    """The report folder: writes each file atomically and lists it in the order written."""

    out: Path
    written: list[Path] = field(default_factory=list)

    def text(self, name: str, text: str) -> None:
        """Write ``out/name``."""
        write_text_atomic(self.out / name, text)
        self.written.append(self.out / name)

    def json(self, name: str, obj: Any) -> None:
        """Write ``out/name`` as indented JSON."""
        write_json_atomic(self.out / name, obj)
        self.written.append(self.out / name)

    def figure(self, name: str, figure: Figure) -> None:
        """Save ``figure`` as ``out/figures/name``."""

        save_figure(figure, self.out / "figures" / name)
        self.written.append(self.out / "figures" / name)

    def figures(self) -> list[Path]:
        """The PNG figures written so far."""
        return [p for p in self.written if p.suffix == ".png"]


@dataclass(frozen=True)
class _Best:
    """The best cell and the single-run command that reproduces it (its first seed)."""

    cell: dict[str, Any]
    command: str


def _completed(rows: Sequence[TrialRow]) -> list[TrialRow]:
    """The trials that completed with an objective value."""
    return [r for r in rows if r.state == "COMPLETE" and r.value is not None]


def _flat_trial(d: dict[str, Any], spec: StudySpec) -> dict[str, Any]:
    """One trial (``asdict`` of a :class:`TrialRow`) as a CSV row: params and extras as columns."""
    return (
        {k: v for k, v in d.items() if k not in ("params", "metrics")}
        | {p.field: d["params"].get(p.field) for p in spec.params}
        | {k: d["metrics"].get(k) for k in spec.extra_metrics}
    )


def _write_tables(
    files: _ReportFiles, rows: Sequence[TrialRow], table: Sequence[dict[str, Any]], spec: StudySpec
) -> None:
    """``trials.json``/``.csv`` (one row per trial) and ``cells.json``/``.csv``/``.md``."""
    trial_dicts = [asdict(r) for r in rows]
    for d in trial_dicts:
        d.pop("curve")
    files.text("trials.json", json.dumps(trial_dicts, indent=2) + "\n")
    files.text("trials.csv", _csv([_flat_trial(d, spec) for d in trial_dicts]))
    files.text("cells.json", json.dumps(table, indent=2) + "\n")
    files.text("cells.csv", _csv([_flat_cell(r, spec) for r in table]))
    files.text("cells.md", markdown_table(table, spec))


def _write_best(files: _ReportFiles, best: dict[str, Any] | None, spec: StudySpec) -> _Best | None:
    """``best.json``: the best cell, its objective, the command and full config of its first
    completed seed (``None`` and no file when no cell completed a seed)."""
    if best is None:
        return None
    seed = best["seeds"][0] if best["seeds"] else spec.seeds[0]
    config = asdict(spec.run_config(best["params"], seed))
    command = reproduce_command(spec, best["params"], seed)
    objective = {"metric": spec.objective.metric, "mean": best["mean"], "std": best["std"]}
    best_json = {
        "cell": best["cell"],
        "params": best["params"],
        "objective": objective,
        "n": best["n"],
        "metrics": best["metrics"],
        "command": command,
        "config": config,
    }
    files.json("best.json", best_json)
    return _Best(cell=best, command=command)


def _write_figures(
    files: _ReportFiles,
    done: Sequence[TrialRow],
    table: Sequence[dict[str, Any]],
    spec: StudySpec,
    folder: Path | None,
) -> None:
    """Objective against each parameter, parallel coordinates and the best cells' learning
    curves, from the completed trials ``done``."""
    metric = spec.objective.metric
    values = [r.value for r in done if r.value is not None]
    for p in spec.params:
        figure = objective_vs_param(
            [r.params[p.field] for r in done],
            values,
            name=p.field,
            metric=metric,
            categories=None if p.is_range else list(p.choices),
            log=p.log,
        )
        files.figure(f"objective_vs_{p.field.replace('.', '_')}.png", figure)
    columns = _parallel_columns(done, spec)
    files.figure("parallel_coordinates.png", parallel_coordinates(columns, values, metric=metric))
    curves = _best_curves(done, table, metric, folder)
    if curves:
        files.figure("learning_curves.png", learning_curves(curves, metric=metric))


def _parallel_columns(
    done: Sequence[TrialRow], spec: StudySpec
) -> list[tuple[str, Sequence[float], Sequence[str] | None]]:
    """One parallel-coordinates axis per parameter: short name, positions, tick labels."""
    columns: list[tuple[str, Sequence[float], Sequence[str] | None]] = []
    for p in spec.params:
        pos, labels = _positions(p, [r.params[p.field] for r in done])
        name = p.field.rsplit(".", 1)[-1] + (" (log)" if p.log else "")
        columns.append((name, pos, labels))
    return columns


def _best_curves(
    done: Sequence[TrialRow], table: Sequence[dict[str, Any]], metric: str, folder: Path | None
) -> list[tuple[str, list[int], list[float]]]:
    """The learning curve of every completed trial of the three best cells, labelled by cell."""
    curves = []
    for cell in [r for r in table if r["n"] > 0][:3]:
        for r in done:
            if r.cell == cell["cell"]:
                c = _run_curve(folder, r, metric)
                if c:
                    curves.append((cell["label"], [e for e, _ in c], [v for _, v in c]))
    return curves


def _report_markdown(
    study: Any,
    spec: StudySpec,
    url: str,
    table: Sequence[dict[str, Any]],
    best: _Best | None,
    importances: dict[str, float] | None,
    pngs: Sequence[Path],
) -> str:
    """``report.md``: what was studied, the status, the table, then the optional sections."""
    md = [f"# Study `{spec.name}`", ""]
    if spec.description:
        md += [spec.description, ""]
    select = "validation-selected" if spec.objective.select == "best" else "last"
    md += [
        f"{spec.kind} study on preset `{spec.base}`, {len(spec.seeds)} seed(s) per cell, "
        f"objective `{spec.objective.metric}` ({spec.objective.direction}, value at the "
        f"{select} epoch). "
        "Mean ± sample std over seeds; n = completed seeds.",
        "",
        "```",
        status_text(study, spec, url) if url else "",
        "```",
        "",
        markdown_table(table, spec),
    ]
    if best is not None:
        md += ["## Best configuration", "", f"`{best.cell['cell']}` ({best.cell['label']}):", ""]
        md += ["```sh", best.command, "```", ""]
    if importances is not None:
        md += ["## Parameter importance (fANOVA)", ""]
        md += [f"- `{k}`: {v:.3f}" for k, v in importances.items()] + [""]
    if pngs:
        md += ["## Figures", ""] + [f"![{p.stem}](figures/{p.name})" for p in pngs] + [""]
    return "\n".join(md)
