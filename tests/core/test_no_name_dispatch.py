"""Dispatch goes through the registries, never through a method's or family's name.

Outside the packages that define methods, families and presets (``recipes/``), no code may compare a value with
a registered method or family name (``cfg.method == "denoise"``, ``m in ("triplet", "supcon")``)
nor keep a hand-made list of several of them (``METHOD_ORDER = ("triplet", "simclr", ...)``):
such code is what a new method would have to find and edit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mnistmax
from mnistmax.families import families
from mnistmax.methods import method_names

SRC = Path(mnistmax.__file__).parent
#: Where names are defined: each method, family and preset registers itself under its name.
OWNERS = ("methods", "families", "recipes")


def _names() -> set[str]:
    return set(method_names()) | {f.name for f in families()}


def _literal_names(node: ast.AST, names: set[str]) -> list[str]:
    if isinstance(node, ast.Constant) and node.value in names:
        return [str(node.value)]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [str(e.value) for e in node.elts if isinstance(e, ast.Constant) and e.value in names]
    return []


def offences(source: str, names: set[str]) -> list[tuple[int, str]]:
    """``(line, what)`` for every name comparison and every hand list of names in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            hit = [
                n for side in (node.left, *node.comparators) for n in _literal_names(side, names)
            ]
            if hit:
                found.append((node.lineno, f"compares with {hit}"))
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            hit = _literal_names(node, names)
            if len(hit) >= 2:
                found.append((node.lineno, f"lists {hit} by hand"))
    return found


def test_the_check_finds_comparisons_and_hand_lists() -> None:
    names = {"denoise", "triplet", "supcon"}
    src = (
        'a = cfg.method == "denoise"\n'
        'b = m in ("triplet", "supcon")\n'
        'ORDER = ["triplet", "denoise"]\n'
        'ok = cfg.method == other and x == "simclr_quick"\n'
    )
    assert sorted(line for line, _ in offences(src, names)) == [1, 2, 2, 3]


def test_no_code_outside_the_registries_dispatches_on_a_name() -> None:
    names = _names()
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] in OWNERS:
            continue
        bad += [f"{rel}:{line}: {what}" for line, what in offences(path.read_text(), names)]
    assert not bad, "dispatch through the registry instead:\n" + "\n".join(bad)
