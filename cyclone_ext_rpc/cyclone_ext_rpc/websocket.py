"""JSON-RPC 2.0 over WebSocket: requests, responses and server notifications on one socket.

Needs ``cyclone[realtime]``. Each text message is one JSON-RPC payload (a request,
a notification or a batch) processed exactly as over HTTP; the answer, if any, is
one text message. Calls of different messages run concurrently (answers carry
their ids) up to ``max_in_flight``; past that, reading waits for a call to end.
The server sends notifications with :meth:`JsonrpcWebSocketHandler.notify`, or a
method does with ``context.notify``.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.internet import defer

from cyclone_ext_realtime import WebSocketClosedError, WebSocketHandler
from cyclone_ext_rpc.jsonrpc import JsonRpcMixin

__all__ = ["JsonrpcWebSocketHandler"]


class JsonrpcWebSocketHandler(JsonRpcMixin, WebSocketHandler):
    """A WebSocket that serves JSON-RPC: ``jsonrpc_<name>`` methods or a ``service``."""

    rpc_transport = "websocket"
    max_in_flight: int = 32
    _in_flight = 0

    def initialize(self, service: Any = None, **kwargs: Any) -> None:
        if service is not None:
            self.service = service
        for name, value in kwargs.items():
            if name not in ("max_batch", "max_depth", "discover", "max_in_flight"):
                raise TypeError(f"unexpected argument {name!r}")
            setattr(self, name, value)

    def on_message(self, message: str | bytes) -> defer.Deferred[None] | None:
        answer = self.answer_jsonrpc(message)
        if not isinstance(answer, defer.Deferred):
            self._answer(answer)
            return None
        self._in_flight += 1
        d = answer.addCallback(self._answer)
        d.addBoth(self._call_ended)
        # Returning the Deferred makes the next message wait for this one.
        return d if self._in_flight > self.max_in_flight else None

    def _call_ended(self, result: Any) -> None:
        self._in_flight -= 1
        return None

    def _answer(self, text: str | None) -> None:
        if text is not None:
            try:
                self.write_message(text)
            except WebSocketClosedError:
                pass  # the client left before the answer

    def notify(self, method: str, params: list[Any] | dict[str, Any] | None = None) -> None:
        """Send the client a JSON-RPC notification (a request without an id)."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.write_message(json.dumps(message, separators=(",", ":")))
