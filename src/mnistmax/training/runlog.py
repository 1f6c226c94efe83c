"""Run folders (DESIGN §4): config.json, meta.json, metrics.jsonl/.csv, checkpoints/, figures/.

Every file is written atomically; ``metrics.jsonl`` is rewritten whole (it is small) so a resumed
run can drop records past its checkpoint and never holds a torn line.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import io
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy
import torch

from mnistmax.config import RunConfig, run_config_from_dict
from mnistmax.errors import ConfigError, RunError
from mnistmax.io import read_json, write_json_atomic, write_text_atomic
from mnistmax.version import __version__


def git_revision() -> str | None:
    """The source tree's git revision, if it is a checkout (``+dirty`` when modified)."""
    src = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=src, capture_output=True, text=True, timeout=5
        )
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=src,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


class RunDir:
    """A run folder on disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def figures(self) -> Path:
        return self.path / "figures"

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints / "best.pt"

    def create(self, cfg: RunConfig, device: str, argv: list[str] | None = None) -> None:
        """Make the folder and write config.json and meta.json.

        Raises:
            ConfigError: The folder cannot be made or written (one sentence, nothing trained).
        """
        try:
            self.figures.mkdir(parents=True, exist_ok=True)
            self.checkpoints.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.path / "config.json", dataclasses.asdict(cfg))
        except OSError as exc:
            raise ConfigError(
                f"--out {self.path}: cannot make the run folder there ({exc.strerror or exc}); "
                "choose a folder you can write to"
            ) from None

        meta = {
            "mnistmax": __version__,
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "numpy": numpy.__version__,
            "platform": platform.platform(),
            "device": device,
            "threads": torch.get_num_threads(),
            "git_revision": git_revision(),
            "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "argv": list(sys.argv if argv is None else argv),
        }
        write_json_atomic(self.path / "meta.json", meta)

    def config(self) -> RunConfig:
        """The run's resolved config (a clear error if the folder is not a run)."""
        path = self.path / "config.json"
        if not path.is_file():
            raise RunError(
                f"{self.path} is not a run folder (no config.json); pass a folder made by `mnistmax train`"
            )
        return run_config_from_dict(read_json(path))

    def read_metrics(self) -> list[dict[str, Any]]:
        """All records of metrics.jsonl (empty if none)."""
        path = self.path / "metrics.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def write_metrics(self, records: list[dict[str, Any]]) -> None:
        """Rewrite metrics.jsonl and the per-epoch metrics.csv."""
        write_text_atomic(
            self.path / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in records)
        )
        epochs = [r for r in records if r.get("kind") == "epoch"]
        if epochs:
            keys: list[str] = []
            for r in epochs:
                keys += [k for k in r if k not in keys and k != "kind"]
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=keys, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(epochs)
            write_text_atomic(self.path / "metrics.csv", buf.getvalue())
