"""The project's import graph, read from source with ``ast`` (nothing is imported).

Every import counts, wherever it is written: at the top, inside a function (a
"lazy" import) or under ``if TYPE_CHECKING:``; a circle through any of them still
ties the modules together. Used by ``tests/core/test_layers.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path


def modules_of(root: Path, package: str | None) -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is a package ``__init__``) for the ``.py`` files under ``root``.

    With ``package`` the names are ``package.sub.mod``; without one (a folder of
    scripts such as ``bench/``) each file is a top-level module named by its stem.
    """
    found: dict[str, tuple[Path, bool]] = {}
    paths = sorted(root.rglob("*.py")) if package else sorted(root.glob("*.py"))
    for path in paths:
        parts = [*path.relative_to(root).with_suffix("").parts]
        if package:
            parts.insert(0, package)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def imports_of(source: str, name: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules of ``known`` that the module ``name`` imports, anywhere in its body."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # "from pkg.a import b" imports pkg.a, and pkg.a.b when that is a module.
            targets = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and not is_package_of(target, name):
                found.add(target)
    return found


def is_package_of(target: str, name: str) -> bool:
    """True when ``target`` is a package that contains ``name`` (imported implicitly)."""
    return name.startswith(target + ".")


def import_graph(root: Path, package: str | None) -> dict[str, set[str]]:
    modules = modules_of(root, package)
    known = set(modules)
    return {
        name: imports_of(path.read_text(encoding="utf-8"), name, is_package, known)
        for name, (path, is_package) in modules.items()
    }


def find_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(circles)
