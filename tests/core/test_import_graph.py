"""No import cycles in src/, counting the imports inside functions.

A function-level import hides a cycle from Python (it runs after both modules are loaded) but not
from a reader: two modules that import each other are one module split in two. The graph is read
with ``ast`` (nothing is imported); an edge is every ``import`` or ``from ... import`` of a
``mnistmax`` module, wherever it stands, resolved to the module it names (``from pkg import mod``
names ``pkg.mod`` when that is a module, else ``pkg``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def _modules(src: Path) -> dict[str, Path]:
    out = {}
    for path in (src / "mnistmax").rglob("*.py"):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _targets(module: str, node: ast.Import | ast.ImportFrom, mods: dict[str, Path]) -> list[str]:
    def known(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    if isinstance(node, ast.Import):
        found = (known(a.name) for a in node.names if a.name.startswith("mnistmax"))
        return [t for t in found if t]
    base = node.module or ""
    if node.level:  # relative: from the module's package upwards
        package = module if mods[module].name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    if not base.startswith("mnistmax"):
        return []
    found = (f"{base}.{a.name}" if f"{base}.{a.name}" in mods else known(base) for a in node.names)
    return [t for t in found if t]


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """``{module: modules it imports}`` over every mnistmax module under ``src``."""
    mods = _modules(src)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                graph[module] |= {t for t in _targets(module, node, mods) if t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_src_has_no_import_cycles() -> None:
    graph = import_graph()
    assert (
        "mnistmax.training.loop" in graph and "mnistmax.eval.knn" in graph["mnistmax.training.loop"]
    )
    assert cycles(graph) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # a → b at module level, b → a inside a function: still a cycle
        (
            {
                "a.py": "from mnistmax import b\n",
                "b.py": "def f():\n    from mnistmax.a import x\n",
            },
            [["mnistmax.a", "mnistmax.b"]],
        ),
        # a relative import into a package's __init__, which imports the module back
        (
            {
                "p/__init__.py": "from mnistmax.p.m import y\n",
                "p/m.py": "def g():\n    from . import z\n",
            },
            [["mnistmax.p", "mnistmax.p.m"]],
        ),
        # a chain is not a cycle
        ({"a.py": "import mnistmax.b\n", "b.py": "import os\n"}, []),
    ],
)
def test_cycle_finder_sees_hidden_cycles(
    files: dict[str, str], expected: list[list[str]], tmp_path: Path
) -> None:
    for name, text in {"__init__.py": "", **files}.items():
        path = tmp_path / "mnistmax" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert cycles(import_graph(tmp_path)) == expected
