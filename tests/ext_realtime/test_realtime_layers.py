"""No import circle among the modules of cyclone_ext_realtime.

Every import counts: module level, function-local, and those under
``if TYPE_CHECKING:``, since a circle through any of them still ties the
modules together. The graph is read from the source (AST), nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cyclone_ext_realtime

PACKAGE = "cyclone_ext_realtime"
ROOT = Path(cyclone_ext_realtime.__file__).parent


def module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """The package's modules that module ``name`` imports, anywhere in its body."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            targets = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
        for target in targets:
            # "from pkg.a import b": pkg.a is imported, and pkg.a.b if it is a module
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and target != PACKAGE:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    paths = sorted(ROOT.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {
        module_name(p): imports_of(p.read_text(), module_name(p), p.name == "__init__.py", modules)
        for p in paths
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
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
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_checker_sees_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_counts_function_local_and_type_checking_imports():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from cyclone_ext_realtime import hub\n"
        "def f():\n    import cyclone_ext_realtime.sse\n"
        "    from . import websocket\n"
        "    from ._backend import HubBackend\n"
    )
    modules = {PACKAGE} | {f"{PACKAGE}.{m}" for m in ("hub", "sse", "websocket", "_backend")}
    found = imports_of(source, f"{PACKAGE}.probe", False, modules)
    assert found == {f"{PACKAGE}.{m}" for m in ("hub", "sse", "websocket", "_backend")}


def test_no_import_circle_in_cyclone_ext_realtime():
    edges = graph()
    assert f"{PACKAGE}.hub" in edges and f"{PACKAGE}._redis_hub" in edges
    assert f"{PACKAGE}._backend" in edges[f"{PACKAGE}._redis_hub"]
    found = cycles(edges)
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)
