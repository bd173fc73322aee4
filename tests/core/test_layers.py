"""Imports inside ``cyclone/`` only point down: no import circle among its modules.

Every import counts, wherever it is written: at the top, inside a function
(a "lazy" import), or under ``if TYPE_CHECKING:``. The graph is read with
``ast`` from the source files, so nothing is imported to build it.
"""

import ast
from pathlib import Path

import cyclone

PACKAGE_DIR = Path(cyclone.__file__).resolve().parent


def _modules() -> dict[str, tuple[ast.Module, bool]]:
    """Module name -> (its syntax tree, whether it is a package ``__init__``)."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = ["cyclone", *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (ast.parse(path.read_text(encoding="utf-8")), is_package)
    return found


def _imported(tree: ast.Module, here: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``tree`` (the module ``here``) imports, anywhere in it."""
    package = here.split(".") if is_package else here.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            targets.update(n for n in names if n in known)
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[: len(package) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        for alias in node.names:
            submodule = f"{module}.{alias.name}"
            if submodule in known:  # from cyclone import escape: the module escape
                targets.add(submodule)
            elif module in known:  # from cyclone._handler import RequestHandler
                targets.add(module)
    targets.discard(here)
    return targets


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: _imported(tree, name, is_package, known)
        for name, (tree, is_package) in modules.items()
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


def test_the_graph_sees_every_kind_of_import():
    graph = import_graph()
    assert "cyclone._handler" in graph["cyclone._static"]  # at the top
    assert "cyclone._connection" in graph["cyclone._request"]  # under TYPE_CHECKING
    assert "cyclone.escape" in graph["cyclone._handler"]  # from cyclone import escape


def test_the_check_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_circles(graph) == [["a", "b", "c"]]
    assert find_circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_cyclone():
    circles = find_circles(import_graph())
    assert circles == [], "import circles in cyclone/: " + "; ".join(
        " <-> ".join(c) for c in circles
    )


def test_plugins_imports_nothing_of_cyclone():
    assert import_graph()["cyclone.plugins"] == set()
