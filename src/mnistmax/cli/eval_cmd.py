"""Placeholder: filled in by the module's owner."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Register this module's commands on the top-level sub-parser."""
    del sub
    _ = argparse
