"""Presets (the package is ``recipes`` so that ``mnistmax.presets()`` can be the API's listing):
named, complete :class:`~mnistmax.config.RunConfig` values, each with a line on what
it is for, one of them its method's default, and the ``mnistmax review`` budgets each runs in.
One home, one schema: ``triplet.py``, ``ssl.py`` and ``denoise.py`` register theirs with
:func:`preset`; everything else asks :func:`get_preset`, :func:`default_preset` and friends.

May import: nothing but the foundation (no code that trains). Imported by review, studies, report, the CLI.
"""

from mnistmax.recipes.registry import (
    PRESET_MODULES,
    PRESETS,
    QUICK_EVAL,
    InReview,
    Preset,
    default_preset,
    get_preset,
    in_review,
    preset,
    preset_about,
    preset_listing,
    preset_methods,
    preset_names,
)

__all__ = [
    "PRESETS",
    "PRESET_MODULES",
    "QUICK_EVAL",
    "InReview",
    "Preset",
    "default_preset",
    "get_preset",
    "in_review",
    "preset",
    "preset_about",
    "preset_listing",
    "preset_methods",
    "preset_names",
]
