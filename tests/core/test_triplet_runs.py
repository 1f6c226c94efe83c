"""End-to-end triplet runs on the embedded mnist-mini: outputs, resume, learning, CLI."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mnistmax.cli.main import main
from mnistmax.config import apply_overrides
from mnistmax.families import train_run
from mnistmax.recipes import get_preset
from mnistmax.training.checkpoint import load_checkpoint

TIMING = ("train_seconds", "train_img_per_s")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CLI run of triplet_quick shared by the output checks."""
    out = tmp_path_factory.mktemp("runs") / "quick"
    root = tmp_path_factory.getbasetemp() / "mnistmax-data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNISTMAX_DATA", str(root))
        assert (
            main(["train", "triplet", "--preset", "triplet_quick", "--out", str(out), "--quiet"])
            == 0
        )
    return out


def test_run_writes_every_output(quick_run: Path) -> None:
    cfg = get_preset("triplet_quick")
    for name in (
        "config.json",
        "meta.json",
        "metrics.jsonl",
        "metrics.csv",
        "eval.json",
        "embeddings_test.npz",
        "checkpoints/last.pt",
        "checkpoints/best.pt",
        "figures/dashboard.png",
        "figures/clustering_evolution_pca.gif",
    ):
        assert (quick_run / name).is_file(), name
    gif = Image.open(quick_run / "figures/clustering_evolution_pca.gif")
    # One frame per epoch, plus the initial (untrained) state as frame 0.
    assert gif.n_frames == cfg.train.epochs + 1
    assert len(list((quick_run / "figures/pca_frames").glob("epoch_*.png"))) == cfg.train.epochs + 1
    metrics = json.loads((quick_run / "eval.json").read_text())
    for key in (
        "test/knn@1",
        "test/knn@20",
        "test/knn@200",
        "test/linear_probe",
        "test/p@1",
        "test/map@r",
        "baseline/raw_pixels/knn@20",
        "baseline/random_init/knn@20",
        "train_seconds",
        "train_img_per_s",
    ):
        assert key in metrics, key
    # Where the time went: the top-level phases add up to (a little less than) the wall time.
    timings = metrics["timings"]
    top = {k: v for k, v in timings.items() if "/" not in k}
    assert set(top) == {"setup", "train", "validation", "figures", "evaluation", "baselines"}
    assert {"evaluation/embed", "evaluation/knn", "evaluation/retrieval"} <= set(timings)
    assert all(v >= 0 for v in timings.values())
    assert sum(top.values()) <= metrics["wall_seconds"] + 0.01
    assert timings["train"] == pytest.approx(metrics["train_seconds"], abs=2e-3)
    emb = np.load(quick_run / "embeddings_test.npz")
    assert emb["embeddings"].shape == (1000, cfg.model.embed_dim) and emb["labels"].shape == (1000,)
    epochs = [json.loads(line) for line in (quick_run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in epochs if r["kind"] == "epoch"] == [1, 2, 3]
    meta = json.loads((quick_run / "meta.json").read_text())
    assert meta["torch"] == torch.__version__ and "argv" in meta


def test_learning_beats_raw_pixels(quick_run: Path) -> None:
    m = json.loads((quick_run / "eval.json").read_text())
    assert m["test/knn@20"] > m["baseline/raw_pixels/knn@20"] + 0.02
    assert m["test/knn@20"] > m["baseline/random_init/knn@20"] + 0.05


def test_eval_embed_viz_commands(quick_run: Path, tmp_path: Path) -> None:
    (quick_run / "eval.json").unlink()
    assert main(["eval", str(quick_run), "--quiet"]) == 0
    assert (quick_run / "eval.json").is_file()
    out = tmp_path / "val.npz"
    assert main(["embed", str(quick_run), "--split", "val", "--out", str(out)]) == 0
    assert np.load(out)["embeddings"].shape == (500, 64)
    png = tmp_path / "pca.png"
    assert main(["viz", str(quick_run), "--kind", "pca", "--out", str(png)]) == 0
    assert Image.open(png).size[0] > 100


def test_bad_inputs_give_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", str(tmp_path)]) == 2
    assert main(["train", "triplet", "--preset", "nope", "--out", str(tmp_path / "x")]) == 2
    assert (
        main(
            [
                "train",
                "triplet",
                "--preset",
                "triplet_quick",
                "--set",
                "train.lr=fast",
                "--out",
                str(tmp_path / "y"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("mnistmax: error: ") for line in err)
    assert "Traceback" not in "".join(err)


def _without_timing(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in history]


@pytest.fixture
def one_thread() -> Iterator[None]:
    # Multi-threaded CPU kernels sum in a schedule-dependent order, so two identical runs differ
    # in the last bits; bit-for-bit comparison needs one thread.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.usefixtures("one_thread")
def test_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    cfg = apply_overrides(get_preset("triplet_quick"), ["eval.figures=false", "model.dropout=0.1"])
    train_run(cfg, tmp_path / "a", quiet=True, evaluate=False, stop_after_epochs=1)
    assert load_checkpoint(tmp_path / "a/checkpoints/last.pt")["epoch"] == 1
    train_run(cfg, tmp_path / "a", quiet=True, evaluate=False)
    train_run(cfg, tmp_path / "b", quiet=True, evaluate=False)
    a = load_checkpoint(tmp_path / "a/checkpoints/last.pt")
    b = load_checkpoint(tmp_path / "b/checkpoints/last.pt")
    assert _without_timing(a["history"]) == _without_timing(b["history"])
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    assert torch.equal(a["trace"], b["trace"])
    lines_a = (tmp_path / "a/metrics.jsonl").read_text().splitlines()
    assert len(lines_a) == len((tmp_path / "b/metrics.jsonl").read_text().splitlines())


def test_resume_refuses_a_different_config(tmp_path: Path) -> None:
    from mnistmax.errors import RunError

    cfg = apply_overrides(get_preset("triplet_quick"), ["eval.figures=false"])
    train_run(cfg, tmp_path / "a", quiet=True, evaluate=False, stop_after_epochs=1)
    other = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, lr=0.5))
    with pytest.raises(RunError):
        train_run(other, tmp_path / "a", quiet=True, evaluate=False)
