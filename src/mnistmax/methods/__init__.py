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
    """Every registered method, in registration order (triplet, the SSL methods, denoise)."""
    _load_all()
    return METHODS.in_order()


__all__ = ["METHODS", "Method", "StepOutput", "build_method", "method_class", "method_names"]
