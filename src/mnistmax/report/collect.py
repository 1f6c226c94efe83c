"""Find and read run folders: single runs, and any folder that holds run folders.

A run folder is a folder with ``config.json`` (made by ``mnistmax train``, ``mnistmax denoise
train``, a study or the review). Anything else given to the report is searched for run folders
a few levels deep, so a study (``trials/*/``), a review (``runs/*/``) or a plain folder of runs
all work without the report knowing their layout. A run without ``eval.json`` is unfinished: it
is listed as skipped, never half-reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistmax.config import RunConfig, run_config_from_dict
from mnistmax.errors import ConfigError, MnistmaxError
from mnistmax.families import family_of
from mnistmax.io import read_json

#: How deep below a given folder run folders are looked for (study/trials/NAME is depth 2).
MAX_DEPTH = 4
FIGURE_SUFFIXES = (".gif", ".png", ".svg", ".jpg", ".jpeg")
#: Sub-folders of figures/ whose files are frames of an animation already shown as a GIF.
FRAME_FOLDERS = ("pca_frames",)


@dataclass
class RunRecord:
    """Everything the report needs from one finished run folder."""

    path: Path
    name: str
    group: str
    config: dict[str, Any]
    cfg: RunConfig
    meta: dict[str, Any]
    eval: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    train: dict[str, Any] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
    frame_files: int = 0

    @property
    def method(self) -> str:
        return self.cfg.method

    @property
    def preset(self) -> str:
        return self.cfg.preset

    @property
    def seed(self) -> int:
        return self.cfg.train.seed


@dataclass
class Collection:
    """The finished runs found, and the folders skipped with the reason."""

    runs: list[RunRecord]
    skipped: list[tuple[Path, str]]


def is_run_dir(path: Path) -> bool:
    """A folder with a ``config.json`` is a run folder."""
    return (path / "config.json").is_file()


def _walk(root: Path, depth: int) -> Iterable[Path]:
    if is_run_dir(root):
        yield root
        return
    if depth >= MAX_DEPTH:
        return
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return
    for child in children:
        yield from _walk(child, depth + 1)


def _figures(run: Path) -> tuple[list[Path], int]:
    folder = run / "figures"
    if not folder.is_dir():
        return [], 0
    found, frames = [], 0
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.suffix.lower() not in FIGURE_SUFFIXES or p.name.startswith("."):
            continue
        if any(part in FRAME_FOLDERS for part in p.relative_to(folder).parts[:-1]):
            frames += 1
            continue
        found.append(p)
    # Animations first, then the dashboard, then the rest by name.
    found.sort(key=lambda p: (p.suffix != ".gif", p.stem != "dashboard", str(p)))
    return found, frames


def _epoch_records(path: Path) -> list[dict[str, Any]]:
    file = path / "metrics.jsonl"
    if not file.is_file():
        return []
    out = []
    for line in file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue  # never torn (atomic writes), but a hand-edited file should not kill a report
        if record.get("kind") == "epoch":
            out.append(record)
    return out


def read_run(path: Path, name: str, group: str = "") -> RunRecord:
    """Read one finished run folder.

    Raises:
        ConfigError: The folder has no ``eval.json`` or its files cannot be read.
    """
    if not (path / "eval.json").is_file():
        raise ConfigError(f"{path} has no eval.json (unfinished run)")
    try:
        config = read_json(path / "config.json")
        cfg = run_config_from_dict(config)
        ev = read_json(path / "eval.json")
        meta = read_json(path / "meta.json") if (path / "meta.json").is_file() else {}
        train = read_json(path / "train.json") if (path / "train.json").is_file() else {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} could not be read ({exc})") from None
    figures, frames = _figures(path)
    ev = family_of(cfg.method).upgrade_eval(cfg, ev)
    return RunRecord(
        path=path,
        name=name,
        group=group,
        config=config,
        cfg=cfg,
        meta=meta,
        eval=ev,
        history=_epoch_records(path),
        train=train,
        figures=figures,
        frame_files=frames,
    )


def _unique_names(found: list[tuple[Path, Path]]) -> list[str]:
    """Short display names: the path below the folder given, lengthened (with the folders
    above it) until no two runs share a name."""
    full = [run.resolve().parts for run, _ in found]
    names = []
    for i, (run, root) in enumerate(found):
        k = max(1, len(run.relative_to(root).parts)) if run != root else 1
        while k < len(full[i]) and any(
            j != i and full[j][-k:] == full[i][-k:] for j in range(len(full))
        ):
            k += 1
        names.append("/".join(full[i][-k:]))
    return names


def collect(paths: Sequence[str | Path]) -> Collection:
    """Finished runs under ``paths`` (run folders or folders holding them), in order.

    Raises:
        ConfigError: A path does not exist, is not a folder, or no finished run is found.
    """
    if not paths:
        raise ConfigError("no folders given; pass run folders or folders holding run folders")
    found: list[tuple[Path, Path]] = []
    for raw in paths:
        root = Path(raw)
        if not root.exists():
            raise ConfigError(
                f"{root} does not exist; pass run folders or folders holding them (a study, a review)"
            )
        if not root.is_dir():
            raise ConfigError(f"{root} is not a folder; pass run folders or folders holding them")
        runs = list(_walk(root, 0))
        if not runs:
            raise ConfigError(
                f"{root} holds no run folders (no config.json up to {MAX_DEPTH} levels down); "
                "train one with `mnistmax train` or `mnistmax review`"
            )
        for run in runs:
            if all(run.resolve() != f.resolve() for f, _ in found):
                found.append((run, root))
    names = _unique_names(found)
    records: list[RunRecord] = []
    skipped: list[tuple[Path, str]] = []
    for (run, root), name in zip(found, names, strict=True):
        group = root.name if run != root else ""
        try:
            records.append(read_run(run, name, group))
        except MnistmaxError as exc:
            skipped.append((run, str(exc)))
    if not records:
        reasons = "; ".join(f"{p}: {r}" for p, r in skipped[:3])
        raise ConfigError(f"no finished run (with eval.json) among the folders given ({reasons})")
    return Collection(records, skipped)
