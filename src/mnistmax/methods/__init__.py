"""Methods: wiring of encoder, head, augmentation, miner and loss. ``build_method(cfg)``.

May import: augment, data, eval, losses, models, noise, training. Imported by the families, the
loop and the report (which reads a method class's attributes, never its name).
"""

from __future__ import annotations

import importlib

from mnistmax.config import RunConfig
from mnistmax.methods.base import Method, StepOutput
from mnistmax.registry import Registry

METHODS: Registry[Method] = Registry("method")

# Modules that register methods; imported on first use to keep CLI start-up light.
METHOD_MODULES = ("mnistmax.methods.triplet", "mnistmax.methods.ssl", "mnistmax.methods.denoise")


def _load_all() -> None:
    for module in METHOD_MODULES:
        importlib.import_module(module)


def build_method(cfg: RunConfig) -> Method:
    """Build the method named by ``cfg.method`` (fresh, untrained)."""
    _load_all()
    return METHODS.build(cfg.method, cfg=cfg)


def method_class(name: str) -> type[Method]:
    """The registered class of method ``name`` (its attributes: family, uses_labels, ...)."""
    _load_all()
    cls = METHODS.factory(name)
    assert isinstance(cls, type)
    return cls


def method_names() -> list[str]:
    """Every registered method, in registration order (triplet, the SSL methods, denoise).

    Ordered by :data:`METHOD_MODULES` first: registration follows import order, and a caller
    that imports ``mnistmax.methods.ssl`` before anything else (a test module) would otherwise
    put the SSL methods before triplet in every table and listing.
    """
    _load_all()
    names = METHODS.in_order()
    modules = list(METHOD_MODULES)

    def rank(name: str) -> int:
        module = getattr(METHODS.factory(name), "__module__", "")
        return modules.index(module) if module in modules else len(modules)

    return sorted(names, key=rank)  # stable: registration order within a module


__all__ = ["METHODS", "Method", "StepOutput", "build_method", "method_class", "method_names"]
