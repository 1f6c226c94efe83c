"""``mnistmax data list|fetch|info`` run in-process (no network: tiny synthetic datasets)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mnistmax.cli.main import main
from mnistmax.data import catalog
from mnistmax.data.catalog import Fallback

from . import NAME, Tiny, flip_byte, make_tiny


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNISTMAX_DATA", str(tmp_path / "cache"))


@pytest.fixture
def only_tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tiny:
    """The catalogue holds just ``tiny`` (a gzip-folder source) and ``mnist-mini``, so ``all``
    cannot reach for the network."""
    t = make_tiny()
    deb = t.write_dir(tmp_path / "deb")
    info = t.info(fallbacks=(Fallback("debian-package", "dataset-tiny-test", str(deb)),))
    monkeypatch.setattr(
        catalog, "DATASETS", {NAME: info, "mnist-mini": catalog.DATASETS["mnist-mini"]}
    )
    return t


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("mnist", "fashion-mnist", "mnist-mini"):
        assert name in out
    assert "embedded" in out


def test_unknown_dataset_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in (["data", "fetch", "--dataset", "nope"], ["data", "info", "--dataset", "nope"]):
        assert main(cmd) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith("mnistmax: error: unknown dataset 'nope'; choose one of: mnist,")


def test_fetch_all_then_info(
    only_tiny: Tiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "elsewhere"
    assert main(["data", "fetch", "--dataset", "all", "--data-root", str(root), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert f"tiny: verified in {root / NAME}" in out and err == ""
    assert main(["data", "info", "--dataset", NAME, "--data-root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "status:   verified" in out and str(root / NAME) in out
    assert "total  20     10" in out


def test_info_flags_corruption_with_exit_1(
    only_tiny: Tiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "fetch", "--dataset", NAME, "--quiet"]) == 0
    flip_byte(tmp_path / "cache" / NAME / "test-images.idx")
    capsys.readouterr()
    assert main(["data", "info"]) == 1
    out = capsys.readouterr().out
    assert "status:   corrupt" in out and "repair with `mnistmax data fetch --dataset tiny`" in out
    assert main(["data", "fetch", "--dataset", NAME, "--quiet"]) == 0
    assert main(["data", "info", "--dataset", NAME]) == 0


def test_fetch_failure_is_one_line_exit_2(
    only_tiny: Tiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for f in (tmp_path / "deb").iterdir():
        f.unlink()
    assert main(["data", "fetch", "--dataset", NAME, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "could not fetch tiny" in err and "apt-get install dataset-tiny-test" in err


def test_info_mini_shows_class_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "info", "--dataset", "mnist-mini"]) == 0
    out = capsys.readouterr().out
    assert "status:   verified" in out and "total  2000   1000" in out


def test_data_without_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data"]) == 2
    assert "fetch" in capsys.readouterr().out


def test_cli_module_imports_no_numpy() -> None:
    code = "import sys, mnistmax.cli.data_cmd; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
