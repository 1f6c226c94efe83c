"""Optional features and the extras that install them (``pip install 'mnistmax[EXTRA]'``).

The core installs what training, evaluation, PCA figures and the report need. Every import of a
package that only an extra brings goes through :func:`require`, so a missing one is one sentence
that names the extra to install (a :class:`~mnistmax.errors.ConfigError`: exit 2 in the CLI)
rather than a traceback. The lists here match ``[project.optional-dependencies]``.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from mnistmax.errors import ConfigError

# extra -> the modules it brings (import names) that mnistmax uses.
EXTRAS: dict[str, tuple[str, ...]] = {
    "maps": ("openTSNE", "umap"),
    "studies": ("optuna", "sqlalchemy", "psycopg2"),
    "tensorboard": ("tensorboard",),
}


def missing(feature: str, extra: str) -> ConfigError:
    """The one-sentence error for ``feature`` (plural: "t-SNE maps") without ``extra``."""
    return ConfigError(
        f"{feature} need the {extra!r} extra, which is not installed: "
        f"pip install 'mnistmax[{extra}]' (or 'mnistmax[all]' for every extra)"
    )


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` (a package that ``extra`` installs) for ``feature``.

    A package that is not installed, or that lacks a dependency of its own (a partial install),
    is :func:`missing`; any other import failure of an installed package propagates unchanged.
    """
    if module not in EXTRAS.get(extra, ()):
        raise ValueError(f"{module!r} is not a module of the {extra!r} extra")
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        raise missing(feature, extra) from None


def installed(module: str) -> bool:
    """Whether ``module`` can be imported, judged without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
