"""The summary table against hand-made run folders: grouping over seeds, mean ± std, baselines."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import pytest
from report_helpers import fake_run

from mnistmax.errors import ConfigError
from mnistmax.report.collect import collect
from mnistmax.report.table import (
    best_cells,
    columns,
    command,
    markdown_table,
    method_rows,
    per_run_rows,
    summary_rows,
)

COL = {c.name: c for c in columns()}


def _triplet_metrics(knn: float, raw: float = 0.88, rand: float = 0.75) -> dict[str, float]:
    return {
        "test/knn@20": knn,
        "test/linear_probe": knn + 0.01,
        "test/fewshot@10": 0.8,
        "test/kmeans_acc": 0.7,
        "baseline/raw_pixels/knn@20": raw,
        "baseline/random_init/knn@20": rand,
        "wall_seconds": 10.0,
        "train_img_per_s": 1000.0,
    }


def test_seeds_form_one_row_with_mean_and_sample_std(tmp_path: Path) -> None:
    for seed, knn, rand in ((0, 0.90, 0.70), (1, 0.92, 0.74), (2, 0.97, 0.78)):
        fake_run(tmp_path / f"t{seed}", seed=seed, metrics=_triplet_metrics(knn, rand=rand))
    rows = summary_rows(collect([tmp_path]).runs)
    methods = [r for r in rows if r.kind == "method"]
    assert len(methods) == 1
    row = methods[0]
    assert row.label == "triplet_quick" and row.n == 3
    # mean 0.93; deviations -3, -1, +4 points: sample std sqrt(26 / 2) = 3.606 points.
    assert row.cell(COL["knn@20"]) == "93.00 ± 3.61"
    assert row.cell(COL["fewshot@10"]) == "80.00 ± 0.00"
    assert row.cell(COL["own_noise/psnr@0.5"]) == "—"
    # Losses come from the validation-selected epoch's record (best_epoch 2), not step records.
    assert row.cell(COL["train_loss"]) == "0.2500 ± 0.0000"
    assert row.cell(COL["val_loss"]) == "0.4000 ± 0.0000"
    assert row.labels == "1,500" and row.data.startswith("mnist-mini, 1,500 train")
    base = {r.label: r for r in rows if r.kind == "baseline"}
    # The same raw-pixel number from three runs is one measurement, not three.
    assert base["raw pixels"].n == 1 and base["raw pixels"].cell(COL["knn@20"]) == "88.00"
    # The random-init encoder differs per seed: three draws.
    rand = base["random-init conv_small (64-d)"]
    assert rand.n == 3 and rand.cell(COL["knn@20"]) == "74.00 ± 4.00"


def test_different_configs_are_different_rows(tmp_path: Path) -> None:
    fake_run(tmp_path / "a", metrics=_triplet_metrics(0.9))
    fake_run(tmp_path / "b", overrides=["train.epochs=5"], metrics=_triplet_metrics(0.95))
    fake_run(tmp_path / "c", overrides=["train.device=cpu"], seed=3, metrics=_triplet_metrics(0.8))
    fake_run(tmp_path / "d", preset="simclr_quick", metrics=_triplet_metrics(0.85))
    rows = method_rows(collect([tmp_path]).runs)
    by_label = {r.label: r for r in rows}
    assert set(by_label) == {"triplet_quick", "triplet_quick (train.epochs=5)", "simclr_quick"}
    # Device and seed do not make a new configuration.
    assert by_label["triplet_quick"].n == 2
    assert by_label["triplet_quick"].cell(COL["knn@20"]) == "85.00 ± 7.07"
    assert by_label["simclr_quick"].labels == "none"
    # Ordered: triplet rows before the self-supervised ones.
    assert [r.method for r in rows] == ["triplet", "triplet", "simclr"]
    assert len(per_run_rows(collect([tmp_path]).runs)) == 4


def test_denoise_row_reads_an_old_eval_json_sweep_at_half_intensity(tmp_path: Path) -> None:
    """eval.json as denoisers wrote it before the one schema: the sweep at the top level."""

    def sweep(level: float, psnr: float) -> list[dict[str, object]]:
        return [
            {"noise": "mixed", "intensity": level, "method": "unet", "psnr": psnr, "ssim": 0.9},
            {"noise": "mixed", "intensity": level, "method": "noisy", "psnr": 15.0, "ssim": 0.5},
            {"noise": "mixed", "intensity": level, "method": "median3", "psnr": 17.0, "ssim": 0.6},
            {"noise": "lines", "intensity": level, "method": "unet", "psnr": 99.0, "ssim": 0.1},
        ]

    metrics = {
        "rows": sweep(0.2, 30.0) + sweep(0.5, 21.5),
        "train": {"train_wall_seconds": 20.0, "train_img_per_s": 500.0, "best_epoch": 2},
        "eval_seconds": 5.0,
    }
    fake_run(tmp_path / "dae", preset="dae_quick", metrics=metrics)
    rows = summary_rows(collect([tmp_path]).runs)
    row = next(r for r in rows if r.kind == "method")
    assert (
        row.cell(COL["own_noise/psnr@0.5"]) == "21.50"
        and row.cell(COL["own_noise/ssim@0.5"]) == "0.900"
    )
    assert row.cell(COL["wall_s"]) == "25.0" and row.cell(COL["img_s"]) == "500"
    assert row.cell(COL["knn@20"]) == "—" and row.labels == "none"
    base = {r.label: r for r in rows if r.kind == "baseline"}
    assert set(base) == {"noisy input", "median 3×3"}
    assert base["median 3×3"].cell(COL["own_noise/psnr@0.5"]) == "17.00"


def test_parameters_are_counted_from_the_method(tmp_path: Path) -> None:
    from mnistmax.config import apply_overrides
    from mnistmax.methods import build_method
    from mnistmax.recipes import get_preset

    fake_run(tmp_path / "a", metrics=_triplet_metrics(0.9))
    fake_run(tmp_path / "b", overrides=["model.embed_dim=32"], metrics=_triplet_metrics(0.9))
    rows = {r.label: r for r in method_rows(collect([tmp_path]).runs)}
    for label, over in (
        ("triplet_quick", []),
        ("triplet_quick (model.embed_dim=32)", ["model.embed_dim=32"]),
    ):
        enc = build_method(apply_overrides(get_preset("triplet_quick"), over)).encoder
        expected = sum(p.numel() for p in enc.parameters())
        assert rows[label].values["params"] == [expected]
    assert (
        rows["triplet_quick"].values["params"]
        != rows["triplet_quick (model.embed_dim=32)"].values["params"]
    )


def test_collect_finds_nested_runs_and_skips_unfinished(tmp_path: Path) -> None:
    study = tmp_path / "study"
    fake_run(study / "trials" / "0001", metrics=_triplet_metrics(0.9))
    fake_run(study / "trials" / "0002", metrics=_triplet_metrics(0.91), seed=1)
    fake_run(study / "trials" / "0003", finished=False)
    other = fake_run(tmp_path / "elsewhere" / "0001", metrics=_triplet_metrics(0.5), seed=9)
    found = collect([study, other])
    names = sorted(r.name for r in found.runs)
    assert names == ["elsewhere/0001", "trials/0001", "trials/0002"]
    assert [p.name for p, _ in found.skipped] == ["0003"]
    assert "unfinished" in found.skipped[0][1]


@pytest.mark.parametrize("case", ["missing", "file", "empty", "unfinished"])
def test_collect_errors(tmp_path: Path, case: str) -> None:
    target = tmp_path / "x"
    if case == "file":
        target.write_text("")
    elif case == "empty":
        (target / "sub").mkdir(parents=True)
    elif case == "unfinished":
        fake_run(target / "r", finished=False)
    with pytest.raises(ConfigError) as err:
        collect([target])
    assert "\n" not in str(err.value)


def test_command_rebuilds_the_config(tmp_path: Path) -> None:
    """The provenance command, parsed by the real CLI, gives back the run's config."""
    from mnistmax.cli.main import build_parser
    from mnistmax.cli.train_cmd import resolve_config

    fake_run(tmp_path / "r", seed=4, overrides=["train.epochs=5", "eval.fewshot_shots=1,10"],
             metrics=_triplet_metrics(0.9))  # fmt: skip
    run = collect([tmp_path]).runs[0]
    cmd = command(run)
    assert cmd.startswith("mnistmax train triplet --preset triplet_quick --seed 4")
    args = build_parser().parse_args(cmd.split()[1:])
    assert isinstance(args, argparse.Namespace)
    assert resolve_config(args) == run.cfg


