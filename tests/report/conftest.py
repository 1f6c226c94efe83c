"""Fixtures of the report tests: a tiny real review on mnist-mini, shared by the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from report_helpers import MiniReview, tiny_budget


@pytest.fixture(scope="session")
def mini_review(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MiniReview]:
    """``run_review`` of the tiny budget: three real runs and their report (one per session)."""
    import mnistmax.denoise.classifier as clf
    import mnistmax.review as review

    out = tmp_path_factory.mktemp("review")
    root = tmp_path_factory.mktemp("mnistmax-data")
    log: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNISTMAX_DATA", str(root))
        mp.setattr(clf, "MIN_STEPS", 30)
        mp.setattr(clf, "EPOCHS_FULL", 1)
        mp.setitem(review.BUDGETS, "quick", tiny_budget())
        result = review.run_review(
            "quick", out, quiet=True, per_class=30, threads=1, log=log.append
        )
    assert not result.failed, result.failed
    yield MiniReview(out=out, log=log, data_root=root)
