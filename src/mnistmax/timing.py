"""Where a run's wall time goes: named phases, summed, recorded in eval.json as ``timings``.

A run is more than its training steps (data loading, per-epoch validation, figures, the
evaluation protocol, baselines); measuring each phase is how ``mnistmax train`` shows that the
rest costs little next to the training, and how ``benchmarks/bench_end_to_end.py`` splits a run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator


class Stopwatch:
    """Seconds per named phase; a phase entered twice adds up.

    ``with clock("figures"): ...`` times a block; nested phases are allowed and each is
    recorded on its own (``evaluation`` holds ``evaluation/embed`` and the rest), so the
    top-level phases are the ones without a ``/`` in their name.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        tic = time.perf_counter()
        try:
            yield
        finally:
            self.add(phase, time.perf_counter() - tic)

    def add(self, phase: str, seconds: float) -> None:
        """Add ``seconds`` to ``phase``."""
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    def rounded(self, digits: int = 3) -> dict[str, float]:
        """The phases, rounded, in the order they were first entered."""
        return {k: round(v, digits) for k, v in self.seconds.items()}


def null_phase(_: str) -> contextlib.AbstractContextManager[None]:
    """A stand-in for a :class:`Stopwatch` that records nothing."""
    return contextlib.nullcontext()


def format_timings(timings: dict[str, float]) -> str:
    """``train 5.0 s, validation 0.9 s, ..., evaluation 6.1 s (embed 4.0 s, knn 1.0 s)``."""
    parts = []
    for phase, seconds in timings.items():
        if "/" in phase:
            continue
        inner = [
            f"{sub.split('/', 1)[1]} {s:.1f} s"
            for sub, s in timings.items()
            if sub.startswith(phase + "/")
        ]
        parts.append(f"{phase} {seconds:.1f} s" + (f" ({', '.join(inner)})" if inner else ""))
    return ", ".join(parts)
