"""``mnistmax augment preview`` in-process, on synthetic digits (and mnist-mini when present)."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from augment_helpers import synthetic_digits

from mnistmax.cli.main import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def fake_store(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace ``mnistmax.data.store`` with one serving 100 synthetic digits; records calls."""
    calls: list[dict[str, Any]] = []
    images = (synthetic_digits(100, seed=0)[:, 0].numpy() * 255).round().astype(np.uint8)
    labels = np.arange(100, dtype=np.uint8) % 10

    def load_arrays(
        name: str,
        split: str,
        *,
        root: Any = None,
        fetch_if_missing: bool = True,
        quiet: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        calls.append({"name": name, "split": split, "root": root, "quiet": quiet})
        return images, labels

    module = types.ModuleType("mnistmax.data.store")
    module.load_arrays = load_arrays  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mnistmax.data.store", module)
    return calls


def test_preview_writes_a_png(
    fake_store: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nested" / "dir" / "preview.png"
    argv = ["augment", "preview", "--preset", "digits", "--out", str(out), "--n", "5"]
    argv += ["--views", "3", "--seed", "1", "--data-root", str(tmp_path)]
    assert main(argv) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in out.parent.iterdir()] == ["preview.png"]  # no temp file left behind
    assert fake_store == [
        {"name": "mnist", "split": "train", "root": str(tmp_path), "quiet": False}
    ]
    assert "preview.png" in capsys.readouterr().out


def test_preview_quiet_and_overwrite(
    fake_store: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.png"
    out.write_bytes(b"old")
    assert main(["augment", "preview", "--preset", "none", "--out", str(out), "--quiet"]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert capsys.readouterr().out == ""


def test_unknown_preset_is_a_one_line_error(
    fake_store: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.png"
    assert main(["augment", "preview", "--preset", "wobbly", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "wobbly" in err and "digits" in err
    assert not out.exists() and fake_store == []  # it failed before touching data


def test_bad_counts_and_missing_subcommand(
    fake_store: list[dict[str, Any]], tmp_path: Path
) -> None:
    assert main(["augment", "preview", "--n", "0", "--out", str(tmp_path / "p.png")]) == 2
    assert main(["augment"]) == 2


def test_preview_on_embedded_mnist_mini(tmp_path: Path) -> None:
    try:
        from mnistmax.data.store import load_arrays

        load_arrays("mnist-mini", "train", root=tmp_path, fetch_if_missing=False)
    except Exception as exc:  # the store is being written in parallel; run once it exists
        pytest.skip(f"mnist-mini not available yet: {exc}")
    out = tmp_path / "mini.png"
    argv = ["augment", "preview", "--dataset", "mnist-mini", "--out", str(out), "--quiet"]
    assert main([*argv, "--data-root", str(tmp_path)]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
