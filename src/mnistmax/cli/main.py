"""Entry point. Each command lives in its own module exposing ``register(subparsers)``.

Heavy modules (torch, matplotlib) are imported inside command handlers so that
``mnistmax --help`` and argument errors stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from mnistmax.logs import configure as configure_logs
from mnistmax.signals import sigterm_as_interrupt
from mnistmax.version import __version__

# Modules under mnistmax.cli that register sub-commands, in help order.
COMMAND_MODULES = (
    "data_cmd",
    "augment_cmd",
    "train_cmd",
    "eval_cmd",
    "embed_cmd",
    "viz_cmd",
    "denoise_cmd",
    "study_cmd",
    "report_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered command."""
    parser = argparse.ArgumentParser(
        prog="mnistmax",
        description="Representation learning on MNIST-family datasets.",
    )
    parser.add_argument("--version", action="version", version=f"mnistmax {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more messages (debug); give before COMMAND",
    )
    parser.add_argument(
        "-q", "--quiet", dest="log_quiet", action="store_true", help="warnings and errors only"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"mnistmax.cli.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code: 0 done, 2 bad usage or config (one sentence),
    1 a runtime failure, 130 interrupted (Ctrl-C or SIGTERM; the run resumes)."""
    from mnistmax.errors import MnistmaxError

    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    quiet = args.log_quiet or getattr(args, "quiet", False)
    configure_logs(logging.DEBUG if args.verbose else logging.WARNING if quiet else logging.INFO)
    try:
        with sigterm_as_interrupt():
            return int(args.func(args) or 0)
    except MnistmaxError as exc:
        print(f"mnistmax: error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))  # bad input: 2; a failure such as storage: 1
    except KeyboardInterrupt:
        print(
            "mnistmax: interrupted; the run can be resumed with the same command.", file=sys.stderr
        )
        return 130
    except Exception as exc:  # a bug or a failing machine: the traceback to a file, one line here
        log = error_log(args)
        print(
            f"mnistmax {command_name(args)}: failed unexpectedly ({type(exc).__name__}: {exc}); "
            f"the traceback is in {log}",
            file=sys.stderr,
        )
        return 1


def command_name(args: argparse.Namespace) -> str:
    """``train``, ``denoise train``, ... of the parsed arguments."""
    words = [args.command] + [
        v for k, v in vars(args).items() if k.endswith("_command") and isinstance(v, str)
    ]
    return " ".join(w for w in words if w)


def error_log(args: argparse.Namespace) -> Path:
    """Write the current exception's traceback to ``DIR/error.log``: the command's run folder
    (``--out`` or the run given) when it exists, else a temporary folder."""
    import tempfile
    import traceback

    from mnistmax.io import write_text_atomic

    folder = next(
        (
            Path(p)
            for p in (getattr(args, "out", None), getattr(args, "run", None))
            if isinstance(p, str) and Path(p).is_dir()
        ),
        Path(tempfile.gettempdir()) / "mnistmax",
    )
    path = folder / "error.log"
    try:
        write_text_atomic(path, " ".join(sys.argv) + "\n\n" + traceback.format_exc())
    except OSError:
        path = Path(tempfile.mkstemp(prefix="mnistmax-error-", suffix=".log")[1])
        path.write_text(traceback.format_exc())
    return path


def entry() -> None:
    """Console-script wrapper around :func:`main`."""
    sys.exit(main())
