"""Each package's ``__init__`` says which packages it may import ("May import: ..."); the code
keeps to it, counting imports inside functions. The foundation modules (config, errors, io,
registry, progress, timing, device, logs, version, draws, signals, rules, extras) may be
imported anywhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import mnistmax

SRC = Path(mnistmax.__file__).parent
FOUNDATION = {
    "config",
    "errors",
    "io",
    "registry",
    "progress",
    "timing",
    "device",
    "logs",
    "version",
    "draws",
    "signals",
    "rules",
    "extras",
}
PACKAGES = sorted(p.parent.name for p in SRC.glob("*/__init__.py"))


def declared(package: str) -> set[str] | None:
    """Packages ``package`` may import by its docstring (``None``: any)."""
    doc = ast.get_docstring(ast.parse((SRC / package / "__init__.py").read_text())) or ""
    match = re.search(r"May import: ([^.]*)\.", doc.replace("\n", " "))
    assert match, f"{package}/__init__.py does not say what it may import"
    if match.group(1).startswith("anything"):
        return None
    return {w for w in re.findall(r"[a-z_]+", match.group(1)) if w in PACKAGES}


def imported(package: str) -> dict[str, set[str]]:
    """mnistmax packages and top-level modules ``package`` imports → the files that do."""
    out: dict[str, set[str]] = {}
    for path in (SRC / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "mnistmax" and len(parts) > 1 and parts[1] != package:
                    out.setdefault(parts[1], set()).add(str(path.relative_to(SRC)))
    return out


def test_every_package_keeps_to_what_it_may_import() -> None:
    bad = []
    for package in PACKAGES:
        allowed = declared(package)
        if allowed is None:
            continue
        for target, files in sorted(imported(package).items()):
            if target not in allowed | FOUNDATION:
                bad.append(f"{package} imports {target} ({', '.join(sorted(files))})")
    assert not bad, "\n".join(bad)


def test_the_check_reads_the_docstrings() -> None:
    assert declared("recipes") == set()
    assert declared("cli") is None
    assert "eval" in (declared("training") or set())
