"""Shared fixtures of the evaluation tests; puts ``tests/`` on the path for ``helpers``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

# tests/helpers.py holds the naive references; tests/ is not a package, so make it importable.
_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Run each evaluation test on one intra-op thread, then restore the setting.

    These tests use tiny tensors, where a second OpenMP thread only adds synchronisation; on a
    busy 2-core machine every tiny op can then wait milliseconds for a descheduled thread, which
    made L-BFGS tests ~3x slower in wall time. Results do not depend on the thread count here.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
