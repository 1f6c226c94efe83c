"""Method families: one object per kind of run answers everything family-specific.

A family (representation learning, denoising; later clustering without labels, learning from
few labels) knows how its runs are trained and which command trains them. ``review``, the study
engine and the study report ask :func:`family_of` instead of comparing a method's name; each
method class names its family (``Method.family``). Issue 19 moves the rest here next: figures,
evaluation, the metrics a family declares and the report columns they fill.

May import: config, registry, methods (to read ``Method.family``); the training code only inside
a family's methods.
"""

from mnistmax.families.base import FAMILIES, FAMILY_MODULES, Family, family_of

__all__ = ["FAMILIES", "FAMILY_MODULES", "Family", "family_of"]
