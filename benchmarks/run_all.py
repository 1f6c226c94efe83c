"""Run every benchmark in turn (``make bench``); each prints its own markdown table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = (
    "bench_data.py",
    "bench_augment.py",
    "bench_eval.py",
    "bench_end_to_end.py",
    "bench_inference.py",
    "bench_triplet.py",
    "bench_ssl.py",
)


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = 0
    for name in BENCHMARKS:
        print(f"\n## {name}\n", flush=True)
        failed += subprocess.run([sys.executable, str(here / name)], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
