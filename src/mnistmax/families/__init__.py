"""Method families: one object per kind of run answers everything family-specific.

A family (representation learning, denoising; later clustering without labels, learning from
few labels) owns what differs between kinds of run: the configs it accepts, the per-epoch trace
and its figures, what it writes after training, how it evaluates a run folder, the command that
trains it. Every run goes through one pipeline, :meth:`Family.train`. ``mnistmax train``,
``denoise train``, ``review``, the study engine and the study report ask :func:`family_of`
instead of comparing a method's name; each method class names its family (``Method.family``).
Still to come here (issue 19): the metrics a family declares and the report columns they fill.

May import: config, registry, methods (to read ``Method.family``); the training code only inside
a family's methods.
"""

from mnistmax.families.base import FAMILIES, FAMILY_MODULES, Family, Tracer, family_of

__all__ = ["FAMILIES", "FAMILY_MODULES", "Family", "Tracer", "family_of"]
