"""The applications under test: 1.x-style handlers, the spec's methods, a typed service."""

from __future__ import annotations

import datetime
from typing import Any

from twisted.internet import defer, reactor, task

import cyclone.web
from cyclone_ext_rpc import (
    Fault,
    JsonRpcError,
    JsonrpcRequestHandler,
    RpcContext,
    XmlrpcRequestHandler,
    authenticated,
    routes,
)


def later(value: Any, delay: float = 0.01) -> defer.Deferred[Any]:
    return task.deferLater(reactor, delay, lambda: value)


class SpecHandler(JsonrpcRequestHandler):
    """The methods the JSON-RPC 2.0 specification's examples call (section 7)."""

    def jsonrpc_subtract(self, minuend: int, subtrahend: int) -> int:
        return minuend - subtrahend

    def jsonrpc_sum(self, *numbers: int) -> int:
        return sum(numbers)

    def jsonrpc_update(self, *values: Any) -> None:
        return None

    def jsonrpc_notify_hello(self, value: int) -> None:
        return None

    def jsonrpc_get_data(self) -> list[Any]:
        return ["hello", 5]


class Recorder:
    """What notifications did, for tests to look at."""

    seen: list[Any] = []


class JsonHandler(JsonrpcRequestHandler):
    """Every way of writing a method, cyclone 1.x style."""

    def jsonrpc_echo(self, value: Any) -> Any:
        """Return the value."""
        return value

    def jsonrpc_record(self, value: Any) -> None:
        Recorder.seen.append(value)

    def jsonrpc_deferred(self, value: Any) -> defer.Deferred[Any]:
        return later(value)

    @defer.inlineCallbacks
    def jsonrpc_inline(self, value: Any) -> Any:
        result = yield later(value)
        return result

    async def jsonrpc_coro(self, value: Any, delay: float = 0.01) -> Any:
        return await later(value, delay)

    def jsonrpc_fail(self) -> None:
        raise ValueError("secret detail")

    def jsonrpc_own_error(self) -> None:
        raise JsonRpcError(42, "my error", {"why": "because"})

    def jsonrpc_fault(self) -> None:
        raise Fault(7, "a fault")

    def jsonrpc_forbidden(self) -> None:
        raise cyclone.web.HTTPError(403)

    def jsonrpc_typed(self, n: int, name: str, ratio: float = 1.0, tag: str | None = None) -> str:
        return f"{n}:{name}:{ratio}:{tag}"

    def jsonrpc_not_json(self) -> Any:
        return object()

    def jsonrpc_user(self) -> Any:
        return self.current_user

    @cyclone.web.authenticated
    def jsonrpc_private(self) -> str:
        return "secret"

    def get_current_user(self) -> Any:
        return self.request.headers.get("X-User")


class XmlHandler(XmlrpcRequestHandler):
    """1.x-style XML-RPC methods."""

    def xmlrpc_echo(self, value: Any) -> Any:
        """Return the value."""
        return value

    def xmlrpc_add(self, a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    xmlrpc_add.signature = [["int", "int", "int"]]  # type: ignore[attr-defined]

    def xmlrpc_sort(self, items: list) -> list:
        return sorted(items)

    def xmlrpc_deferred(self, value: Any) -> defer.Deferred[Any]:
        return later(value)

    async def xmlrpc_coro(self, value: Any) -> Any:
        return await later(value)

    def xmlrpc_fail(self) -> None:
        raise ValueError("secret detail")

    def xmlrpc_fault(self) -> None:
        raise Fault(12, "my fault")

    def xmlrpc_none(self) -> None:
        return None

    def xmlrpc_when(self, moment: Any) -> list[str]:
        return [type(moment).__name__, str(moment)]

    def xmlrpc_now(self) -> datetime.datetime:
        return datetime.datetime(2026, 1, 2, 3, 4, 5)

    def xmlrpc_kind(self, value: Any) -> str:
        return type(value).__name__

    @cyclone.web.authenticated
    def xmlrpc_private(self) -> str:
        return f"for {self.current_user}"

    @authenticated
    def xmlrpc_marked(self) -> str:
        return "marked"

    def get_current_user(self) -> Any:
        return self.request.headers.get("X-User")


class XmlNoneHandler(XmlHandler):
    allowNone = True
    useDateTime = True


class MathHandler:
    """A sub-handler: ``math.*``."""

    def xmlrpc_mul(self, a: int, b: int) -> int:
        return a * b


class XmlSubHandler(XmlHandler):
    def initialize(self, **kwargs: Any) -> None:
        self.putSubHandler("math", MathHandler())


class Calculator:
    """A plain service, served over every protocol."""

    def add(self, a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    def divide(self, a: float, b: float) -> float:
        """Divide a by b."""
        if b == 0:
            raise JsonRpcError(1001, "division by zero")
        return a / b

    async def slow(self, value: str, delay: float = 0.05) -> str:
        await later(None, delay)
        return value

    def whoami(self, context: RpcContext) -> Any:
        """The caller, as the handler's get_current_user saw them."""
        return {"user": context.current_user, "transport": context.transport,
                "protocol": context.protocol}  # fmt: skip

    @authenticated
    def secret(self) -> str:
        return "42"

    def tick(self, count: int, context: RpcContext) -> int:
        """Send ``count`` notifications first (WebSocket only)."""
        for i in range(count):
            context.notify("tick", [i])
        return count

    def boom(self) -> None:
        raise RuntimeError("hidden")

    def _private(self) -> str:
        return "never"


class HeaderUser:
    """The mixin of routes(): the user comes from a header (or a query argument)."""

    def get_current_user(self) -> Any:
        return self.request.headers.get("X-User") or self.get_argument("user", None)


def application(**settings: Any) -> cyclone.web.Application:
    handlers: list[Any] = [
        (r"/spec", SpecHandler),
        (r"/json", JsonHandler),
        (r"/json-small", JsonHandler, {"max_batch": 3, "max_depth": 4}),
        (r"/xml", XmlHandler),
        (r"/xml-none", XmlNoneHandler),
        (r"/xml-sub", XmlSubHandler),
        *routes(Calculator(), jsonrpc="/calc", xmlrpc="/calc-xml", websocket="/calc-ws",
                mixin=HeaderUser),
    ]  # fmt: skip
    return cyclone.web.Application(handlers, **settings)
