"""Method families: one object per kind of run answers everything family-specific.

A family (representation learning, denoising; later clustering without labels, learning from
few labels) owns what differs between kinds of run: the configs it accepts, the per-epoch trace
and its figures, what it writes after training, how it evaluates a run folder, the command that
trains it, the declared metrics its eval.json fills (the report's columns) and its baselines.
Every run goes through one pipeline, :meth:`Family.train`. ``mnistmax train``, ``denoise
train``, ``review``, the study engine and the report ask :func:`family_of` instead of comparing
a method's name; each method class names its family (``Method.family``).

May import: data, denoise, eval, methods, noise, representation, training, viz. Imported by
the application layer (review, studies, report, CLI).
"""

from mnistmax.families.base import (
    FAMILIES,
    FAMILY_MODULES,
    BaselineRef,
    Family,
    Tracer,
    families,
    family_of,
    train_run,
)

__all__ = [
    "FAMILIES",
    "FAMILY_MODULES",
    "BaselineRef",
    "Family",
    "Tracer",
    "families",
    "family_of",
    "train_run",
]
