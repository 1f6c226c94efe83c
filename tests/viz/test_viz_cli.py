"""``mnistmax viz`` in-process: static maps, animations, neighbour grids and bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mnistmax.cli.main import main


def test_static_tsne_map(tiny_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "tsne.png"
    assert main(["viz", str(tiny_run), "--kind", "tsne", "--points", "200", "--out", str(out)]) == 0
    assert Image.open(out).size[0] > 100


def test_pca_animation_writes_gif_and_frames(tiny_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "anim.gif"
    assert main(["viz", str(tiny_run), "--kind", "pca", "--animate", "--out", str(out)]) == 0
    assert Image.open(out).n_frames == 4
    assert len(list((tmp_path / "anim_frames").glob("epoch_*.png"))) == 4


def test_tsne_animation_reads_trace_npz(tmp_path: Path, tiny_run: Path) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    rng = np.random.default_rng(0)
    labels = np.arange(40) % 10
    trace = np.stack([rng.normal(size=(40, 8)) + labels[:, None] * (t + 1) for t in range(3)])
    np.savez(run / "trace.npz", trace=trace.astype(np.float32), labels=labels)
    assert main(["viz", str(run), "--kind", "tsne", "--animate", "--quiet"]) == 0
    assert Image.open(run / "figures" / "embedding_tsne.gif").n_frames == 3


def test_neighbors_grid(tiny_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "nb.png"
    args = ["viz", str(tiny_run), "--kind", "neighbors", "--queries", "4", "--k", "5"]
    assert main([*args, "--out", str(out)]) == 0
    assert Image.open(out).size[1] > 200


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kind", "neighbors", "--animate"], "--animate"),
        (["--points", "2"], "--points"),
        (["--out", "map.txt"], "must end in"),
        (["--animate", "--out", "anim.png"], "must end in .gif"),
        (["--k", "0", "--kind", "neighbors"], "--k"),
    ],
)
def test_bad_viz_inputs_give_one_line_and_exit_2(
    tiny_run: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["viz", str(tiny_run), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_animation_without_a_trace_is_a_clear_error(
    tmp_path: Path, tiny_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    (run / "checkpoints" / "last.pt").unlink()  # no trace.npz and no checkpoint trace
    assert main(["viz", str(run), "--kind", "pca", "--animate"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no per-epoch trace" in err and len(err.splitlines()) == 1
