"""The JSON-RPC 2.0 server (and the 1.0 shape for cyclone 1.x clients).

Strategy: :class:`JsonRpcMixin` turns one payload (bytes or text) into the text
of the response, or ``None`` when nothing is to be sent (notifications); it knows
nothing of HTTP, so the same code serves :class:`JsonrpcRequestHandler` (HTTP
POST) and the WebSocket handler. A batch runs its calls concurrently and answers
in order. Every request object is checked before any method runs; a request
without ``"jsonrpc": "2.0"`` is answered in the 1.0 shape (``result``, ``error``,
``id``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from cyclone.web import HTTPError, RequestHandler
from cyclone_ext_rpc.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    JsonRpcError,
    error_of,
)
from cyclone_ext_rpc.methods import RpcContext, invoke, service_methods

__all__ = ["JsonRpcMixin", "JsonrpcRequestHandler"]

log = Logger()

_MISSING = object()
_ID_TYPES = (str, int, float)


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True when lists and objects in ``value`` nest deeper than ``limit`` (no recursion)."""
    if limit >= 2:  # the common case: params of plain values only
        for child in value.values() if isinstance(value, dict) else value:
            if isinstance(child, list | dict):
                break
        else:
            return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, list | dict))
    return False


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


# Made once: json.dumps and json.loads with options build a new coder on every call.
_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode
_decode = json.JSONDecoder(parse_constant=_not_json).decode


def _loads(payload: bytes | str) -> Any:
    if isinstance(payload, bytes | bytearray):
        # JSON text starts with "{" or "[" in UTF-8 (else: let json tell UTF-16/32 or a BOM).
        utf8 = payload[:1] in (b"{", b"[") and payload[1:2] != b"\x00"
        payload = payload.decode(
            "utf-8" if utf8 else json.detect_encoding(payload), "surrogatepass"
        )
    return _decode(payload)


def _valid_id(value: Any) -> bool:
    return value is None or (isinstance(value, _ID_TYPES) and not isinstance(value, bool))


