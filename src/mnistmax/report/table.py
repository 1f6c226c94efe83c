"""The performance summary: one row per configuration (mean ± std over seeds), with baselines.

Runs whose resolved configs differ only in ``train.seed`` (and where they ran: ``train.device``,
``data.root``) form one row; every number is then the mean ± sample std over those runs, with n.
Baselines come from the runs' own ``eval.json``: raw pixels, PCA-50 and the random-init encoder
for representation runs (computed by ``mnistmax.evaluate`` under the same protocol), the noisy
input and the classical filters for denoisers (same noise draw as the model).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mnistmax.report.collect import RunRecord

#: Keys that say where or with which seed a run ran, not what it is.
NON_IDENTITY_KEYS = ("train.seed", "train.device", "data.root")
#: Methods whose training loss sees labels (every method's monitor uses validation labels).
LABELLED_METHODS = ("triplet", "supcon")
METHOD_ORDER = ("triplet", "simclr", "supcon", "byol", "swav", "vicreg", "barlow_twins", "denoise")
#: The denoising intensity of the table's PSNR/SSIM columns.
DENOISE_LEVEL = 0.5


@dataclass(frozen=True)
class Column:
    """A numeric column: its key in a row's values, header, and how values are shown."""

    key: str
    header: str
    fmt: str  # pct (×100, 2 dp) | f4 | f3 | f2 | f1 | int

    def format(self, values: Sequence[float]) -> str:
        """``mean ± std`` for several values, the value for one, ``—`` for none."""
        if not values:
            return "—"
        scale = 100.0 if self.fmt == "pct" else 1.0
        mean = statistics.fmean(values) * scale
        digits = {"pct": 2, "f4": 4, "f3": 3, "f2": 2, "f1": 1, "int": 0}[self.fmt]
        text = f"{mean:,.{digits}f}" if self.fmt == "int" else f"{mean:.{digits}f}"
        if len(values) > 1:
            std = statistics.stdev(values) * scale
            text += f" ± {std:.{max(digits, 1) if self.fmt == 'int' else digits}f}"
        return text


COLUMNS: tuple[Column, ...] = (
    Column("params", "params", "int"),
    Column("train_loss", "train loss", "f4"),
    Column("val_loss", "val loss", "f4"),
    Column("knn20", "kNN@20", "pct"),
    Column("probe", "linear probe", "pct"),
    Column("fewshot10", "10-shot", "pct"),
    Column("kmeans_acc", "k-means ACC", "pct"),
    Column("kmeans_nmi", "NMI", "pct"),
    Column("kmeans_ari", "ARI", "pct"),
    Column("psnr", f"PSNR @ I={DENOISE_LEVEL}", "f2"),
    Column("ssim", f"SSIM @ I={DENOISE_LEVEL}", "f3"),
    Column("wall_s", "wall s", "f1"),
    Column("img_s", "img/s", "int"),
)

EVAL_KEYS = {
    "knn20": "test/knn@20",
    "probe": "test/linear_probe",
    "fewshot10": "test/fewshot@10",
    "kmeans_acc": "test/kmeans_acc",
    "kmeans_nmi": "test/kmeans_nmi",
    "kmeans_ari": "test/kmeans_ari",
}
REPRESENTATION_BASELINES = {"raw_pixels": "raw pixels", "pca50": "PCA-50 of pixels"}
DENOISE_BASELINES = {
    "noisy": "noisy input",
    "median3": "median 3×3",
    "gauss_blur": "Gaussian blur σ 1",
    "opening": "opening 3×3",
}


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

    @property
    def n(self) -> int:
        return (
            len(self.runs)
            if self.kind == "method"
            else max((len(v) for v in self.values.values()), default=0)
        )

    def cell(self, column: Column) -> str:
        return column.format(self.values.get(column.key, []))

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


def _value_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    if isinstance(v, list | tuple):
        return ",".join(_value_text(x) for x in v)
    return str(v)


