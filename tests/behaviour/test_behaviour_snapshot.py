"""Behaviour unchanged: every preset's config and short-run eval.json match the recorded snapshot.

What is compared and how it was recorded: ``snapshot.py``. A deliberate change (a preset's
hyper-parameter, a new metric, a new preset) is recorded again with the command in its
docstring, in the same commit as the change, so the diff of ``presets_snapshot.json`` shows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.behaviour.snapshot import SNAPSHOT, run_preset, snapshot_config

from mnistmax.recipes import preset_names

RECORDED: dict[str, Any] = json.loads(SNAPSHOT.read_text())
HOW = "if the change is deliberate, record it again: see tests/behaviour/snapshot.py"


def _approx(value: Any) -> Any:
    """Floats equal to 1e-6 relative (BLAS may round the last bits differently), NaN equal to
    NaN (a metric with nothing to measure); all else exact."""
    if isinstance(value, dict):
        return {k: _approx(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_approx(v) for v in value]
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-6, abs=1e-9, nan_ok=True)
    return value


def test_the_snapshot_holds_every_preset() -> None:
    assert sorted(RECORDED) == sorted(preset_names()), HOW


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_preset_config_is_unchanged(name: str) -> None:
    assert snapshot_config(name) == RECORDED[name]["config"], HOW


@pytest.fixture(scope="module")
def own_data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Caches (baselines, the denoisers' reference classifier) made by these runs alone, at one
    thread, as when recording: another test's cache, made at two threads, differs in the last
    digits."""
    return tmp_path_factory.mktemp("snapshot-data")


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_preset_evaluates_as_recorded(
    name: str, tmp_path: Path, own_data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MNISTMAX_DATA", str(own_data_root))
    got = run_preset(name, tmp_path / name)
    want = RECORDED[name]["eval"]
    assert sorted(got) == sorted(want), HOW
    assert got == _approx(want), HOW
