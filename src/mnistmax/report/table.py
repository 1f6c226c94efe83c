"""The performance summary: one row per configuration (mean ± std over seeds), with baselines.

Runs whose resolved configs differ only in ``train.seed`` (and where they ran: ``train.device``,
``data.root``) form one row; every number is then the mean ± sample std over those runs, with n.
Baselines come from the runs' own ``eval.json``: raw pixels, PCA-50 and the random-init encoder
for representation runs (computed by ``mnistmax.representation.baselines`` under the same protocol), the noisy
input and the classical filters for denoisers (same noise draw as the model).

Rows are grouped by dataset (catalogue order): each dataset's method rows, then its baselines;
"best" is marked within a dataset, never across (90% on Fashion-MNIST is not worse than 99% on
MNIST in any useful sense).
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mnistmax.config import override_text
from mnistmax.data import catalog
from mnistmax.errors import ConfigError
from mnistmax.eval.metric import Metric
from mnistmax.families import families, family_of
from mnistmax.methods import build_method, method_class, method_names
from mnistmax.recipes import get_preset
from mnistmax.report.collect import RunRecord

#: Keys that say where or with which seed a run ran, not what it is.
NON_IDENTITY_KEYS = ("train.seed", "train.device", "data.root")

# Columns every run fills (its facts, not declared metrics; no best is marked in them).
PARAMS = Metric("params", "params", "int", higher_is_better=None)
TRAIN_LOSS = Metric("train_loss", "train loss", "f4", higher_is_better=None)
VAL_LOSS = Metric("val_loss", "val loss", "f4", higher_is_better=None)
WALL_S = Metric("wall_s", "wall s", "f1", higher_is_better=None)
IMG_S = Metric("img_s", "img/s", "int", higher_is_better=None)


def columns() -> tuple[Metric, ...]:
    """The table's numeric columns: params and losses, every family's declared metrics (in
    family order), then wall time and throughput. A row's values are keyed by metric name."""
    declared = [m for fam in families() for m in fam.report_metrics()]
    return (PARAMS, TRAIN_LOSS, VAL_LOSS, *declared, WALL_S, IMG_S)


@dataclass
class Row:
    """One table row: a configuration over its seeds, or a baseline."""

    label: str
    method: str
    kind: str  # "method" | "baseline"
    data: str = ""
    labels: str = ""
    values: dict[str, list[float]] = field(default_factory=dict)
    runs: list[RunRecord] = field(default_factory=list)
    note: str = ""
    dataset: str = ""  # catalogue name of the runs' dataset (the table's groups)

    @property
    def n(self) -> int:
        return (
            len(self.runs)
            if self.kind == "method"
            else max((len(v) for v in self.values.values()), default=0)
        )

    def cell(self, column: Metric) -> str:
        return column.format(self.values.get(column.name, []))

    def mean(self, key: str) -> float | None:
        vals = self.values.get(key, [])
        return statistics.fmean(vals) if vals else None


# ------------------------------------------------------------------ config identity and labels


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"lr": 1}}`` → ``{"train.lr": 1}``."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out |= flatten(v, key + ".")
        else:
            out[key] = list(v) if isinstance(v, tuple) else v
    return out


def identity_key(run: RunRecord) -> str:
    """Runs with the same key differ only by seed (and where they ran)."""
    flat = {k: v for k, v in flatten(run.config).items() if k not in NON_IDENTITY_KEYS}
    return json.dumps(flat, sort_keys=True, default=str)


def overrides_from_preset(run: RunRecord) -> list[str] | None:
    """``section.field=value`` that turn the run's preset into its config (``None``: no preset)."""

    if not run.preset:
        return None
    try:
        base = flatten(dataclasses.asdict(get_preset(run.preset)))
    except ConfigError:
        return None
    flat = flatten(run.config)
    return [
        f"{k}={override_text(v)}"
        for k, v in flat.items()
        if k not in NON_IDENTITY_KEYS and k != "preset" and base.get(k) != v
    ]