def overrides_from_preset(run: RunRecord) -> list[str] | None:
    """``section.field=value`` that turn the run's preset into its config (``None``: no preset)."""
    from mnistmax.errors import ConfigError
    from mnistmax.presets import get_preset

    if not run.preset:
        return None
    try:
        import dataclasses

        base = flatten(dataclasses.asdict(get_preset(run.preset)))
    except ConfigError:
        return None
    flat = flatten(run.config)
    return [
        f"{k}={_value_text(v)}"
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
    head = "mnistmax denoise train" if run.is_denoise else f"mnistmax train {run.method}"
    parts = [head]
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
    """Training images the run saw (after the validation carve and any per-class subset)."""
    from mnistmax.data import catalog
    from mnistmax.errors import ConfigError

    d = run.cfg.data
    try:
        info = catalog.get(d.dataset)
    except ConfigError:
        return None
    if d.train_per_class is not None:
        return d.train_per_class * info.num_classes
    val = info.default_val_size if d.val_size is None else d.val_size
    return info.size("train") - val


def data_text(run: RunRecord) -> str:
    n = train_size(run)
    text = run.cfg.data.dataset + (f", {n:,} train" if n is not None else "")
    if run.cfg.data.train_per_class is not None:
        text += f" ({run.cfg.data.train_per_class}/class)"
    if run.is_denoise:
        text += f"; noise {run.cfg.denoise.noise}"
    return text


def labels_text(run: RunRecord) -> str:
    if run.method in LABELLED_METHODS:
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
        from mnistmax.methods import build_method

        method = build_method(run.cfg)
        part = getattr(method, "model", None) if run.is_denoise else method.encoder
        test_time = sum(p.numel() for p in (part or method).parameters())
        total = sum(p.numel() for p in method.parameters() if p.requires_grad)
        _PARAM_CACHE[key] = (int(test_time), int(total))
    return _PARAM_CACHE[key]


def _best_record(run: RunRecord) -> dict[str, Any]:
    best = run.eval.get("best_epoch") or run.train.get("best_epoch")
    if run.is_denoise and isinstance(run.eval.get("train"), dict):
        best = best or run.eval["train"].get("best_epoch")
    for r in run.history:
        if r.get("epoch") == best:
            return r
    return run.history[-1] if run.history else {}


def denoise_rows_at(
    run: RunRecord, level: float = DENOISE_LEVEL
) -> tuple[str, list[dict[str, Any]]]:
    """(noise, sweep rows at ``level``) for the run's training noise (else ``mixed``, else the
    first swept noise), or ``("", [])`` if the sweep has no row at that level."""
    rows = [
        r for r in run.eval.get("rows", []) if abs(float(r.get("intensity", -1)) - level) < 1e-9
    ]
    noises = [r["noise"] for r in rows]
    for noise in (run.cfg.denoise.noise, "mixed", *noises):
        if noise in noises:
            return noise, [r for r in rows if r["noise"] == noise]
    return "", []


def run_values(run: RunRecord) -> dict[str, float]:
    """The numbers of one run under the column keys (absent when not measured)."""
    ev = run.eval
    out: dict[str, float] = {}
    test_time, _ = count_parameters(run)
    out["params"] = float(test_time)
    rec = _best_record(run)
    for key, name in (("train_loss", "train/loss"), ("val_loss", "val/loss")):
        if isinstance(rec.get(name), int | float):
            out[key] = float(rec[name])
    if run.is_denoise:
        from mnistmax.denoise.evaluation import model_label

        _, rows = denoise_rows_at(run)
        label = model_label(run.cfg)
        for r in rows:
            if r["method"] == label:
                out["psnr"], out["ssim"] = float(r["psnr"]), float(r["ssim"])
        train = ev.get("train") or run.train
        if "train_wall_seconds" in train:
            out["wall_s"] = float(train["train_wall_seconds"]) + float(ev.get("eval_seconds", 0.0))
        if "train_img_per_s" in train:
            out["img_s"] = float(train["train_img_per_s"])
        return out
    for key, name in EVAL_KEYS.items():
        if isinstance(ev.get(name), int | float):
            out[key] = float(ev[name])
    if "wall_seconds" in ev:
        out["wall_s"] = float(ev["wall_seconds"])
    if "train_img_per_s" in ev:
        out["img_s"] = float(ev["train_img_per_s"])
    return out


# ------------------------------------------------------------------ rows


def method_rank(method: str) -> int:
    """Sort key of a method: triplet, the SSL methods, denoise, then the rest."""
    return METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER)


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
            runs=[run],
        )
        row.values = {k: [v] for k, v in run_values(run).items()}
        rows.append(row)
    rows.sort(key=lambda r: (method_rank(r.method), r.runs[0].preset, r.label))
    return rows


def _add_distinct(
    store: dict[str, dict[str, Any]],
    key: str,
    label: str,
    method: str,
    data: str,
    source: str,
    values: dict[str, float],
) -> None:
    entry = store.setdefault(
        key, {"label": label, "method": method, "data": data, "seen": {}, "runs": set()}
    )
    # One baseline computed by several runs (same data, protocol, seed) is the same number:
    # count it once. Different seeds (the random-init encoder) are different draws.
    entry["seen"].setdefault(source, values)


