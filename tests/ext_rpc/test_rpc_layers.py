"""The RPC extension has no import circle and imports only the core's public API."""

from __future__ import annotations

import ast
from pathlib import Path

from layering import find_circles, import_graph

PACKAGE = Path(__file__).resolve().parents[2] / "cyclone_ext_rpc" / "cyclone_ext_rpc"


def test_no_import_circle():
    graph = import_graph(PACKAGE, "cyclone_ext_rpc")
    assert "cyclone_ext_rpc.methods" in graph["cyclone_ext_rpc.jsonrpc"]
    assert find_circles(graph) == []


def test_only_public_names_of_the_core():
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cyclone."):
                assert not any(part.startswith("_") for part in node.module.split(".")), path
                assert not any(a.name.startswith("_") for a in node.names), (path, node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("cyclone."):
                        assert not any(p.startswith("_") for p in alias.name.split(".")), path


def test_only_the_websocket_module_needs_the_realtime_extension():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "cyclone_ext_realtime" in path.read_text(encoding="utf-8"):
            assert path.name == "websocket.py", path
