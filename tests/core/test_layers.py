"""Imports only point down: no import circle in the core, the extensions or bench/.

The graph comes from ``tests/layering.py`` (read with ``ast``; top-level,
function-local and ``TYPE_CHECKING`` imports all count).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from layering import find_circles, import_graph, imports_of

ROOT = Path(__file__).resolve().parents[2]
# The core, every extension distribution of the workspace, and bench/.
TREES = {
    "cyclone": (ROOT / "cyclone", "cyclone"),
    **{
        ext.name: (ext / ext.name, ext.name)
        for ext in sorted(ROOT.glob("cyclone_ext_*"))
        if (ext / ext.name / "__init__.py").exists()
    },
    "bench": (ROOT / "bench", None),
}
EXTENSIONS = [name for name in TREES if name.startswith("cyclone_ext_")]


def test_every_extension_of_the_workspace_is_checked():
    assert {"cyclone_ext_sql", "cyclone_ext_realtime"} <= set(EXTENSIONS)


@pytest.mark.parametrize("extension", EXTENSIONS)
def test_extensions_import_only_the_public_api_of_the_core(extension):
    private = []
    for path in sorted(TREES[extension][0].rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "cyclone" and any(p.startswith("_") for p in parts[1:]):
                    private.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert private == []


def test_the_graph_sees_every_kind_of_import():
    graph = import_graph(*TREES["cyclone"])
    assert "cyclone._handler" in graph["cyclone._static"]  # at the top
    assert "cyclone._connection" in graph["cyclone._request"]  # under TYPE_CHECKING
    assert "cyclone.escape" in graph["cyclone._handler"]  # from cyclone import escape
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg import hub\n"
        "def f():\n    import pkg.sse\n    from . import websocket\n    from ._b import X\n"
    )
    known = {"pkg", "pkg.hub", "pkg.sse", "pkg.websocket", "pkg._b"}
    assert imports_of(source, "pkg.probe", False, known) == known - {"pkg"}


def test_the_check_finds_a_circle():
    assert find_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_circles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("tree", sorted(TREES))
def test_no_import_circle(tree):
    graph = import_graph(*TREES[tree])
    assert len(graph) > 1
    circles = find_circles(graph)
    assert circles == [], f"import circles in {tree}: " + "; ".join(
        " <-> ".join(c) for c in circles
    )


def test_the_registry_and_its_contracts_import_nothing_of_cyclone():
    # The ground floor: plugins reads the contracts, and that is all it takes of cyclone.
    graph = import_graph(*TREES["cyclone"])
    assert graph["cyclone.contracts"] == set()
    assert graph["cyclone.plugins"] == {"cyclone.contracts"}


def test_the_hub_backend_contract_sits_below_both_backends():
    graph = import_graph(*TREES["cyclone_ext_realtime"])
    assert "cyclone_ext_realtime._backend" in graph["cyclone_ext_realtime._redis_hub"]
    assert "cyclone_ext_realtime._backend" in graph["cyclone_ext_realtime.hub"]
