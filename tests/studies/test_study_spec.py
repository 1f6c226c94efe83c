"""Study specs: every mistake fails at load with one sentence; shipped specs are valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnistmax.errors import ConfigError
from mnistmax.studies.spec import (
    STUDY_PRESETS,
    check_buildable,
    from_dict,
    iter_units,
    load_spec,
    resolve_spec,
    spec_from_toml,
    to_dict,
)

REPO = Path(__file__).resolve().parents[2]

GOOD = {
    "name": "t",
    "base": "triplet_quick",
    "kind": "grid",
    "seeds": 2,
    "grid": {"triplet": {"miner": ["semi_hard", "random"]}, "train.lr": [1e-3, 2e-3]},
    "overrides": {"train": {"epochs": 2}, "eval.knn_ks": [1, 20]},
}


def load(**changes: object) -> object:
    data = {**GOOD, **changes}
    return spec_from_toml({k: v for k, v in data.items() if v is not None}, where="x.toml")


def test_good_spec_flattens_dotted_and_nested_keys() -> None:
    spec = load()
    assert [p.field for p in spec.params] == ["triplet.miner", "train.lr"]
    assert spec.seeds == (0, 1)
    assert dict(spec.overrides) == {"train.epochs": 2, "eval.knn_ks": [1, 20]}
    cfg = spec.run_config({"triplet.miner": "random", "train.lr": 2e-3}, seed=1)
    assert (cfg.triplet.miner, cfg.train.lr, cfg.train.seed) == ("random", 2e-3, 1)
    assert (cfg.train.epochs, cfg.eval.knn_ks) == (2, (1, 20))
    units = list(iter_units(spec))
    assert len(units) == 2 * 2 * 2 and len({u[0] for u in units}) == 4
    assert from_dict(to_dict(spec)) == spec


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"grid": {"triplet.minr": ["random"]}}, "unknown field 'minr'"),
        ({"grid": {"trian.lr": [0.1]}}, "unknown field 'trian'"),
        ({"overrides": {"train": {"epochs": 2.5}}}, "not a valid int"),
        ({"kind": "bayes"}, "kind 'bayes' is not one of grid, tpe, random"),
        ({"objective": {"direction": "up"}}, "direction 'up'"),
        ({"objective": {"metric": "test/knn@20"}}, "must be a validation metric"),
        ({"objective": {"select": "median"}}, "select 'median'"),
        ({"base": "no_such_preset"}, "unknown preset 'no_such_preset'"),
        ({"base": None}, "'base'"),
        ({"seeds": 0}, "seeds must be"),
        ({"seeds": [1, 1]}, "seeds must be"),
        ({"grid": {"train.seed": [0, 1]}}, "use seeds"),
        ({"grid": {"triplet.miner": []}}, "non-empty list"),
        ({"grid": {"triplet": 3}}, "is a section"),
        ({"grid": {}}, "at least one field"),
        ({"budget": {"trials": 3}}, "[budget] is for tpe"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"name": "a/b"}, "names a folder"),
        ({"evaluate": False, "extra_metrics": ["test/knn@20"]}, "need evaluate = true"),
    ],
)
def test_bad_specs_fail_with_one_sentence(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(**changes)
    text = str(info.value)
    assert message in text
    assert text.startswith("study spec x.toml:") and "\n" not in text


@pytest.mark.parametrize(
    ("space", "budget", "message"),
    [
        ({"train.lr": {"low": 1e-2, "high": 1e-4}}, {"trials": 2}, "low must be below high"),
        ({"train.lr": {"low": 0.0, "high": 1.0, "log": True}}, {"trials": 2}, "log range"),
        ({"train.epochs": {"low": 1.5, "high": 4}}, {"trials": 2}, "integer field"),
        ({"triplet.miner": {"low": 1, "high": 2}}, {"trials": 2}, "numeric field"),
        ({"train.lr": {"choices": [0.1]}}, {"trials": 2}, "at least two"),
        ({"train.lr": {"low": 1e-4, "high": 1e-2}}, {}, "needs a [budget]"),
        ({"train.lr": {"low": 1e-4, "high": 1e-2}}, {"trails": 3}, "unknown key 'trails'"),
    ],
)
def test_bad_search_spaces(
    space: dict[str, object], budget: dict[str, object], message: str
) -> None:
    data = {k: v for k, v in GOOD.items() if k != "grid"} | {"kind": "tpe", "space": space}
    if budget:
        data["budget"] = budget
    with pytest.raises(ConfigError, match=None) as info:
        spec_from_toml(data, where="x.toml")
    assert message in str(info.value)


def test_search_space_types_follow_the_config() -> None:
    data = {k: v for k, v in GOOD.items() if k != "grid"} | {
        "kind": "tpe",
        "space": {
            "train.lr": {"low": 1e-4, "high": 1e-2, "log": True},
            "train.epochs": {"low": 1, "high": 4},
            "train.batch_size": {"choices": [40, 80]},
        },
        "budget": {"trials": 4, "time_s": 60},
    }
    spec = spec_from_toml(data, where="x.toml")
    lr, epochs, batch = spec.params
    assert lr.log and not lr.integer and epochs.integer and batch.choices == (40, 80)
    assert spec.n_trials == 4 and spec.time_s == 60.0


def test_values_that_parse_but_name_nothing_fail_before_any_trial() -> None:
    spec = load(grid={"triplet.miner": ["semi_hard", "hardest"]})
    with pytest.raises(ConfigError, match="unknown miner 'hardest'"):
        check_buildable(spec)


def test_bad_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("name = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_spec(path)
    with pytest.raises(ConfigError, match=r"neither a \.toml file nor a study preset"):
        resolve_spec("no-such-study")


def test_smoke_toml_is_the_smoke_preset() -> None:
    assert load_spec(REPO / "studies" / "smoke.toml") == STUDY_PRESETS["smoke"]()
    assert resolve_spec("smoke") == STUDY_PRESETS["smoke"]()


@pytest.mark.parametrize("path", sorted((REPO / "studies").glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_specs_are_valid(path: Path) -> None:
    spec = load_spec(path)
    assert spec.name == path.stem
    check_buildable(spec)
