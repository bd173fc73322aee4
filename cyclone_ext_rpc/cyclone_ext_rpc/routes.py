"""One service, every protocol: the URL specs that expose a plain object over RPC."""

from __future__ import annotations

from typing import Any

from cyclone_ext_rpc.jsonrpc import JsonrpcRequestHandler
from cyclone_ext_rpc.xmlrpc import XmlrpcRequestHandler

__all__ = ["routes"]


def routes(
    service: Any,
    jsonrpc: str | None = None,
    xmlrpc: str | None = None,
    websocket: str | None = None,
    mixin: type | None = None,
    **options: Any,
) -> list[tuple[str, type, dict[str, Any]]]:
    """URL specs serving ``service``'s public methods at each path given.

    ``jsonrpc`` is JSON-RPC over HTTP, ``xmlrpc`` XML-RPC over HTTP and
    ``websocket`` JSON-RPC over WebSocket (needs ``cyclone[realtime]``). ``mixin``
    goes first in every handler's bases: define ``get_current_user`` (or
    ``prepare``) there, and ``current_user`` and :func:`authenticated` work for all
    three. ``options`` are handler settings (``max_batch``, ``max_depth``,
    ``allowNone``...) given to the handlers that know them.

    Example: ``Application(routes(Calculator(), jsonrpc="/rpc", xmlrpc="/RPC2"))``.
    """
    bases: list[tuple[str | None, type, tuple[str, ...]]] = [
        (jsonrpc, JsonrpcRequestHandler, ("max_batch", "max_depth", "discover", "max_body_size")),
        (xmlrpc, XmlrpcRequestHandler, ("allowNone", "useDateTime", "useBuiltinTypes",
                                        "max_body_size")),
    ]  # fmt: skip
    if websocket is not None:
        from cyclone_ext_rpc.websocket import JsonrpcWebSocketHandler

        bases.append(
            (websocket, JsonrpcWebSocketHandler, ("max_batch", "max_depth", "discover",
                                                  "max_in_flight"))
        )  # fmt: skip
    known = {name for _path, _base, names in bases for name in names}
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"unexpected options: {', '.join(sorted(unknown))}")
    specs = []
    for path, base, names in bases:
        if path is None:
            continue
        handler = base
        if mixin is not None:
            handler = type(f"{mixin.__name__}{base.__name__}", (mixin, base), {})
        kwargs = {"service": service, **{k: v for k, v in options.items() if k in names}}
        specs.append((path, handler, kwargs))
    if not specs:
        raise ValueError("give at least one of jsonrpc=, xmlrpc= or websocket=")
    return specs