def baseline_rows(runs: Sequence[RunRecord]) -> list[Row]:
    """Baselines found in the runs' eval.json, one row per (baseline, dataset[, encoder])."""
    store: dict[str, dict[str, Any]] = {}
    for run in runs:
        ev, ds = run.eval, run.cfg.data.dataset
        if run.is_denoise:
            from mnistmax.denoise.evaluation import model_label

            noise, rows = denoise_rows_at(run)
            for r in rows:
                if r["method"] == model_label(run.cfg):
                    continue
                name = DENOISE_BASELINES.get(r["method"], r["method"])
                key = f"denoise/{ds}/{run.cfg.denoise.track}/{noise}/{r['method']}"
                source = json.dumps(
                    [run.cfg.denoise.noise_seed, run.eval.get("test_images")], sort_keys=True
                )
                _add_distinct(
                    store,
                    key,
                    name,
                    "denoise",
                    f"{ds}; noise {noise}",
                    source,
                    {"psnr": float(r["psnr"]), "ssim": float(r["ssim"])},
                )
            continue
        for base, name in [*REPRESENTATION_BASELINES.items(), ("random_init", "")]:
            prefix = f"baseline/{base}/"
            vals = {
                col: float(ev[prefix + k.split("/", 1)[1]])
                for col, k in EVAL_KEYS.items()
                if isinstance(ev.get(prefix + k.split("/", 1)[1]), int | float)
            }
            if not vals:
                continue
            if base == "random_init":
                m = run.cfg.model
                name = f"random-init {m.encoder} ({m.embed_dim}-d)"
                key = f"rep/{ds}/random_init/{m.encoder}/{m.embed_dim}/{m.dropout}"
                source = str(run.seed)
            else:
                key = f"rep/{ds}/{base}"
                source = json.dumps(vals, sort_keys=True)
            _add_distinct(store, key, name, "baseline", ds, source, vals)
    out_rows = []
    for key, entry in store.items():
        row = Row(
            label=entry["label"],
            method=entry["method"],
            kind="baseline",
            data=entry["data"],
            labels="—",
        )
        for values in entry["seen"].values():
            for k, v in values.items():
                row.values.setdefault(k, []).append(v)
        row.note = key
        out_rows.append(row)
    order = [*REPRESENTATION_BASELINES.values(), *DENOISE_BASELINES.values()]
    out_rows.sort(
        key=lambda r: (
            r.note.startswith("denoise"),
            r.data,
            order.index(r.label) if r.label in order else len(order),
            r.label,
        )
    )
    return out_rows


def summary_rows(runs: Sequence[RunRecord]) -> list[Row]:
    """Method rows, then baseline rows."""
    return method_rows(runs) + baseline_rows(runs)


# ------------------------------------------------------------------ markdown

#: Columns where a higher mean is better (the best method row is marked).
HIGHER_IS_BETTER = ("knn20", "probe", "fewshot10", "kmeans_acc", "kmeans_nmi", "kmeans_ari",
                    "psnr", "ssim")  # fmt: skip


def best_cells(rows: Sequence[Row]) -> set[tuple[int, str]]:
    """``(id(row), column key)`` of the best method row per higher-is-better column (only when
    at least two method rows have a value, so a lone run is not "best")."""
    out: set[tuple[int, str]] = set()
    for key in HIGHER_IS_BETTER:
        scored = [(m, r) for r in rows if r.kind == "method" and (m := r.mean(key)) is not None]
        if len(scored) >= 2:
            top = max(m for m, _ in scored)
            out |= {(id(r), key) for m, r in scored if m == top}
    return out


HEAD = ("method", "configuration", "data", "labels used")


def markdown_table(
    rows: Sequence[Row], *, with_n: bool = True, first: str = "configuration"
) -> str:
    """The rows as a GitHub markdown table (accuracies in %, mean ± std over n seeds); the best
    method value of each higher-is-better column is in bold."""
    head = [first if h == "configuration" else h for h in HEAD]
    headers = [*head, *(c.header for c in COLUMNS)] + (["n"] if with_n else [])
    best = best_cells(rows)
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(HEAD) + "---:|" * (len(COLUMNS) + (1 if with_n else 0)),
    ]
    for r in rows:
        label = r.label if r.kind == "method" else f"*{r.label} (baseline)*"
        method = r.method if r.kind == "method" else "—"
        cells = [method, label.replace("|", "\\|"), r.data, r.labels]
        cells += [f"**{r.cell(c)}**" if (id(r), c.key) in best else r.cell(c) for c in COLUMNS]
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
