"""Where the library's messages go when a process of ours runs it.

Library code logs under ``mnistmax.*`` and never configures logging: in a notebook or an
application the host decides. Our own entry points (the CLI, a study's worker processes) call
:func:`configure` to show the records, one plain line each on stderr, and quiet optuna's
per-trial lines and experimental-feature warnings there.
"""

from __future__ import annotations

import logging
import sys
import warnings


class _Lines(logging.Handler):
    """Each record as its message, one line on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:  # a closed stream must not end the command
            self.handleError(record)


def configure(level: int = logging.INFO) -> None:
    """Show ``mnistmax.*`` records at ``level`` and above on stderr (idempotent); optuna logs
    warnings only and its experimental-feature warnings are hidden (the process is ours)."""
    logger = logging.getLogger("mnistmax")
    for handler in [h for h in logger.handlers if isinstance(h, _Lines)]:
        logger.removeHandler(handler)
    logger.addHandler(_Lines())
    logger.setLevel(level)
    logging.getLogger("optuna").setLevel(max(level, logging.WARNING))
    warnings.filterwarnings("ignore", message=".*is experimental.*")
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")