def test_markdown_table_shape(tmp_path: Path) -> None:
    fake_run(tmp_path / "a", metrics=_triplet_metrics(0.9))
    rows = summary_rows(collect([tmp_path]).runs)
    lines = markdown_table(rows).strip().splitlines()
    assert len(lines) == 2 + len(rows)
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "*raw pixels (baseline)*" in "\n".join(lines)
    assert not math.isnan(rows[0].mean("knn@20") or math.nan)


def test_labels_hide_evaluation_overrides_unless_they_tell_rows_apart(tmp_path: Path) -> None:
    fake_run(tmp_path / "a", overrides=["eval.fewshot_shots=10", "train.epochs=5"],
             metrics=_triplet_metrics(0.9))  # fmt: skip
    labels = [r.label for r in method_rows(collect([tmp_path]).runs)]
    assert labels == ["triplet_quick (train.epochs=5)"]
    fake_run(tmp_path / "b", overrides=["eval.fewshot_shots=1", "train.epochs=5"],
             metrics=_triplet_metrics(0.9))  # fmt: skip
    labels = sorted(r.label for r in method_rows(collect([tmp_path]).runs))
    assert labels == [
        "triplet_quick (train.epochs=5, eval.fewshot_shots=1)",
        "triplet_quick (train.epochs=5, eval.fewshot_shots=10)",
    ]


