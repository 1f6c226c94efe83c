"""The review's budgets (each preset says which budgets run it) and the plan of a budget: its
run folders and resolved configs."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, replace
from pathlib import Path

from mnistmax.config import RunConfig, apply_overrides
from mnistmax.errors import ConfigError
from mnistmax.io import read_json
from mnistmax.recipes import get_preset, in_review


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


def plan(
    budget: str,
    out: str | Path,
    *,
    device: str = "auto",
    data_root: str | None = None,
) -> list[PlannedRun]:
    """The runs of ``budget`` with their folders under ``out/runs`` and resolved configs."""

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


def same_config(folder: Path, cfg: RunConfig) -> bool:
    """Whether the run folder holds ``cfg`` (where it ran, device and data root, aside)."""

    stored = read_json(folder / "config.json")
    want = dataclasses.asdict(cfg)
    for d in (stored, want):  # where it ran is not what it is
        d.get("train", {}).pop("device", None)
        d.get("data", {}).pop("root", None)
    return bool(stored == _jsonable(want))


def _jsonable(obj: object) -> object:

    return json.loads(json.dumps(obj))
