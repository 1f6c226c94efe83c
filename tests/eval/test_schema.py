"""The one eval.json schema: every preset's recorded eval.json conforms, and the check can fail."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.behaviour.snapshot import SNAPSHOT, WALL_CLOCK

from mnistmax.eval.schema import RUN_FACTS, problems

RECORDED: dict[str, Any] = json.loads(SNAPSHOT.read_text())


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_every_presets_eval_json_has_the_one_schema(name: str) -> None:
    # The snapshot leaves out the facts that measure the machine; put placeholders back.
    record = RECORDED[name]["eval"] | {k: 0.0 for k in RUN_FACTS if k in WALL_CLOCK}
    assert problems(record) == []


def test_the_schema_check_names_what_breaks_it() -> None:
    good = {k: 1 for k in RUN_FACTS} | {"test/knn@20": 0.9, "baseline/raw_pixels/knn@20": 0.8}
    assert problems(good) == []
    assert problems(good | {"rows": []}) == [
        "'rows' is neither a run fact nor a <split>/<metric> key"
    ]
    assert problems(good | {"test/knn@20": "high"}) == ["'test/knn@20' is not a number ('high')"]
    assert problems({k: v for k, v in good.items() if k != "method"}) == ["missing 'method'"]