#: Override keys that change how a run is evaluated, not what is trained.
EVAL_KEYS_PREFIXES = ("eval.", "denoise.eval_", "denoise.noise_seed", "denoise.val_intensity")


def row_label(run: RunRecord, *, with_eval: bool = False) -> str:
    """The preset's name with the overrides that make this config differ from it; evaluation
    overrides only with ``with_eval`` (they are in the provenance command either way)."""
    over = overrides_from_preset(run)
    if over is None:
        return f"{run.method} (custom config)"
    if not with_eval:
        over = [o for o in over if not o.startswith(EVAL_KEYS_PREFIXES)]
    return run.preset + (f" ({', '.join(over)})" if over else "")


def command(run: RunRecord) -> str:
    """The ``mnistmax`` command that makes this run again (into the same folder)."""
    over = overrides_from_preset(run) or []
    parts = [family_of(run.method).train_command(run.method)]
    if run.preset:
        parts.append(f"--preset {run.preset}")
    parts.append(f"--seed {run.seed}")
    parts += [f"--set {o}" for o in over]
    if run.cfg.train.device != "auto":
        parts.append(f"--device {run.cfg.train.device}")
    if run.cfg.data.root:
        parts.append(f"--data-root {run.cfg.data.root}")
    parts.append(f"--out {run.path}")
    return " ".join(parts)


# ------------------------------------------------------------------ per-run values


def train_size(run: RunRecord) -> int | None:
    """Training images the run saw (``None``: a dataset this version does not know)."""
    try:
        return catalog.train_images(run.cfg.data)
    except ConfigError:
        return None


def data_text(run: RunRecord) -> str:
    n = train_size(run)
    text = run.cfg.data.dataset + (f", {n:,} train" if n is not None else "")
    if run.cfg.data.train_per_class is not None:
        text += f" ({run.cfg.data.train_per_class}/class)"
    return text + family_of(run.method).data_note(run.cfg)


def labels_text(run: RunRecord) -> str:
    if method_class(run.method).uses_labels:
        n = train_size(run)
        return f"{n:,}" if n is not None else "yes"
    return "none"


_PARAM_CACHE: dict[str, tuple[int, int]] = {}


def count_parameters(run: RunRecord) -> tuple[int, int]:
    """(parameters of the model used at test time, all trainable parameters) of the run's method.

    The test-time model is the encoder (features ``h``) or the denoiser; the total adds heads,
    projectors and predictors. Counted on a freshly built method (cheap, no weights read).
    """
    key = json.dumps(
        {
            "m": run.method,
            "model": run.config.get("model"),
            "ssl": run.config.get("ssl"),
            "d": run.config.get("denoise"),
            "t": run.config.get("triplet"),
        },
        sort_keys=True,
    )
    if key not in _PARAM_CACHE:
        method = build_method(run.cfg)
        test_time = sum(p.numel() for p in method.inference_module().parameters())
        total = sum(p.numel() for p in method.parameters() if p.requires_grad)
        _PARAM_CACHE[key] = (int(test_time), int(total))
    return _PARAM_CACHE[key]


def _best_record(run: RunRecord) -> dict[str, Any]:
    best = run.eval.get("best_epoch")
    for r in run.history:
        if r.get("epoch") == best:
            return r
    return run.history[-1] if run.history else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def run_values(run: RunRecord) -> dict[str, float]:
    """The numbers of one run under the column names (absent when not measured)."""
    ev = run.eval
    out: dict[str, float] = {PARAMS.name: float(count_parameters(run)[0])}
    rec = _best_record(run)
    for col, name in ((TRAIN_LOSS, "train/loss"), (VAL_LOSS, "val/loss")):
        if (v := _number(rec.get(name))) is not None:
            out[col.name] = v
    for metric in family_of(run.method).report_metrics():
        if (v := _number(ev.get(metric.key()))) is not None:
            out[metric.name] = v
    for col, name in ((WALL_S, "wall_seconds"), (IMG_S, "train_img_per_s")):
        if (v := _number(ev.get(name))) is not None:
            out[col.name] = v
    return out


