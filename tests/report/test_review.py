"""``run_review``: trains what is missing, reuses finished runs, finishes unfinished ones."""

from __future__ import annotations

import json

import pytest
from report_helpers import MiniReview, tiny_budget


def test_first_review_trained_every_run(mini_review: MiniReview) -> None:
    trained = [line for line in mini_review.log if ": training (" in line]
    assert len(trained) == 3
    runs = sorted(p.name for p in (mini_review.out / "runs").iterdir())
    assert runs == ["dae_quick_s0", "simclr_quick_s0", "triplet_quick_s0"]
    report = json.loads((mini_review.out / "report" / "report.json").read_text())
    assert sorted(r["label"].split(" ")[0] for r in report["summary"] if r["kind"] == "method") == [
        "dae_quick", "simclr_quick", "triplet_quick",
    ]  # fmt: skip
    assert report["explorer_runs"] == ["triplet_quick_s0", "simclr_quick_s0"]
    # The GIF and dashboard of the triplet run are in the markdown report's folder too.
    md = (mini_review.out / "report" / "report.md").read_text()
    assert "clustering_evolution_pca.gif" in md and "training_progress.gif" in md


def test_second_review_reuses_and_resumes(mini_review: MiniReview) -> None:
    import mnistmax.denoise.classifier as clf
    import mnistmax.review as review

    runs = mini_review.out / "runs"
    stamps = {p.name: (p / "eval.json").stat().st_mtime_ns for p in runs.iterdir()}
    # An unfinished run (its evaluation lost) is finished; the others are reused untouched.
    (runs / "simclr_quick_s0" / "eval.json").unlink()
    log: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNISTMAX_DATA", str(mini_review.data_root))
        mp.setattr(clf, "MIN_STEPS", 30)
        mp.setattr(clf, "EPOCHS_FULL", 1)
        mp.setitem(review.BUDGETS, "quick", tiny_budget())
        result = review.run_review(
            "quick", mini_review.out, quiet=True, per_class=30, threads=1, log=log.append
        )
    assert sorted(p.name for p in result.reused) == ["dae_quick_s0", "triplet_quick_s0"]
    assert [p.name for p in result.trained] == ["simclr_quick_s0"]
    for name in ("dae_quick_s0", "triplet_quick_s0"):
        assert (runs / name / "eval.json").stat().st_mtime_ns == stamps[name]
    assert (runs / "simclr_quick_s0" / "eval.json").is_file()
    # Resumed from its last checkpoint: the metrics still hold its two epochs, no more.
    epochs = [
        json.loads(line)["epoch"]
        for line in (runs / "simclr_quick_s0" / "metrics.jsonl").read_text().splitlines()
        if json.loads(line)["kind"] == "epoch"
    ]
    assert epochs == [1, 2]
    assert result.report is not None and result.report.is_file()