def test_rows_are_grouped_by_dataset(tmp_path: Path) -> None:
    from mnistmax.report.markdown import render_markdown

    fake_run(tmp_path / "mini", metrics=_triplet_metrics(0.9, raw=0.88))
    fake_run(tmp_path / "mini_b", preset="simclr_quick", metrics=_triplet_metrics(0.8, raw=0.88))
    fashion = ["data.dataset=fashion-mnist", "data.train_per_class=150"]
    fake_run(tmp_path / "fa", overrides=fashion, metrics=_triplet_metrics(0.8, raw=0.77))
    fake_run(tmp_path / "fb", preset="simclr_quick", overrides=fashion,
             metrics=_triplet_metrics(0.7, raw=0.77))  # fmt: skip
    runs = collect([tmp_path]).runs
    rows = summary_rows(runs)
    # Catalogue order (fashion-mnist before mnist-mini); each dataset's methods, then its baselines.
    assert [(r.dataset, r.kind) for r in rows] == [
        ("fashion-mnist", "method"), ("fashion-mnist", "method"),
        ("fashion-mnist", "baseline"), ("fashion-mnist", "baseline"),
        ("mnist-mini", "method"), ("mnist-mini", "method"),
        ("mnist-mini", "baseline"), ("mnist-mini", "baseline"),
    ]  # fmt: skip
    raw = {r.dataset: r for r in rows if r.label == "raw pixels"}
    assert raw["fashion-mnist"].cell(COL["knn@20"]) == "77.00"
    assert raw["mnist-mini"].cell(COL["knn@20"]) == "88.00"
    # The best cell is marked within each dataset: the fashion triplet row is bold, too.
    bold = {(r.dataset, r.method) for r in rows if (id(r), "knn@20") in best_cells(rows)}
    assert bold == {("fashion-mnist", "triplet"), ("mnist-mini", "triplet")}
    assert [r.dataset for r in per_run_rows(runs)] == ["fashion-mnist"] * 2 + ["mnist-mini"] * 2
    md = render_markdown(runs=runs, summary=rows, per_run=per_run_rows(runs), figure_links={},
                         config_links={}, skipped=[])  # fmt: skip
    assert "### Fashion-MNIST (Zalando article images) (fashion-mnist)" in md
    assert md.index("(fashion-mnist)") < md.index("(mnist-mini)")
    from mnistmax.report import build_report

    build_report([tmp_path], tmp_path / "report", explorer=False)
    page = (tmp_path / "report" / "index.html").read_text()
    summary = page.split('id="summary-table"')[1].split("</table>")[0]
    heads = re.findall(r'<tr class="row-dataset"><th colspan="\d+">([^<]+)</th>', summary)
    assert heads == ["Fashion-MNIST (Zalando article images) (fashion-mnist)",
                     "MNIST mini subset (embedded; 200 train and 100 test images per class) (mnist-mini)"]  # fmt: skip
