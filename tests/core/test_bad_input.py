"""Bad input is refused before anything runs: random overrides of every field of every preset
(wrong types, negatives, zeros, huge values, unknown names) end with exit 2 and one line, or a
valid run; never a traceback (exit 1), never a half-written run folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnistmax.cli.main import main
from mnistmax.recipes import get_preset, preset_names

# Every run the test makes is tiny: mnist-mini, one step, no baselines, figures or extras.
TINY = (
    "data.dataset=mnist-mini",
    "data.train_per_class=none",
    "data.val_size=none",
    "model.encoder=conv_small",
    "model.embed_dim=16",
    "train.precision=fp32",
    "train.epochs=1",
    "train.steps_per_epoch=1",
    "train.batch_size=16",
    "train.monitor_val_size=64",
    "train.monitor_bank_size=64",
    "triplet.classes_per_batch=4",
    "eval.baselines=false",
    "eval.figures=false",
    "eval.fewshot=false",
    "eval.clustering=false",
    "eval.linear_probe=false",
    "eval.knn_ks=1",
    "eval.fewshot_shots=1",
    "eval.fewshot_draws=1",
    "eval.kmeans_n_init=1",
    "eval.gmm_pca_dim=4",
    "eval.finetune_shots=1",
    "eval.finetune_steps=2",
    "eval.finetune_lrs=0.001",
    "denoise.eval_size=16",
    "denoise.eval_noises=gaussian",
    "denoise.eval_intensities=0.5",
    "denoise.width=4",
)
BAD_VALUES = (
    "abc", "1.5.3", "[1]", "", "-1", "-0.5", "0", "1e308", "999999999999", "inf", "nan",
    "-inf", "no_such_thing", "none", "true",
)  # fmt: skip


def _fields(name: str) -> list[str]:
    def flat(d: dict[str, object], prefix: str = "") -> list[str]:
        out = []
        for k, v in d.items():
            out += flat(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}"]
        return out

    # Where a run goes (device, data root) is not drawn: a valid draw there only moves the run.
    skip = {"train.device", "data.root", "method"}
    return [f for f in flat(dataclasses.asdict(get_preset(name))) if f not in skip]


CASES = [(name, field) for name in preset_names() for field in _fields(name)]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(case=st.sampled_from(CASES), value=st.sampled_from(BAD_VALUES))
def test_random_bad_overrides_are_refused_or_run(
    case: tuple[str, str],
    value: str,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    torch.set_num_threads(1)
    name, field = case
    method = get_preset(name).method
    out = tmp_path_factory.mktemp("bad") / "run"
    argv = ["train", method, "--preset", name, "--out", str(out), "--quiet"]
    for override in (*TINY, f"{field}={value}"):
        argv += ["--set", override]
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 2), f"{field}={value!r} gave exit {code}: {err}"
    assert "Traceback" not in err
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("mnistmax: error: "), err
        assert not out.exists(), f"{field}={value!r} refused but left {out}"
    else:
        assert (out / "eval.json").is_file(), f"{field}={value!r} ran but did not finish"


def test_each_section_names_the_field_the_value_and_the_range(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cases = {
        "train.lr=-1": "train.lr=-1.0: must be a finite number > 0 and <= 100",
        "train.batch_size=0": "train.batch_size=0: must be a whole number >= 1",
        "data.train_per_class=0": "data.train_per_class=0: must be a whole number >= 1",
        "train.epochs=-1": "train.epochs=-1: must be a whole number >= 1",
        "eval.knn_tau=0": "eval.knn_tau=0.0: must be a finite number > 0",
        "ssl.temperature=nan": "ssl.temperature=nan: must be a finite number > 0",
        "triplet.classes_per_batch=11": "triplet.classes_per_batch=11: the dataset has only 10",
    }
    for override, message in cases.items():
        out = tmp_path / override
        argv = ["train", "triplet", "--preset", "triplet_quick", "--set", override]
        argv += ["--set", "triplet.miner=semi_hard", "--out", str(out)]
        assert main(argv) == 2, override
        assert message in capsys.readouterr().err, override
        assert not out.exists()
    denoise = ["train", "denoise", "--preset", "dae_quick", "--out", str(tmp_path / "d")]
    assert main([*denoise, "--set", "denoise.intensity_max=2"]) == 2
    assert "denoise.intensity_max=2.0: must be a finite number >= 0 and <= 1" in (
        capsys.readouterr().err
    )


def test_an_unexpected_failure_is_one_line_and_a_log_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mnistmax.families.base as base

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(base, "fit", broken)
    out = tmp_path / "run"
    argv = ["train", "triplet", "--preset", "triplet_quick", "--out", str(out), "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mnistmax train: failed unexpectedly")
    assert f"{out}/error.log" in err[0] and "Traceback" not in err[0]
    assert "the disk caught fire" in (out / "error.log").read_text()
    assert "Traceback (most recent call last)" in (out / "error.log").read_text()
