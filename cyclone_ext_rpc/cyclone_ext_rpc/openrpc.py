"""An OpenRPC document (``rpc.discover``) made from the methods' signatures and docstrings.

Annotations become JSON Schemas where they are plain (``int``, ``str``,
``list[int]``, ``X | None``...); anything else is ``{}`` (any value).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

from cyclone_ext_rpc.methods import doc_of, signature_of

__all__ = ["OPENRPC_VERSION", "openrpc_document", "schema_of"]

OPENRPC_VERSION = "1.2.6"

_SCHEMAS: dict[Any, dict[str, Any]] = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    list: {"type": "array"},
    tuple: {"type": "array"},
    dict: {"type": "object"},
}


def schema_of(annotation: Any) -> dict[str, Any]:
    """The JSON Schema of a type annotation (``{}`` when it cannot tell)."""
    if annotation is None:
        return {"type": "null"}
    if annotation in _SCHEMAS:
        return dict(_SCHEMAS[annotation])
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return {"oneOf": [schema_of(a) for a in args]}
    if origin in (list, tuple) and args:
        return {"type": "array", "items": schema_of(args[0])}
    if origin is dict:
        schema: dict[str, Any] = {"type": "object"}
        if len(args) == 2:
            schema["additionalProperties"] = schema_of(args[1])
        return schema
    if origin is not None and origin in _SCHEMAS:
        return dict(_SCHEMAS[origin])
    return {}


def _method(name: str, method: Callable[..., Any]) -> dict[str, Any]:
    try:
        hints = typing.get_type_hints(method)
    except Exception:
        hints = {}
    sig = signature_of(method).signature
    params = []
    for pname, param in sig.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        entry: dict[str, Any] = {
            "name": pname,
            "schema": schema_of(hints[pname]) if pname in hints else {},
        }
        if param.default is inspect.Parameter.empty:
            entry["required"] = True
        params.append(entry)
    doc = doc_of(method)
    described: dict[str, Any] = {"name": name, "params": params}
    if doc:
        described["summary"] = doc.splitlines()[0]
        described["description"] = doc
    result_schema = schema_of(hints["return"]) if "return" in hints else {}
    described["result"] = {"name": "result", "schema": result_schema}
    return described


def openrpc_document(
    methods: dict[str, Callable[..., Any]], title: str, version: str = "1.0.0"
) -> dict[str, Any]:
    """The OpenRPC document describing ``methods`` (name → callable)."""
    return {
        "openrpc": OPENRPC_VERSION,
        "info": {"title": title, "version": version},
        "methods": [_method(n, m) for n, m in sorted(methods.items())],
    }
