"""``mnistmax report`` and ``mnistmax review`` on bad input: one line, exit status 2."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from report_helpers import fake_run

from mnistmax.cli.main import main


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("mnistmax: error: ") and "\n" not in err, err
    return err


def test_report_of_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "r")]) == 2
    assert "does not exist" in _one_error_line(capsys)
    assert not (tmp_path / "r").exists()


def test_report_of_a_folder_without_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    assert main(["report", str(tmp_path / "empty"), "--out", str(tmp_path / "r")]) == 2
    assert "holds no run folders" in _one_error_line(capsys)


def test_report_of_unfinished_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake_run(tmp_path / "runs" / "a", finished=False)
    assert main(["report", str(tmp_path / "runs"), "--out", str(tmp_path / "r")]) == 2
    assert "no finished run" in _one_error_line(capsys)


def test_report_bad_maps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake_run(tmp_path / "runs" / "a", metrics={"test/knn@20": 0.9})
    argv = ["report", str(tmp_path / "runs"), "--out", str(tmp_path / "r"), "--maps", "pca,isomap"]
    assert main(argv) == 2
    assert "isomap" in _one_error_line(capsys)


def test_report_command_writes_both_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_run(tmp_path / "runs" / "a", metrics={"test/knn@20": 0.9}, embeddings=True)
    out = tmp_path / "r"
    assert main(["report", str(tmp_path / "runs"), "--out", str(out), "--maps", "pca",
                 "--per-class", "10", "--quiet"]) == 0  # fmt: skip
    assert "report of 1 run(s)" in capsys.readouterr().out
    assert (out / "index.html").stat().st_size > 10_000 and (out / "report.md").is_file()


def test_review_dry_run_lists_every_method(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["review", "--dry-run", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    methods = ("triplet", "simclr", "supcon", "byol", "swav", "vicreg", "barlow_twins", "dae")
    assert len(lines) == len(methods)
    for m in methods:
        assert any(f"preset {m}_quick" in line for line in lines), m
    assert all("[to run]" in line for line in lines)


def test_review_refuses_a_folder_with_another_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = fake_run(tmp_path / "runs" / "triplet_quick_s0", finished=False,
                      overrides=["train.epochs=7"])  # fmt: skip
    before = json.loads((folder / "config.json").read_text())
    assert main(["review", "--out", str(tmp_path), "--quiet"]) == 2
    assert "different config" in _one_error_line(capsys)
    assert json.loads((folder / "config.json").read_text()) == before


def test_review_unknown_budget(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["review", "--budget", "huge"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_budgets_resolve() -> None:
    from mnistmax.review import BUDGETS, plan

    for budget in BUDGETS:
        runs = plan(budget, "/tmp/x")
        assert runs and len({p.folder for p in runs}) == len(runs)
        assert {p.cfg.method for p in runs} >= {"triplet", "simclr", "byol", "denoise"}
        for p in runs:
            assert dataclasses.asdict(p.cfg)["train"]["seed"] == p.seed


def test_review_on_another_dataset_swaps_only_the_dataset() -> None:
    from mnistmax.review import plan

    for budget in ("quick", "standard", "full"):
        own = {p.folder.name: p for p in plan(budget, "/tmp/x")}
        moved = plan(budget, "/tmp/x", dataset="fashion-mnist")
        assert len(moved) == len(own)
        for p in moved:
            # Kept apart from the budget's own runs, so both can share one --out.
            assert p.folder.parent == Path("/tmp/x/runs/fashion-mnist")
            base = own[p.folder.name].cfg
            assert p.cfg.data.dataset == "fashion-mnist"
            # A preset on the embedded subset keeps its 150 labelled images per class.
            per_class = 150 if base.data.dataset == "mnist-mini" else base.data.train_per_class
            want = dataclasses.replace(
                base,
                data=dataclasses.replace(
                    base.data, dataset="fashion-mnist", train_per_class=per_class
                ),
            )
            assert p.cfg == want, p.folder
    # Naming the presets' own dataset changes nothing (the same folders are reused).
    assert plan("standard", "/tmp/x", dataset="mnist") == plan("standard", "/tmp/x")


def test_review_dataset_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = ["review", "--dry-run", "--out", str(tmp_path), "--budget", "standard"]
    assert main([*out, "--dataset", "fashion-mnist"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 8
    assert all("/runs/fashion-mnist/" in line and "data.dataset=fashion-mnist" in line
               for line in lines)  # fmt: skip


@pytest.mark.parametrize("name", ["mnist-mini", "no-such-set"])
def test_review_bad_dataset(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "--dry-run", "--out", str(tmp_path), "--dataset", name]) == 2
    assert name in _one_error_line(capsys)
