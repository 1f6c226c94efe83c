"""A feature whose extra is not installed says so in one sentence that names the extra.

Each case hides the extra's packages (``sys.modules[name] = None`` makes ``import name`` fail as
if it were not installed) and runs the CLI command that needs them: exit 2, one line on stderr,
no traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mnistmax.cli.main import main
from mnistmax.errors import ConfigError
from mnistmax.extras import EXTRAS, require


def _hide(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``modules`` unimportable, and forget the mnistmax modules that checked for them."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)
    for name in [m for m in sys.modules if m.startswith("mnistmax.studies")]:
        monkeypatch.delitem(sys.modules, name)


def _one_sentence(err: str, extra: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("mnistmax: error: ")
    assert f"the '{extra}' extra" in lines[0] and f"pip install 'mnistmax[{extra}]'" in lines[0]
    assert "Traceback" not in err


CASES = {
    "t-SNE report": (
        ("openTSNE",),
        "maps",
        ["report", "{tmp}", "--out", "{tmp}/r", "--maps", "tsne"],
    ),
    "UMAP map": (("umap",), "maps", ["viz", "{tmp}", "--kind", "umap"]),
    "study": (("optuna",), "studies", ["study", "status", "s", "--root", "{tmp}"]),
    "PostgreSQL": (
        ("psycopg2", "psycopg"),
        "studies",
        ["study", "status", "s", "--storage", "postgresql://u:p@127.0.0.1:9/db"],
    ),
    "TensorBoard": (
        ("tensorboard",),
        "tensorboard",
        [
            "train",
            "triplet",
            "--preset",
            "triplet_quick",
            "--out",
            "{tmp}/run",
            "--quiet",
            "--no-eval",
            "--set",
            "train.epochs=1",
            "--set",
            "train.steps_per_epoch=1",
            "--set",
            "train.tensorboard=true",
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_missing_extra_is_one_sentence_naming_it(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    modules, extra, argv = CASES[case]
    _hide(monkeypatch, *modules)
    code = main([a.format(tmp=tmp_path) for a in argv])
    _one_sentence(capsys.readouterr().err, extra)
    assert code == 2


@pytest.mark.parametrize("extra", list(EXTRAS))
def test_require_names_the_extra_of_each_module(
    extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in EXTRAS[extra]:
        monkeypatch.setitem(sys.modules, module, None)
        with pytest.raises(ConfigError, match=rf"need the '{extra}' extra.*mnistmax\[{extra}\]"):
            require(module, extra, "this feature")


def test_require_returns_an_installed_module_and_refuses_a_wrong_extra() -> None:
    assert require("optuna", "studies", "studies").__name__ == "optuna"
    with pytest.raises(ValueError):
        require("optuna", "maps", "maps")


def test_report_maps_default_to_pca_without_the_maps_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mnistmax.cli.report_cmd import _maps

    assert _maps(None) == ("pca", "tsne", "umap")
    assert capsys.readouterr().err == ""
    _hide(monkeypatch, "umap")
    assert _maps(None) == ("pca", "tsne")
    assert "draws pca, tsne maps only" in capsys.readouterr().err
    _hide(monkeypatch, "openTSNE")
    assert _maps(None) == ("pca",)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'mnistmax[maps]'" in err
    assert _maps(None, quiet=True) == ("pca",) and capsys.readouterr().err == ""
