"""Running a review: train (or reuse, or resume) every planned run, then build the report."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mnistmax.errors import ConfigError, MnistmaxError
from mnistmax.families import family_of
from mnistmax.report import build_report
from mnistmax.review.budgets import EXPLORER_PER_CLASS, PlannedRun, plan, same_config


@dataclass
class ReviewResult:
    """What a review did."""

    out: Path
    report: Path | None
    trained: list[Path] = field(default_factory=list)
    reused: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0


def run_review(
    budget: str,
    out: str | Path,
    *,
    device: str = "auto",
    data_root: str | None = None,
    dataset: str | None = None,
    quiet: bool = True,
    report: bool = True,
    maps: Sequence[str] = ("pca", "tsne", "umap"),
    per_class: int | None = None,
    threads: int | None = None,
    log: Callable[[str], None] = print,
) -> ReviewResult:
    """Run (or reuse) every run of ``budget`` under ``out/runs``, then write ``out/report``.

    A run that fails with a mnistmax error (e.g. a dataset that cannot be fetched) is logged and
    left out of the report; the others still run. ``dataset`` runs every preset on that
    catalogue dataset instead of its own (see :func:`~mnistmax.review.budgets.plan`). ``threads`` sets torch's intra-op threads for
    the review (restored afterwards); ``None`` keeps torch's default.

    Raises:
        ConfigError: Unknown budget, or a run folder holds a different config than planned.
    """

    planned = plan(budget, out, device=device, data_root=data_root, dataset=dataset)
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

    tic = time.perf_counter()
    result = ReviewResult(out=Path(out), report=None)
    for i, p in enumerate(planned, 1):
        head = f"[{i}/{len(planned)}] {p.folder.name}"
        if (p.folder / "eval.json").is_file():
            log(f"{head}: reused (eval.json present)")
            result.reused.append(p.folder)
            continue
        if (p.folder / "config.json").is_file() and not same_config(p.folder, p.cfg):
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