# ------------------------------------------------------------------ rows


def method_rank(method: str) -> int:
    """Sort key of a method: registration order (triplet, the SSL methods, denoise), then the
    rest (a run of a method this version does not know)."""
    order = method_names()
    return order.index(method) if method in order else len(order)


def method_rows(runs: Sequence[RunRecord]) -> list[Row]:
    """One row per configuration, values over its seeds, ordered by method then label."""
    groups: dict[str, list[RunRecord]] = {}
    for run in runs:
        groups.setdefault(identity_key(run), []).append(run)
    rows = []
    for members in groups.values():
        members.sort(key=lambda r: (r.seed, r.name))
        first = members[0]
        row = Row(
            label=row_label(first),
            method=first.method,
            kind="method",
            data=data_text(first),
            labels=labels_text(first),
            dataset=first.cfg.data.dataset,
            runs=members,
        )
        for run in members:
            for k, v in run_values(run).items():
                row.values.setdefault(k, []).append(v)
        rows.append(row)
    # Two configurations that differ only in evaluation settings: show those settings too.
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.label] = counts.get(r.label, 0) + 1
    for r in rows:
        if counts[r.label] > 1:
            r.label = row_label(r.runs[0], with_eval=True)
    rows.sort(key=lambda r: (method_rank(r.method), r.label))
    return rows


def per_run_rows(runs: Sequence[RunRecord]) -> list[Row]:
    """One row per run folder (the seeds behind the summary rows)."""
    rows = []
    for run in runs:
        row = Row(
            label=run.name,
            method=run.method,
            kind="method",
            data=data_text(run),
            labels=labels_text(run),
            dataset=run.cfg.data.dataset,
            runs=[run],
        )
        row.values = {k: [v] for k, v in run_values(run).items()}
        rows.append(row)
    rows.sort(
        key=lambda r: (dataset_rank(r.dataset), method_rank(r.method), r.runs[0].preset, r.label)
    )
    return rows


def _baseline_names(ev: dict[str, Any]) -> list[str]:
    """Baselines in an eval.json (``baseline/<name>/<metric>`` keys), in order of appearance."""
    return list(dict.fromkeys(k.split("/")[1] for k in ev if k.startswith("baseline/")))


def baseline_rows(runs: Sequence[RunRecord]) -> list[Row]:
    """Baselines found in the runs' eval.json: one row per group the run's family puts them in
    (dataset, baseline, encoder, noise ...); the same draw computed by several runs counts once,
    different draws (the random-init encoder's seeds) are averaged."""
    rows: dict[str, Row] = {}
    draws: dict[str, dict[str, dict[str, float]]] = {}
    order: dict[str, tuple[int, int]] = {}
    fams = [f.name for f in families()]
    for run in runs:
        fam = family_of(run.method)
        for name in _baseline_names(run.eval):
            vals = {
                m.name: v
                for m in fam.report_metrics()
                if (v := _number(run.eval.get(m.baseline_key(name)))) is not None
            }
            if not vals:
                continue
            ref = fam.baseline_ref(run.cfg, run.eval, name, vals)
            if ref.group not in rows:
                rows[ref.group] = Row(
                    ref.label,
                    "baseline",
                    "baseline",
                    ref.data,
                    "—",
                    dataset=run.cfg.data.dataset,
                    note=ref.group,
                )
                known = list(fam.baselines)
                order[ref.group] = (
                    fams.index(fam.name),
                    known.index(name) if name in known else len(known),
                )
            draws.setdefault(ref.group, {}).setdefault(ref.draw, vals)
    for group, row in rows.items():
        for values in draws[group].values():
            for k, v in values.items():
                row.values.setdefault(k, []).append(v)
    return sorted(
        rows.values(),
        key=lambda r: (order[r.note][0], r.data, order[r.note][1], r.label),
    )


