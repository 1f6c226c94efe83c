"""The smoke study end to end, in-process through the CLI: run, status, report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from study_helpers import REPO, assert_each_unit_once

from mnistmax.cli.main import main
from mnistmax.studies.engine import load_stored_study
from mnistmax.studies.spec import iter_units, smoke
from mnistmax.studies.storage import default_storage_url


def test_smoke_study_reports_two_seeds_per_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.set_num_threads(1)
    root = tmp_path / "studies"
    spec_path = str(REPO / "studies" / "smoke.toml")
    assert main(["study", "run", spec_path, "--root", str(root), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "units: 8/8 complete" in out

    folder = root / "smoke"
    study, stored = load_stored_study("smoke", default_storage_url(folder))
    assert stored == smoke()
    assert_each_unit_once(study, {f"{c}_seed{s}" for c, _, s in iter_units(smoke())}, folder)
    # Each trial is an ordinary run folder: config, metrics, checkpoints, evaluation.
    for t in study.get_trials():
        run = folder / t.user_attrs["run_dir"]
        cfg = json.loads((run / "config.json").read_text())
        assert cfg["train"]["seed"] == t.user_attrs["seed"]
        assert cfg["triplet"]["miner"] == t.params["triplet.miner"]
        assert (run / "checkpoints" / "best.pt").is_file() and (run / "eval.json").is_file()
        assert 0.5 < t.value <= 1.0  # a trained encoder, far above chance (0.1)
        assert set(t.user_attrs["metrics"]) == {"test/knn@20", "test/knn@1", "train_seconds"}
        assert sorted(t.intermediate_values) == [1, 2]  # the learning curve, in the storage

    # A second run finds nothing to do: no unit is computed twice.
    assert main(["study", "run", spec_path, "--root", str(root), "--quiet"]) == 0
    assert len(load_stored_study("smoke", default_storage_url(folder))[0].trials) == 8

    assert main(["study", "status", "smoke", "--root", str(root)]) == 0
    assert "best cell:" in capsys.readouterr().out

    report = tmp_path / "report"
    assert main(["study", "report", "smoke", "--root", str(root), "--out", str(report)]) == 0
    with open(report / "cells.csv") as fh:
        cells = list(csv.DictReader(fh))
    assert len(cells) == 4 and all(c["n"] == "2" for c in cells)
    means = [float(c["val/knn@20 mean"]) for c in cells]
    assert means == sorted(means, reverse=True)  # best first
    for c in cells:  # mean and std agree with the trials they summarise
        vals = [
            t.value
            for t in study.get_trials()
            if t.user_attrs["cell"] == c["cell"] and t.value is not None
        ]
        assert float(c["val/knn@20 mean"]) == pytest.approx(sum(vals) / 2)
        assert float(c["val/knn@20 std"]) == pytest.approx(abs(vals[0] - vals[1]) / 2**0.5)
    best = json.loads((report / "best.json").read_text())
    assert best["cell"] == cells[0]["cell"] and best["n"] == 2
    assert best["command"].startswith("mnistmax train triplet --preset triplet_quick")
    for name in (
        "report.md",
        "cells.md",
        "cells.json",
        "trials.csv",
        "trials.json",
        "figures/objective_vs_triplet_miner.png",
        "figures/objective_vs_triplet_margin.png",
        "figures/parallel_coordinates.png",
        "figures/learning_curves.png",
        "figures/importance.png",
    ):
        assert (report / name).stat().st_size > 0, name


def test_cli_errors_are_one_line_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "triplet_quick"\n[grid]\ntriplet.minr = ["random"]\n')
    assert main(["study", "run", str(bad), "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown field 'minr'" in err
    assert main(["study", "status", "nothing", "--root", str(tmp_path)]) == 2
    assert "no study 'nothing'" in capsys.readouterr().err
    assert main(["study", "run", "smoke", "--storage", "mysql://x/y"]) == 2
    assert "not supported" in capsys.readouterr().err
    assert main(["study", "status", "x", "--storage", "sqlite:///" + str(tmp_path / "e.db")]) == 2
    assert "has no study 'x'" in capsys.readouterr().err