class JsonRpcMixin:
    """JSON-RPC processing for a handler: method lookup, validation, batches, limits.

    Methods are ``jsonrpc_<name>`` methods of the handler (cyclone 1.x) and the
    public methods of ``service`` (see :func:`cyclone_ext_rpc.routes`). ``max_batch``
    bounds the calls in one batch and ``max_depth`` the nesting of ``params``.
    ``rpc.discover`` answers an OpenRPC document unless ``discover`` is false.
    """

    protocol = "jsonrpc"
    rpc_transport = "http"
    service: Any = None
    max_batch: int = 100
    max_depth: int = 32
    discover: bool = True

    # -- methods (the cyclone.rpc contract: get_procedure, list_procedures) ---------------

    def list_procedures(self) -> list[str]:
        """The names of the methods this handler serves."""
        names = set(self.procedures())
        if self.discover:
            names.add("rpc.discover")
        return sorted(names)

    def procedures(self) -> dict[str, Callable[..., Any]]:
        """Every method this handler serves, by name."""
        found: dict[str, Callable[..., Any]] = {}
        for attr in dir(type(self)):
            if attr.startswith("jsonrpc_"):
                value = getattr(self, attr, None)
                if callable(value):
                    found[attr[len("jsonrpc_") :]] = value
        if self.service is not None:
            found.update(service_methods(self.service))
        return found

    def get_procedure(self, name: str) -> Callable[..., Any] | None:
        """The method called ``name``, or None."""
        if self.discover and name == "rpc.discover":
            return self._discover
        if self.service is not None and not name.startswith("_") and "." not in name:
            method = getattr(self.service, name, None)
            if callable(method) and not isinstance(method, type):
                return method
        method = getattr(self, "jsonrpc_" + name, None)
        return method if callable(method) else None

    def _discover(self) -> dict[str, Any]:
        from cyclone_ext_rpc.openrpc import openrpc_document

        title = type(self.service).__name__ if self.service is not None else type(self).__name__
        return openrpc_document(self.procedures(), title=title)

    def rpc_context(self) -> RpcContext:
        """The :class:`RpcContext` handed to methods that ask for one."""
        return RpcContext(handler=self, protocol=self.protocol, transport=self.rpc_transport)

    def _debug(self) -> bool:
        settings = getattr(self, "settings", None)
        return bool(settings.get("debug")) if settings is not None else False

    # -- processing --------------------------------------------------------------------

    def process_jsonrpc(self, payload: bytes | str) -> defer.Deferred[str | None]:
        """The response text for ``payload``, or None when nothing is to be answered."""
        answer = self.answer_jsonrpc(payload)
        return answer if isinstance(answer, defer.Deferred) else defer.succeed(answer)

    def answer_jsonrpc(self, payload: bytes | str) -> str | defer.Deferred[str | None] | None:
        """Like :meth:`process_jsonrpc`, but synchronous when every method was."""
        try:
            data = _loads(payload)
        except (ValueError, RecursionError):
            return _dumps(self._error(PARSE_ERROR, None, True))
        if not isinstance(data, list):
            answer = self._call(data)
            if isinstance(answer, defer.Deferred):
                return answer.addCallback(self._serialize)
            return self._serialize(answer)
        if not data:
            return _dumps(self._error(INVALID_REQUEST, None, True))
        if len(data) > self.max_batch:
            error = JsonRpcError(
                INVALID_REQUEST,
                "Invalid Request",
                f"a batch of {len(data)} calls; the limit is {self.max_batch}",
            )
            return _dumps(self._response(None, True, error=error))
        answers = [self._call(item, in_batch=True) for item in data]
        if not any(isinstance(a, defer.Deferred) for a in answers):
            return self._serialize([a for a in answers if a is not None])
        d = defer.gatherResults([a if isinstance(a, defer.Deferred) else defer.succeed(a)
                                 for a in answers])  # fmt: skip
        return d.addCallback(lambda done: self._serialize([a for a in done if a is not None]))

    def _serialize(self, answer: Any) -> str | None:
        if answer is None or answer == []:
            return None
        try:
            return _dumps(answer)
        except (TypeError, ValueError):
            pass
        # Some result is not JSON: that call, and only that one, is an internal error.
        answers = answer if isinstance(answer, list) else [answer]
        fixed = []
        for one in answers:
            try:
                _dumps(one)
            except (TypeError, ValueError) as e:
                log.error("JSON-RPC result is not JSON: {error}", error=e)
                data = str(e) if self._debug() else None
                one = self._response(
                    one.get("id"), "jsonrpc" in one, error=JsonRpcError(INTERNAL_ERROR, None, data)
                )
            fixed.append(one)
        return _dumps(fixed if isinstance(answer, list) else fixed[0])

    def _response(
        self, req_id: Any, v2: bool, result: Any = None, error: JsonRpcError | None = None
    ) -> dict[str, Any]:
        if v2:
            if error is not None:
                return {"jsonrpc": "2.0", "error": error.to_dict(), "id": req_id}
            return {"jsonrpc": "2.0", "result": result, "id": req_id}
        return {
            "result": result,
            "error": error.to_dict() if error is not None else None,
            "id": req_id,
        }

    def _error(self, code: int, req_id: Any, v2: bool, data: Any = None) -> dict[str, Any]:
        return self._response(req_id, v2, error=JsonRpcError(code, None, data))

    def _call(
        self, request: Any, in_batch: bool = False
    ) -> dict[str, Any] | defer.Deferred[dict[str, Any] | None] | None:
        """Run one request object: its response, None for a notification, or a Deferred.

        Batches are JSON-RPC 2.0: a member without ``"jsonrpc"`` is an invalid request.
        """
        if not isinstance(request, dict):
            return self._error(INVALID_REQUEST, None, True)
        version = request.get("jsonrpc", _MISSING)
        v2 = version is not _MISSING or in_batch
        req_id = request.get("id")
        if not _valid_id(req_id):
            return self._error(INVALID_REQUEST, None, v2)
        method_name = request.get("method")
        params = request.get("params")
        if (
            (v2 and version != "2.0")
            or not isinstance(method_name, str)
            or ("params" in request and not isinstance(params, list | dict))
        ):
            # A request that is not one is answered even without an id (spec, section 7).
            return self._error(INVALID_REQUEST, req_id, v2)
        notification = ("id" not in request) if v2 else req_id is None
        if params and _depth_exceeds(params, self.max_depth):
            error = JsonRpcError(
                INVALID_PARAMS, "Invalid params", f"params nest deeper than {self.max_depth}"
            )
            return None if notification else self._response(req_id, v2, error=error)
        method = self.get_procedure(method_name)
        if method is None:
            return None if notification else self._error(METHOD_NOT_FOUND, req_id, v2)

        try:
            result = invoke(method, params, self.rpc_context)
        except Exception:
            return self._failed(Failure(), method_name, req_id, v2, notification)
        if isinstance(result, defer.Deferred):
            return result.addCallbacks(
                self._done,
                self._failed,
                callbackArgs=(req_id, v2, notification),
                errbackArgs=(method_name, req_id, v2, notification),
            )
        if notification:
            return None
        if v2:
            return {"jsonrpc": "2.0", "result": result, "id": req_id}
        return {"result": result, "error": None, "id": req_id}

    def _done(self, result: Any, req_id: Any, v2: bool, notification: bool) -> Any:
        return None if notification else self._response(req_id, v2, result=result)

    def _failed(
        self, failure: Failure, method_name: str, req_id: Any, v2: bool, notification: bool
    ) -> dict[str, Any] | None:
        error, unexpected = error_of(failure.value, self._debug())
        if unexpected:
            log.failure("JSON-RPC method {method!r} failed", failure, method=method_name)
        return None if notification else self._response(req_id, v2, error=error)


class JsonrpcRequestHandler(JsonRpcMixin, RequestHandler):
    """JSON-RPC 2.0 over HTTP POST: define ``jsonrpc_<name>`` methods, or pass a ``service``.

    A response is ``200 application/json``; a request of notifications only gets
    ``204`` with no body. ``max_body_size`` (bytes, optional) lowers the server's
    body limit for this handler (over it: 413). XSRF checks do not apply.
    """

    no_xsrf = True
    max_body_size: int | None = None

    def initialize(self, service: Any = None, **kwargs: Any) -> None:
        if service is not None:
            self.service = service
        for name, value in kwargs.items():
            if name not in ("max_batch", "max_depth", "discover", "max_body_size"):
                raise TypeError(f"unexpected argument {name!r}")
            setattr(self, name, value)

    def post(self, *args: Any, **kwargs: Any) -> defer.Deferred[None] | None:
        body = self.request.body
        if self.max_body_size is not None and len(body) > self.max_body_size:
            raise HTTPError(413, reason="Request body too large")
        answer = self.answer_jsonrpc(body)
        if isinstance(answer, defer.Deferred):
            return answer.addCallback(self._answer)
        self._answer(answer)
        return None

    def _answer(self, text: str | None) -> None:
        if text is None:
            self.set_status(204)
            return
        self.set_header("Content-Type", "application/json")
        self.write(text)
