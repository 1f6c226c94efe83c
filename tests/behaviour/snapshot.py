"""Every preset's behaviour, recorded: its resolved config and its eval.json on mnist-mini.

The application layer is being redesigned (one pipeline per method family); this snapshot is
what "behaviour unchanged" means. Each preset runs as a short fp32 run on the embedded
mnist-mini (seed 0, one epoch of two steps, fine-tuning cut to a few steps, no figures) and its
eval.json, less the wall-clock keys, is kept next to the preset's full resolved config in
``presets_snapshot.json``. ``test_behaviour_snapshot.py`` compares against it.

Record it again only on purpose (a deliberate change of a preset or a metric), with the data
root isolated so no cached baseline of another version is read::

    MNISTMAX_DATA=$(mktemp -d) .venv/bin/python -m tests.behaviour.snapshot --write
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from mnistmax.config import RunConfig
from mnistmax.recipes import get_preset, preset_names

SNAPSHOT = Path(__file__).with_name("presets_snapshot.json")
# eval.json keys that measure the machine, not the behaviour.
WALL_CLOCK = (
    "train_seconds",
    "train_img_per_s",
    "wall_seconds",
    "eval_seconds",
    "train_wall_seconds",
    "timings",
    "run",
)
# One thread: with two, some multi-threaded kernel sums in a varying order and the same run
# differs in the 5th digit from process to process (MAP@R 0.383384 vs 0.383392 for
# triplet_quick); with one, three processes gave identical numbers. It also keeps the numbers
# independent of the machine's core count.
THREADS = 1


def short_config(name: str) -> RunConfig:
    """``name`` as a short, deterministic fp32 run on mnist-mini.

    Every code path the preset switches on still runs (few-shot, clustering, GMM, fine-tuning,
    the denoising sweep over every noise type), on less: two k-means restarts and few-shot
    draws, five fine-tuning steps, three sweep intensities on 100 test images.
    """
    cfg = get_preset(name)
    per_class = cfg.data.train_per_class
    levels = cfg.denoise.eval_intensities
    return dataclasses.replace(
        cfg,
        data=dataclasses.replace(
            cfg.data,
            dataset="mnist-mini",
            train_per_class=None if per_class is None else min(per_class, 50),
        ),
        train=dataclasses.replace(
            cfg.train, epochs=1, steps_per_epoch=2, precision="fp32", seed=0, device="cpu"
        ),
        eval=dataclasses.replace(
            cfg.eval,
            figures=False,
            finetune_steps=min(cfg.eval.finetune_steps, 5),
            kmeans_n_init=min(cfg.eval.kmeans_n_init, 2),
            fewshot_draws=min(cfg.eval.fewshot_draws, 2),
        ),
        denoise=dataclasses.replace(
            cfg.denoise,
            eval_size=100,
            eval_intensities=(levels[0], levels[len(levels) // 2], levels[-1]),
        ),
    )


def _without_wall_clock(metrics: Any) -> Any:
    if isinstance(metrics, dict):
        return {k: _without_wall_clock(v) for k, v in metrics.items() if k not in WALL_CLOCK}
    if isinstance(metrics, list):
        return [_without_wall_clock(v) for v in metrics]
    return metrics


def run_preset(name: str, out: Path) -> dict[str, Any]:
    """Train and evaluate ``short_config(name)`` in ``out``; eval.json without wall clock."""
    from mnistmax.families import family_of

    cfg = short_config(name)
    train = family_of(cfg.method).train
    threads = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        metrics = train(cfg, out, quiet=True)
    finally:
        torch.set_num_threads(threads)
    return dict(_without_wall_clock(json.loads(json.dumps(metrics))))


def snapshot_config(name: str) -> dict[str, Any]:
    """The preset's full resolved config, as config.json stores it."""
    return dict(json.loads(json.dumps(dataclasses.asdict(get_preset(name)))))


def record() -> dict[str, Any]:
    """Every preset's config and short-run eval.json."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in preset_names():
            print(f"recording {name}", file=sys.stderr, flush=True)
            out[name] = {
                "config": snapshot_config(name),
                "eval": run_preset(name, Path(tmp) / name),
            }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description="record every preset's behaviour")
    parser.add_argument("--write", action="store_true", help=f"write {SNAPSHOT.name}")
    args = parser.parse_args()
    data = record()
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if args.write:
        SNAPSHOT.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
