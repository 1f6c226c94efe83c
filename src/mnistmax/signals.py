"""SIGTERM as Ctrl-C: a scheduler's preemption or ``kill`` stops a command the way Ctrl-C does
(the run keeps its last checkpoint and resumes with the same command; exit status 130)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Handle SIGTERM (a scheduler's preemption, ``kill``) like Ctrl-C inside the block."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
