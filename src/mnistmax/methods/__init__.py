"""Methods: wiring of encoder, head, augmentation, miner and loss. ``build_method(cfg)``."""

from __future__ import annotations

from mnistmax.config import RunConfig
from mnistmax.methods.base import Method, StepOutput
from mnistmax.registry import Registry

METHODS: Registry[Method] = Registry("method")

# Modules that register methods; imported on first use to keep CLI start-up light.
METHOD_MODULES = ("mnistmax.methods.triplet", "mnistmax.methods.ssl", "mnistmax.methods.denoise")


def build_method(cfg: RunConfig) -> Method:
    """Build the method named by ``cfg.method`` (fresh, untrained)."""
    import importlib

    for module in METHOD_MODULES:
        importlib.import_module(module)
    return METHODS.build(cfg.method, cfg=cfg)


__all__ = ["METHODS", "Method", "StepOutput", "build_method"]
