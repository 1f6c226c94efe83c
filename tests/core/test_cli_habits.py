"""CLI habits: --device spellings and absent devices, --print-config and --config FILE,
exit codes (2 usage or config, 0 done), the config file round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mnistmax.cli.main import main
from mnistmax.config_file import from_toml, to_toml
from mnistmax.recipes import get_preset, preset_names


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_survives_the_toml_round_trip(name: str) -> None:
    cfg = get_preset(name)
    assert from_toml(to_toml(cfg)) == cfg


def test_print_config_shows_overrides_and_runs_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "simclr", "--preset", "simclr_quick", "--set", "train.epochs=7"]
    assert main([*argv, "--seed", "3", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert 'method = "simclr"' in text and "epochs = 7" in text and "seed = 3" in text
    file = tmp_path / "run.toml"
    file.write_text(text)
    assert main(["train", "simclr", "--config", str(file), "--print-config"]) == 0
    assert capsys.readouterr().out == text  # the same config, from the file
    assert main(["train", "simclr", "--config", str(file), "--set", "train.lr=0.5",
                 "--print-config"]) == 0  # fmt: skip
    assert "lr = 0.5" in capsys.readouterr().out
    assert not (tmp_path / "runs").exists()  # printing trains nothing


def test_a_bad_config_file_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('method = "simclr"\n[train]\nepochs = "many"\n')
    assert main(["train", "simclr", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "'many' is not a valid int" in err and "Traceback" not in err
    other = tmp_path / "other.toml"
    other.write_text('method = "simclr"\n')
    assert main(["train", "triplet", "--config", str(other)]) == 2
    assert "not 'triplet'" in capsys.readouterr().err
    assert main(["train", "simclr", "--config", str(tmp_path / "missing.toml")]) == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of an absent GPU")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_an_absent_device_is_one_sentence_before_anything_is_written(
    device: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["train", "triplet", "--device", device, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"--device {device}: no CUDA device is available here" in err
    assert not out.exists()


def test_an_unknown_device_spelling_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["train", "triplet", "--device", "tpu"])
    assert stop.value.code == 2
    assert "use auto, cpu, cuda, cuda:N or mps" in capsys.readouterr().err
