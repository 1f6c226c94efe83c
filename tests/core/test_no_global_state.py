"""Importing mnistmax changes no global state: matplotlib's backend, the root logger and
optuna's verbosity are as they were after every module of the package is imported."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import importlib, logging, pkgutil, sys
import matplotlib
matplotlib.use("svg")  # what a notebook or an application chose
import optuna
optuna.logging.set_verbosity(optuna.logging.DEBUG)
root = logging.getLogger()
before = (matplotlib.get_backend(), root.level, list(root.handlers),
          optuna.logging.get_verbosity(), list(logging.getLogger("mnistmax").handlers))
import mnistmax
for m in pkgutil.walk_packages(mnistmax.__path__, "mnistmax."):
    if m.name.endswith("__main__"):
        continue
    importlib.import_module(m.name)
after = (matplotlib.get_backend(), root.level, list(root.handlers),
         optuna.logging.get_verbosity(), list(logging.getLogger("mnistmax").handlers))
print(before == after, before, after)
sys.exit(0 if before == after else 1)
"""


def test_importing_every_module_changes_no_global_state() -> None:
    # A fresh interpreter: the test process has imported (and configured) things already.
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
