"""Shared fixtures of the visualisation tests: one tiny trained run on the embedded mnist-mini."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest


@pytest.fixture(scope="package")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """simclr_quick cut to 3 epochs x 2 steps; its last checkpoint holds a 4-frame trace."""
    from mnistmax.families import train_run
    from mnistmax.recipes import get_preset

    cfg = get_preset("simclr_quick")
    cfg = replace(
        cfg,
        train=replace(cfg.train, epochs=3, steps_per_epoch=2, batch_size=32, monitor_val_size=100),
        eval=replace(cfg.eval, pca_per_class=6),
    )
    out = tmp_path_factory.mktemp("viz") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNISTMAX_DATA", str(tmp_path_factory.getbasetemp() / "viz-data"))
        train_run(cfg, out, quiet=True, evaluate=False)
    return out
