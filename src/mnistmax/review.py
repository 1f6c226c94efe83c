"""``mnistmax review``: run every method at a budget, reuse finished runs, build the report.

A budget is a list of (preset, overrides, seeds). Each run goes to ``OUT/runs/<name>_s<seed>``;
a folder that already holds ``eval.json`` is reused as it is, an interrupted one is resumed
(each family's ``train`` continues from the last checkpoint), so running the review
again after a crash or with a bigger budget only trains what is missing. The report is then
built from ``OUT/runs`` into ``OUT/report``.

Budgets (wall time on the 2-core reference CPU; see docs/review.md for measurements):

* ``quick`` (≤ 5 min): every method on the embedded ``mnist-mini`` through its ``*_quick``
  preset, few-shot limited to the table's 10 shots. Smoke-test numbers, not a comparison.
* ``standard`` (32.5 min measured on the 2-core CPU; target ≤ 1 h): full MNIST.
  ``triplet_fast`` with few-shot and k-means on, the six ``*_standard`` self-supervised presets
  (4 epochs, 410k views each: 200–349 s wall measured) and ``dae_best`` cut from 6 to 3
  epochs. Under load the machine is 3–5× slower and it does not fit.
* ``full`` (hours): ``triplet_full``, ``triplet_fast``, the six ``*_standard`` presets at twice
  the epochs with fine-tuning transfer, ``dae_best`` and ``dae_ablation``, three seeds each
  (mean ± std in the table).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from mnistmax.config import RunConfig, apply_overrides
from mnistmax.errors import ConfigError, MnistmaxError
from mnistmax.presets import in_review


@dataclass(frozen=True)
class ReviewItem:
    """One configuration of a budget, run once per seed."""

    preset: str
    overrides: tuple[str, ...] = ()
    seeds: tuple[int, ...] = (0,)
    name: str = ""  # folder stem; default: the preset

    @property
    def stem(self) -> str:
        return self.name or self.preset


#: Each budget's runs, from the presets that say they run in it (``preset(review=...)``).
BUDGETS: dict[str, tuple[ReviewItem, ...]] = {
    budget: tuple(ReviewItem(name, r.overrides, r.seeds) for name, r in in_review(budget))
    for budget in ("quick", "standard", "full")
}
#: Test digits per class in the report's explorer (t-SNE/UMAP cost grows with the count).
EXPLORER_PER_CLASS = {"quick": 50, "standard": 100, "full": 100}


@dataclass(frozen=True)
class PlannedRun:
    """One run of a review: its folder and resolved config."""

    item: ReviewItem
    seed: int
    folder: Path
    cfg: RunConfig


@dataclass
class ReviewResult:
    """What a review did."""

    out: Path
    report: Path | None
    trained: list[Path] = field(default_factory=list)
    reused: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0


def plan(
    budget: str,
    out: str | Path,
    *,
    device: str = "auto",
    data_root: str | None = None,
) -> list[PlannedRun]:
    """The runs of ``budget`` with their folders under ``out/runs`` and resolved configs."""
    from mnistmax.presets import get_preset

    if budget not in BUDGETS:
        raise ConfigError(f"unknown budget {budget!r}; choose one of {', '.join(BUDGETS)}")
    runs = []
    for item in BUDGETS[budget]:
        base = apply_overrides(get_preset(item.preset), list(item.overrides))
        for seed in item.seeds:
            cfg = replace(base, train=replace(base.train, seed=seed, device=device))
            if data_root is not None:
                cfg = replace(cfg, data=replace(cfg.data, root=data_root))
            runs.append(PlannedRun(item, seed, Path(out) / "runs" / f"{item.stem}_s{seed}", cfg))
    return runs


def _same_config(folder: Path, cfg: RunConfig) -> bool:
    from mnistmax.io import read_json

    stored = read_json(folder / "config.json")
    want = dataclasses.asdict(cfg)
    for d in (stored, want):  # where it ran is not what it is
        d.get("train", {}).pop("device", None)
        d.get("data", {}).pop("root", None)
    return bool(stored == _jsonable(want))


def _jsonable(obj: object) -> object:
    import json

    return json.loads(json.dumps(obj))


def run_review(
    budget: str,
    out: str | Path,
    *,
    device: str = "auto",
    data_root: str | None = None,
    quiet: bool = True,
    report: bool = True,
    maps: Sequence[str] = ("pca", "tsne", "umap"),
    per_class: int | None = None,
    threads: int | None = None,
    log: Callable[[str], None] = print,
) -> ReviewResult:
    """Run (or reuse) every run of ``budget`` under ``out/runs``, then write ``out/report``.

    A run that fails with a mnistmax error (e.g. a dataset that cannot be fetched) is logged and
    left out of the report; the others still run. ``threads`` sets torch's intra-op threads for
    the review (restored afterwards); ``None`` keeps torch's default.

    Raises:
        ConfigError: Unknown budget, or a run folder holds a different config than planned.
    """
    import torch

    planned = plan(budget, out, device=device, data_root=data_root)
    before = torch.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise ConfigError(f"threads must be at least 1, not {threads}")
        torch.set_num_threads(threads)
    try:
        return _run(planned, budget, out, quiet=quiet, report=report, maps=maps,
                    per_class=per_class, log=log)  # fmt: skip
    finally:
        torch.set_num_threads(before)


def _run(
    planned: list[PlannedRun],
    budget: str,
    out: str | Path,
    *,
    quiet: bool,
    report: bool,
    maps: Sequence[str],
    per_class: int | None,
    log: Callable[[str], None],
) -> ReviewResult:
    from mnistmax.families import family_of

    tic = time.perf_counter()
    result = ReviewResult(out=Path(out), report=None)
    for i, p in enumerate(planned, 1):
        head = f"[{i}/{len(planned)}] {p.folder.name}"
        if (p.folder / "eval.json").is_file():
            log(f"{head}: reused (eval.json present)")
            result.reused.append(p.folder)
            continue
        if (p.folder / "config.json").is_file() and not _same_config(p.folder, p.cfg):
            raise ConfigError(
                f"{p.folder} holds a run with a different config than the {budget} budget plans; "
                "move it away or pick another --out"
            )
        log(f"{head}: training ({p.cfg.method}, preset {p.cfg.preset})")
        t0 = time.perf_counter()
        try:
            family_of(p.cfg.method).train(p.cfg, p.folder, quiet=quiet)
        except MnistmaxError as exc:
            log(f"{head}: failed: {exc}")
            result.failed.append((p.folder, str(exc)))
            continue
        log(f"{head}: done in {time.perf_counter() - t0:.1f} s")
        result.trained.append(p.folder)
    if report and (result.trained or result.reused):
        from mnistmax.report import build_report

        rep = build_report(
            [Path(out) / "runs"],
            Path(out) / "report",
            maps=maps,
            per_class=per_class or EXPLORER_PER_CLASS.get(budget, 100),
            log=log,
        )
        result.report = rep.index
    result.seconds = time.perf_counter() - tic
    log(
        f"review {budget}: {len(result.trained)} trained, {len(result.reused)} reused, "
        f"{len(result.failed)} failed in {result.seconds:.1f} s"
        + (f"; report: {result.report}" if result.report else "")
    )
    return result
