"""Every script in ``benchmarks/`` and ``scripts/`` still imports: a rename inside the package
(``SUMMARY_KEYS`` moved out of the CLI) must not leave a documented command broken."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("scripts/*.py")])


def _load(path: Path) -> object:
    spec = importlib.util.spec_from_file_location(f"_script_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))  # run_all.py imports its siblings
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def test_there_are_scripts() -> None:
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_imports(path: Path) -> None:
    assert hasattr(_load(path), "main"), f"{path.name} has no main()"


def test_results_table_summarises_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folders = []
    for seed, acc in enumerate((0.90, 0.92, 0.94)):
        folder = tmp_path / f"s{seed}"
        folder.mkdir()
        (folder / "eval.json").write_text(json.dumps({"test/linear_probe": acc}))
        folders.append(str(folder))
    assert _load(ROOT / "scripts/results_table.py").main(folders) == 0  # type: ignore[attr-defined]
    row = next(line for line in capsys.readouterr().out.splitlines() if "linear_probe" in line)
    assert "92.00 ± 2.00" in row and "| 3 |" in row