def dataset_rank(dataset: str) -> tuple[int, str]:
    """Sort key of a dataset: catalogue order (mnist, fashion-mnist, ...), then unknown names."""
    from mnistmax.data import catalog

    order = catalog.names()
    return (order.index(dataset), "") if dataset in order else (len(order), dataset)


def summary_rows(runs: Sequence[RunRecord]) -> list[Row]:
    """Per dataset (catalogue order): its method rows, then its baseline rows."""
    rows = method_rows(runs) + baseline_rows(runs)
    return sorted(rows, key=lambda r: dataset_rank(r.dataset))  # stable: methods stay first


def dataset_title(dataset: str) -> str:
    """The catalogue's title of ``dataset`` with its name (the name alone when unknown)."""
    from mnistmax.data import catalog

    info = catalog.DATASETS.get(dataset)
    return f"{info.title} ({dataset})" if info is not None else dataset


def by_dataset(rows: Sequence[Row]) -> list[tuple[str, list[Row]]]:
    """``rows`` split into consecutive runs of one dataset, in their order."""
    out: list[tuple[str, list[Row]]] = []
    for r in rows:
        if not out or out[-1][0] != r.dataset:
            out.append((r.dataset, []))
        out[-1][1].append(r)
    return out


# ------------------------------------------------------------------ markdown


def best_cells(rows: Sequence[Row]) -> set[tuple[int, str]]:
    """``(id(row), column name)`` of the best method row per dataset and column with a direction
    (only when at least two method rows of the dataset have a value, so a lone run is not
    "best")."""
    out: set[tuple[int, str]] = set()
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.dataset, []).append(r)
    for group in groups.values():
        out |= _best_in(group)
    return out


def _best_in(rows: Sequence[Row]) -> set[tuple[int, str]]:
    out: set[tuple[int, str]] = set()
    for col in columns():
        if col.higher_is_better is None:
            continue
        sign = 1.0 if col.higher_is_better else -1.0
        scored = [
            (sign * m, r)
            for r in rows
            if r.kind == "method" and (m := r.mean(col.name)) is not None
        ]
        if len(scored) >= 2:
            top = max(m for m, _ in scored)
            out |= {(id(r), col.name) for m, r in scored if m == top}
    return out


HEAD = ("method", "configuration", "data", "labels used")


def markdown_table(
    rows: Sequence[Row], *, with_n: bool = True, first: str = "configuration"
) -> str:
    """The rows as a GitHub markdown table (accuracies in %, mean ± std over n seeds); the best
    method value of each higher-is-better column is in bold."""
    head = [first if h == "configuration" else h for h in HEAD]
    headers = [*head, *(c.label for c in columns())] + (["n"] if with_n else [])
    best = best_cells(rows)
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(HEAD) + "---:|" * (len(columns()) + (1 if with_n else 0)),
    ]
    for r in rows:
        label = r.label if r.kind == "method" else f"*{r.label} (baseline)*"
        method = r.method if r.kind == "method" else "—"
        cells = [method, label.replace("|", "\\|"), r.data, r.labels]
        cells += [f"**{r.cell(c)}**" if (id(r), c.name) in best else r.cell(c) for c in columns()]
        if with_n:
            cells.append(str(r.n))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rows_json(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The rows as plain data (``report.json``): values, means and the run folders behind them."""
    out = []
    for r in rows:
        out.append(
            {
                "label": r.label,
                "method": r.method,
                "kind": r.kind,
                "data": r.data,
                "labels": r.labels,
                "n": r.n,
                "values": r.values,
                "mean": {k: statistics.fmean(v) for k, v in r.values.items() if v},
                "std": {k: statistics.stdev(v) for k, v in r.values.items() if len(v) > 1},
                "runs": [str(run.path) for run in r.runs],
            }
        )
    return out
