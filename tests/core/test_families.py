"""Method families: every method belongs to one, and the callers that used to compare method
names with "denoise" ask the family instead."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from mnistmax.errors import ConfigError
from mnistmax.families import FAMILIES, Family, family_of
from mnistmax.methods import METHOD_MODULES, METHODS

SRC = Path(__file__).resolve().parents[2] / "src" / "mnistmax"


def _all_methods() -> list[str]:
    for module in METHOD_MODULES:
        importlib.import_module(module)
    return METHODS.names()


@pytest.mark.parametrize("method", _all_methods())
def test_every_method_has_a_registered_family(method: str) -> None:
    family = family_of(method)
    assert isinstance(family, Family) and family.name in FAMILIES.names()
    assert family.train_command(method).startswith("mnistmax ")


def test_the_two_families_today() -> None:
    assert family_of("triplet").train_command("triplet") == "mnistmax train triplet"
    assert family_of("vicreg").name == "representation"
    assert family_of("denoise").train_command("denoise") == "mnistmax denoise train"
    with pytest.raises(ConfigError, match="unknown method 'nope'"):
        family_of("nope")
