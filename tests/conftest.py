"""Shared fixtures of every test: an isolated data root, so baseline caches never touch the user's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_data_root(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    root = tmp_path_factory.getbasetemp() / "mnistmax-data"
    monkeypatch.setenv("MNISTMAX_DATA", str(root))
    return root
