"""The RPC demo: cyclone 1.x's RPC handlers, and one service over three protocols.

Run it with ``uv run python demos/rpc/app.py`` (port 8888), then try::

    >>> import xmlrpc.client
    >>> xmlrpc.client.ServerProxy("http://127.0.0.1:8888/xmlrpc").sort([3, 1, 2])
    >>> xmlrpc.client.ServerProxy("http://127.0.0.1:8888/RPC2").add(2, 3)

    curl -d '{"jsonrpc": "2.0", "method": "echo", "params": ["hi"], "id": 1}' \\
        http://127.0.0.1:8888/jsonrpc

``/xmlrpc`` and ``/jsonrpc`` are written the 1.x way (``cyclone.xmlrpc``,
``cyclone.jsonrpc``, ``xmlrpc_``/``jsonrpc_`` methods). ``/rpc`` (JSON-RPC),
``/RPC2`` (XML-RPC) and ``/ws`` (JSON-RPC over WebSocket) serve one plain
``Calculator`` object; ``/ws`` also pushes a ``clock`` notification every second
to the sockets that called ``subscribe``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from twisted.internet import defer, reactor, task

import cyclone.jsonrpc
import cyclone.web
import cyclone.xmlrpc
from cyclone_ext_rpc import JsonRpcError, RpcContext, routes


def _slowly(value: Any, delay: float) -> defer.Deferred[Any]:
    return task.deferLater(reactor, delay, lambda: value)


class XmlrpcHandler(cyclone.xmlrpc.XmlrpcRequestHandler):
    """The 1.x XML-RPC demo: echo, sort, count, and an asynchronous echo."""

    allowNone = True

    def xmlrpc_echo(self, text: str) -> str:
        """Return the text."""
        return text

    def xmlrpc_sort(self, items: list) -> list:
        """Return the items, sorted."""
        return sorted(items)

    def xmlrpc_count(self, items: list) -> int:
        """How many items there are."""
        return len(items)

    @defer.inlineCallbacks
    def xmlrpc_slow_echo(self, text: str, delay: float = 0.1) -> Any:
        """Return the text after ``delay`` seconds (an @inlineCallbacks method)."""
        result = yield _slowly(text, delay)
        return result


class JsonrpcHandler(cyclone.jsonrpc.JsonrpcRequestHandler):
    """The 1.x JSON-RPC demo: the same methods."""

    def jsonrpc_echo(self, text: str) -> str:
        return text

    def jsonrpc_sort(self, items: list) -> list:
        return sorted(items)

    def jsonrpc_count(self, items: list) -> int:
        return len(items)

    async def jsonrpc_slow_echo(self, text: str, delay: float = 0.1) -> str:
        return await _slowly(text, delay)


class Calculator:
    """A plain class: every public method is an RPC method on /rpc, /RPC2 and /ws."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.subscribers: dict[int, RpcContext] = {}
        self._clock = task.LoopingCall(self._tick)

    def add(self, a: float, b: float) -> float:
        """Add two numbers."""
        return a + b

    def divide(self, a: float, b: float) -> float:
        """Divide a by b (error 1 for a zero divisor)."""
        if b == 0:
            raise JsonRpcError(1, "division by zero")
        return a / b

    async def slow_square(self, x: float, delay: float = 0.1) -> float:
        """Square x after ``delay`` seconds (an async method)."""
        return await _slowly(x * x, delay)

    def subscribe(self, context: RpcContext) -> bool:
        """Receive a ``clock`` notification every second (WebSocket only)."""
        if context.transport != "websocket":
            raise JsonRpcError(2, "subscribe needs the WebSocket endpoint /ws")
        self.subscribers[id(context.handler)] = context
        if not self._clock.running:
            self._clock.start(self.interval, now=False)
        return True

    def _tick(self) -> None:
        for key, context in list(self.subscribers.items()):
            if context.handler.ws_connection is None:  # that socket is closed
                del self.subscribers[key]
                continue
            context.notify("clock", {"time": time.time()})
        if not self.subscribers:
            self._clock.stop()


def Application(clock_interval: float = 1.0, **settings: Any) -> cyclone.web.Application:
    """The demo's application (other keyword arguments are Application settings)."""
    return cyclone.web.Application(
        [
            (r"/xmlrpc", XmlrpcHandler),
            (r"/jsonrpc", JsonrpcHandler),
            *routes(Calculator(clock_interval), jsonrpc="/rpc", xmlrpc="/RPC2", websocket="/ws"),
        ],
        **settings,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    args = parser.parse_args(argv)
    reactor.listenTCP(args.port, Application(), interface="127.0.0.1")
    print(f"RPC demo on http://127.0.0.1:{args.port}/", flush=True)
    reactor.run()


if __name__ == "__main__":
    main()
