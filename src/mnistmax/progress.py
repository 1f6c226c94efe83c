"""Progress bars (rate and ETA) that ``--quiet`` silences."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def progress(
    iterable: Iterable[T], *, quiet: bool, desc: str = "", total: int | None = None, **kw: Any
) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar unless ``quiet``."""
    if quiet:
        yield from iterable
        return
    from tqdm.auto import tqdm  # tqdm: kept out of the CLI's start-up (data commands)

    yield from tqdm(iterable, desc=desc, total=total, dynamic_ncols=True, leave=False, **kw)
