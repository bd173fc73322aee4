"""RPC clients on cyclone's HTTP client: :class:`JsonRPC` and :class:`XmlRpcProxy`.

Every call returns a Deferred (``await`` it, or ``yield`` it under
``@inlineCallbacks``). Attribute access names the remote method, dots included:
``await proxy.math.add(1, 2)`` calls ``math.add``. A JSON-RPC error raises
:class:`~cyclone_ext_rpc.errors.JsonRpcError`, an XML-RPC fault
``xmlrpc.client.Fault``, and an HTTP status other than 200 (or 204 for
notifications) ``cyclone.web.HTTPError``.
"""

from __future__ import annotations

import itertools
import json
import xmlrpc.client
from collections.abc import Mapping
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.xmlrpc import DefusedExpatParser
from twisted.internet import defer

from cyclone.httpclient import HTTPResponse, fetch
from cyclone.web import HTTPError
from cyclone_ext_rpc.errors import JsonRpcError

__all__ = ["JsonRPC", "JsonRpcBatch", "XmlRpcProxy"]


class _Method:
    """A remote method name; calling it calls the method, an attribute extends the name."""

    def __init__(self, send: Any, name: str) -> None:
        self._send = send
        self._name = name

    def __getattr__(self, name: str) -> _Method:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Method(self._send, f"{self._name}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._send(self._name, *args, **kwargs)


def _params(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any] | dict[str, Any] | None:
    if args and kwargs:
        raise TypeError("JSON-RPC takes positional or named params, not both")
    if kwargs:
        return kwargs
    return list(args) if args else None


def _check_status(response: HTTPResponse, allowed: tuple[int, ...]) -> None:
    if response.code not in allowed:
        raise HTTPError(response.code, reason=response.phrase or None)


class JsonRPC:
    """A JSON-RPC 2.0 client for ``url`` (cyclone 1.x's ``cyclone.httpclient.JsonRPC``).

    ``await cli.echo("x")`` or ``await cli.echo(text="x")`` call; :meth:`notify` sends
    a notification, :meth:`batch` several calls in one request, and :meth:`call`
    reaches a method whose name is one of these. ``version="1.0"`` sends the 1.0
    shape (no ``jsonrpc`` member).
    """

    def __init__(
        self,
        url: str,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        version: str = "2.0",
        agent: Any = None,
    ) -> None:
        if version not in ("1.0", "2.0"):
            raise ValueError("version is '1.0' or '2.0'")
        self.url = url
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.version = version
        self.agent = agent
        self._ids = itertools.count(1)

    def __getattr__(self, name: str) -> _Method:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Method(self.call, name)

    def request_object(
        self, method: str, params: list[Any] | dict[str, Any] | None, notification: bool
    ) -> dict[str, Any]:
        """The request object for one call (with a fresh id unless ``notification``)."""
        request: dict[str, Any] = {"method": method}
        if self.version == "2.0":
            request["jsonrpc"] = "2.0"
            if params is not None:
                request["params"] = params
            if not notification:
                request["id"] = next(self._ids)
        else:
            request["params"] = params if params is not None else []
            request["id"] = None if notification else next(self._ids)
        return request

    def post(self, payload: Any) -> defer.Deferred[Any]:
        """POST ``payload`` as JSON; fires with the decoded answer (None for 204)."""

        def decode(response: HTTPResponse) -> Any:
            _check_status(response, (200, 202, 204))
            if response.code != 200 or not response.body.strip():
                return None
            try:
                return json.loads(response.body)
            except ValueError as e:
                raise JsonRpcError(-32700, "Parse error", f"the answer is not JSON: {e}")

        body = json.dumps(payload, separators=(",", ":"))
        d = fetch(
            self.url, "POST", headers=self.headers, body=body,
            timeout=self.timeout, agent=self.agent,
        )  # fmt: skip
        d.addCallback(decode)
        return d

    def call(self, method: str, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        """Call ``method``; fires with its result or fails with :class:`JsonRpcError`."""
        request = self.request_object(method, _params(args, kwargs), notification=False)
        d = self.post(request)
        d.addCallback(lambda answer: _result(answer, request["id"]))
        return d

    def notify(self, method: str, *args: Any, **kwargs: Any) -> defer.Deferred[None]:
        """Send a notification (no answer is expected); fires once it is delivered."""
        request = self.request_object(method, _params(args, kwargs), notification=True)
        d = self.post(request)
        d.addCallback(lambda _: None)
        return d

    def batch(self) -> JsonRpcBatch:
        """A batch: add calls and notifications to it, then ``await batch.send()``."""
        return JsonRpcBatch(self)


def _result(answer: Any, request_id: Any) -> Any:
    if not isinstance(answer, dict):
        raise JsonRpcError(-32603, "Internal error", f"unexpected answer: {answer!r}"[:200])
    error = answer.get("error")
    if error is not None:
        if isinstance(error, dict):
            raise JsonRpcError(
                error.get("code", -32603), error.get("message", "Error"), error.get("data")
            )
        raise JsonRpcError(-32603, str(error))
    if answer.get("id") != request_id:
        raise JsonRpcError(-32603, "Internal error", f"answer for id {answer.get('id')!r}")
    return answer.get("result")


class JsonRpcBatch:
    """Calls collected for one request; attribute calls add calls, like the client's."""

    def __init__(self, client: JsonRPC) -> None:
        self.client = client
        self.requests: list[dict[str, Any]] = []
        self.calls = 0

    def __getattr__(self, name: str) -> _Method:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Method(self.call, name)

    def call(self, method: str, *args: Any, **kwargs: Any) -> int:
        """Add a call; returns its position in the results of :meth:`send`."""
        params = _params(args, kwargs)
        self.requests.append(self.client.request_object(method, params, notification=False))
        self.calls += 1
        return self.calls - 1

    def notify(self, method: str, *args: Any, **kwargs: Any) -> None:
        """Add a notification."""
        params = _params(args, kwargs)
        self.requests.append(self.client.request_object(method, params, notification=True))

    def send(self) -> defer.Deferred[list[Any]]:
        """Send the batch; fires with each call's result, in order of the calls.

        A call that failed is a :class:`JsonRpcError` in the list, not raised.
        """
        ids = [r["id"] for r in self.requests if r.get("id") is not None]

        def collect(answers: Any) -> list[Any]:
            if not ids:
                return []
            if isinstance(answers, dict):  # the whole batch was refused
                _result(answers, None)
            if not isinstance(answers, list):
                raise JsonRpcError(-32603, "Internal error", "the answer is not a batch")
            by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
            results: list[Any] = []
            for request_id in ids:
                try:
                    results.append(_result(by_id.get(request_id), request_id))
                except JsonRpcError as e:
                    results.append(e)
            return results

        d = self.client.post(self.requests)
        d.addCallback(collect)
        return d


class XmlRpcProxy:
    """An XML-RPC client for ``url``: ``await proxy.echo("x")``; faults raise ``Fault``.

    ``allow_none``, ``use_datetime`` and ``use_builtin_types`` mean what they mean to
    ``xmlrpc.client.ServerProxy``. :meth:`callRemote` is twisted.web.xmlrpc's name.
    Answers are parsed with DTDs and entities refused.
    """

    def __init__(
        self,
        url: str,
        allow_none: bool = False,
        use_datetime: bool = False,
        use_builtin_types: bool = False,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        agent: Any = None,
    ) -> None:
        self.url = url
        self.allow_none = allow_none
        self.use_datetime = use_datetime
        self.use_builtin_types = use_builtin_types
        self.timeout = timeout
        self.headers = {"Content-Type": "text/xml", **(headers or {})}
        self.agent = agent

    def __getattr__(self, name: str) -> _Method:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Method(self.callRemote, name)

    def callRemote(self, method: str, *args: Any) -> defer.Deferred[Any]:
        """Call ``method`` with positional ``args``; fires with the result."""
        body = xmlrpc.client.dumps(args, method, allow_none=self.allow_none)
        d = fetch(
            self.url, "POST", headers=self.headers, body=body.encode("utf-8"),
            timeout=self.timeout, agent=self.agent,
        )  # fmt: skip
        d.addCallback(self._decode)
        return d

    def _decode(self, response: HTTPResponse) -> Any:
        _check_status(response, (200,))
        unmarshaller = xmlrpc.client.Unmarshaller(
            use_datetime=self.use_datetime, use_builtin_types=self.use_builtin_types
        )
        parser = DefusedExpatParser(unmarshaller, forbid_dtd=True)
        try:
            parser.feed(response.body)
            parser.close()
        except DefusedXmlException as e:
            raise xmlrpc.client.ResponseError(f"refused answer ({type(e).__name__})") from None
        result = unmarshaller.close()  # raises Fault for a fault answer
        return result[0] if len(result) == 1 else result
