"""The common intensity scale: what ``I`` means for every noise type, and how it was measured.

**Definition.** At intensity ``I`` a noise type corrupts clean MNIST digits (grayscale, in
[0, 1]) with an expected mean squared error of :data:`MSE_PER_UNIT` · I = 0.05 · I against the
clean image, i.e. a PSNR(noisy, clean) of ``13.0 − 10·log10(I)`` dB: 23 dB at I = 0.1, 16 dB at
0.5, 13 dB at 1. The same ``I`` therefore means the same pixel damage for every type, so curves
against ``I`` compare across types (the reference's scale did not: its Gaussian changed ~2% of
pixels at its maximum while its salt-and-pepper changed 30%).

**How.** Each type has a physical knob (σ, a probability, an expected number of strokes, a
width...; see each class's ``doc``). :func:`calibrate_tables` finds, for I = 0, 0.05, …, 1, the
knob whose MSE on the first 1,000 MNIST test digits (noise seed 0) hits the target, by bisection
with common random numbers; the result is the table in :mod:`mnistmax.noise._tables`, and a noise
maps ``I`` to its knob by piecewise-linear interpolation in that table (monotone, exact 0 at 0).
``mixed`` applies two types at I/2 each and ``add_mixed`` one additive type at I; they are not
tables but are measured like the rest. Regenerate with
``python -m mnistmax.noise.calibration --write`` (needs the ``mnist`` dataset).

The share of changed pixels at a given MSE differs by type by design (a blur changes nearly
every pixel a little, salt-and-pepper few pixels a lot): :func:`measure_scale` reports both, and
docs/results.md holds the measured table.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mnistmax.config import DataConfig
from mnistmax.data.splits import load_splits
from mnistmax.io import write_text_atomic
from mnistmax.noise import NOISES, build_noise, noise_names
from mnistmax.noise._tables import KNOB_TABLES

MSE_PER_UNIT = 0.05
"""Expected MSE(noisy, clean) on MNIST per unit of intensity."""

GRID = 21  # table points: I = 0, 0.05, ..., 1
CHANGE_EPS = 1.0 / 255.0  # a pixel counts as changed when it moves by more than one grey level

__all__ = [
    "CHANGE_EPS",
    "GRID",
    "KNOB_TABLES",
    "MSE_PER_UNIT",
    "calibrate_tables",
    "measure_scale",
    "psnr_of_mse",
]


def psnr_of_mse(mse: float) -> float:
    """PSNR in dB for data range 1 (``inf`` for a perfect match)."""
    return math.inf if mse <= 0 else -10.0 * math.log10(mse)


def _mse_at_knob(name: str, x: torch.Tensor, knob: float, seed: int) -> float:

    op = NOISES.build(name)
    g = torch.Generator(device=x.device).manual_seed(seed)
    y = op.apply_knob(x, knob, generator=g)
    return float(((y - x) ** 2).mean())


def calibrate_tables(
    x: torch.Tensor,
    names: Sequence[str] | None = None,
    *,
    seed: int = 0,
    points: int = 96,
) -> dict[str, tuple[float, ...]]:
    """Knob tables that put every table-driven noise on the ``MSE = 0.05·I`` scale.

    The MSE is measured on ``points`` knobs spaced quadratically in ``[0, knob_max]`` (dense
    near 0, where MSE grows fastest) with common random numbers, made non-decreasing, and
    inverted by linear interpolation at each table level.

    Args:
        x: Clean images (N, 1, H, W) in [0, 1] (MNIST test digits for the shipped tables).
        names: Types to calibrate (default: every registered type except compositions).
        seed: Noise seed.
        points: Knob samples per type.

    Returns:
        ``{name: (knob at I=0, knob at I=0.05, ..., knob at I=1)}``, non-decreasing; a type
        that cannot reach a level's MSE saturates at its ``knob_max``.
    """

    names = names or [n for n in NOISES.names() if n not in ("mixed", "add_mixed")]
    tables: dict[str, tuple[float, ...]] = {}
    for name in names:
        op = NOISES.build(name)
        knobs = op.knob_max * (np.arange(points) / (points - 1)) ** 2
        mse = np.maximum.accumulate([_mse_at_knob(name, x, float(k), seed) for k in knobs])
        targets = MSE_PER_UNIT * np.arange(GRID) / (GRID - 1)
        # np.interp needs strictly increasing x: drop flat stretches (keep their first knob).
        keep = np.concatenate([[True], np.diff(mse) > 0])
        table = np.interp(targets, mse[keep], knobs[keep], right=op.knob_max)
        table[0] = 0.0
        tables[name] = tuple(round(float(k), 5) for k in np.maximum.accumulate(table))
    return tables


@torch.no_grad()
def measure_scale(
    x: torch.Tensor,
    names: Sequence[str],
    levels: Sequence[float],
    *,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """PSNR(noisy, clean) and the share of changed pixels per type and intensity.

    PSNR is of the mean MSE over the images (data range 1); a pixel is "changed" when it moves
    by more than one grey level (1/255).
    """

    rows = []
    for name in names:
        op = build_noise(name)
        for level in levels:
            g = torch.Generator(device=x.device).manual_seed(seed)
            y = op(x, float(level), generator=g)
            mse = float(((y - x) ** 2).mean())
            changed = float(((y - x).abs() > CHANGE_EPS).float().mean())
            rows.append(
                {
                    "noise": name,
                    "intensity": float(level),
                    "mse": mse,
                    "psnr": psnr_of_mse(mse),
                    "changed": changed,
                    "target_psnr": psnr_of_mse(MSE_PER_UNIT * float(level)),
                }
            )
    return rows


def _write_tables(tables: dict[str, tuple[float, ...]]) -> None:

    lines = [
        '"""Knob tables of the common intensity scale (generated by',
        "``python -m mnistmax.noise.calibration --write``; see :mod:`mnistmax.noise.calibration`).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "# fmt: off",
        "KNOB_TABLES: dict[str, tuple[float, ...]] = {",
    ]
    for name, knobs in sorted(tables.items()):
        lines.append(f"    {name!r}: ({', '.join(repr(k) for k in knobs)}),")
    lines += ["}", "# fmt: on", ""]
    write_text_atomic(Path(__file__).with_name("_tables.py"), "\n".join(lines))


def main() -> None:
    """Recalibrate on MNIST test digits (``--write`` stores the tables) and print the scale."""

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite noise/_tables.py")
    parser.add_argument("--n", type=int, default=1000, help="MNIST test digits used")
    parser.add_argument("--only", nargs="*", default=[], help="recalibrate only these types")
    args = parser.parse_args()
    torch.set_num_threads(1)
    x = load_splits(DataConfig(dataset="mnist")).test.x[: args.n]
    if args.write:
        tables = dict(KNOB_TABLES)
        tables.update(calibrate_tables(x, args.only or None))
        _write_tables(tables)
        print("wrote noise/_tables.py; re-run without --write to see the measured scale")
        return

    for r in measure_scale(x, noise_names(), [0.1 * i for i in range(1, 11)]):
        print(
            f"{r['noise']:13s} I={r['intensity']:.1f} psnr={r['psnr']:6.2f} "
            f"(target {r['target_psnr']:.2f}) changed={r['changed']:.3f}"
        )


if __name__ == "__main__":
    main()
