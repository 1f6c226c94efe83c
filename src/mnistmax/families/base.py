"""The family contract: what every kind of run answers for the rest of the program."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, ClassVar, cast

from mnistmax.config import RunConfig
from mnistmax.registry import Registry

# Modules that register families; imported on first look-up, like the methods.
FAMILY_MODULES = ("mnistmax.families.representation", "mnistmax.families.denoising")


class Family:
    """One kind of run (representation learning, denoising, ...). Subclasses set the class
    attributes and implement :meth:`train`; each method class names its family in
    ``Method.family``."""

    name: ClassVar[str]
    #: The command that trains one run of a method of this family; ``{method}`` is filled in.
    command: ClassVar[str]

    def train(
        self,
        cfg: RunConfig,
        out: str | Path,
        *,
        quiet: bool = False,
        evaluate: bool = True,
        stop_after_epochs: int | None = None,
    ) -> dict[str, Any]:
        """Train (or resume) the run in ``out``, write its figures, evaluate it: eval.json."""
        raise NotImplementedError

    def train_command(self, method: str) -> str:
        """The shell command that trains ``method`` (``mnistmax train simclr``, ...)."""
        return self.command.format(method=method)


FAMILIES: Registry[Family] = Registry("family")


def family_of(method: str) -> Family:
    """The family of the registered method ``method`` (unknown names: one clear ConfigError)."""
    from mnistmax.methods import METHOD_MODULES, METHODS, Method

    for module in (*METHOD_MODULES, *FAMILY_MODULES):
        importlib.import_module(module)
    method_class = cast("type[Method]", METHODS.factory(method))  # methods register classes
    return FAMILIES.build(method_class.family)
