"""RPC for cyclone, registered in the ``cyclone.rpc`` entry-point group.

- ``jsonrpc``: :class:`JsonrpcRequestHandler`, JSON-RPC 2.0 over HTTP (and the 1.0
  shape); :class:`JsonrpcWebSocketHandler` serves it over WebSocket (with
  ``cyclone[realtime]``).
- ``xmlrpc``: :class:`XmlrpcRequestHandler`, XML-RPC with introspection and
  ``system.multicall``.
- :func:`routes` exposes one plain object over all three at once; the clients are
  :class:`JsonRPC` and :class:`XmlRpcProxy`. See docs/rpc.md.
"""

from typing import Any

from cyclone_ext_rpc.client import JsonRPC, JsonRpcBatch, XmlRpcProxy
from cyclone_ext_rpc.errors import Fault, JsonRpcError
from cyclone_ext_rpc.jsonrpc import JsonRpcMixin, JsonrpcRequestHandler
from cyclone_ext_rpc.methods import RpcContext, authenticated
from cyclone_ext_rpc.openrpc import openrpc_document
from cyclone_ext_rpc.routes import routes
from cyclone_ext_rpc.xmlrpc import XmlrpcRequestHandler

__all__ = [
    "Fault",
    "JsonRPC",
    "JsonRpcBatch",
    "JsonRpcError",
    "JsonRpcMixin",
    "JsonrpcRequestHandler",
    "RpcContext",
    "XmlRpcProxy",
    "XmlrpcRequestHandler",
    "authenticated",
    "openrpc_document",
    "routes",
]


def __getattr__(name: str) -> Any:
    # The WebSocket handler needs cyclone-ext-realtime: imported only when asked for.
    if name == "JsonrpcWebSocketHandler":
        from cyclone_ext_rpc.websocket import JsonrpcWebSocketHandler

        return JsonrpcWebSocketHandler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
