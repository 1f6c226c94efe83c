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


def dataset_overrides(cfg: RunConfig, dataset: str) -> tuple[str, ...]:
    """The overrides that move preset ``cfg`` to ``dataset``, nothing else changed.

    A preset on an embedded subset (the quick presets' ``mnist-mini``: 150 training images per
    class once its validation carve is taken) keeps that many labelled images per class on the
    new dataset (``data.train_per_class``), so that the quick budget stays a small-data smoke
    test; validation and test are the new dataset's own (its default carve, its full test file).
    A preset already on ``dataset`` needs none.

    Raises:
        ConfigError: ``dataset`` is not in the catalogue, or is an embedded subset.
    """
    from mnistmax.data import catalog

    target = catalog.get(dataset)
    if target.embedded:
        full = [n for n in catalog.names() if not catalog.get(n).embedded]
        raise ConfigError(
            f"--dataset {dataset!r} is an embedded subset, not a dataset to review; "
            f"choose one of: {', '.join(full)}."
        )
    if cfg.data.dataset == dataset:
        return ()
    out = [f"data.dataset={dataset}"]
    source = catalog.get(cfg.data.dataset)
    if source.embedded and cfg.data.train_per_class is None:
        kept = source.size("train") - source.default_val_size
        out.append(f"data.train_per_class={kept // source.num_classes}")
    return tuple(out)


def plan(
    budget: str,
    out: str | Path,
    *,
    device: str = "auto",
    data_root: str | None = None,
    dataset: str | None = None,
) -> list[PlannedRun]:
    """The runs of ``budget`` with their folders under ``out/runs`` and resolved configs.

    ``dataset`` runs every preset of the budget on that catalogue dataset instead of its own
    (:func:`dataset_overrides`); a run moved to another dataset lives in
    ``out/runs/<dataset>/<name>_s<seed>``, so reviews of several datasets can share ``out`` and
    its report groups them by dataset.
    """

    if budget not in BUDGETS:
        raise ConfigError(f"unknown budget {budget!r}; choose one of {', '.join(BUDGETS)}")
    runs = []
    for item in BUDGETS[budget]:
        preset = get_preset(item.preset)
        if dataset is not None:
            item = replace(item, overrides=item.overrides + dataset_overrides(preset, dataset))
        base = apply_overrides(preset, list(item.overrides))
        home = Path(out) / "runs"
        if base.data.dataset != preset.data.dataset:
            home = home / base.data.dataset
        for seed in item.seeds:
            cfg = replace(base, train=replace(base.train, seed=seed, device=device))
            if data_root is not None:
                cfg = replace(cfg, data=replace(cfg.data, root=data_root))
            runs.append(PlannedRun(item, seed, home / f"{item.stem}_s{seed}", cfg))
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
