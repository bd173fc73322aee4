"""Helpers for testing cyclone applications.

Strategy: the Twisted reactor runs in a background thread for the whole test
session (:class:`ReactorThread`); tests run in the main thread and hand work to
the reactor with :func:`call`. Three ways to reach an application:

- :class:`TestCase` (and :class:`LiveServer`): the application listens on a
  real loopback port; ``fetch()`` sends a real request with ``http.client``.
- :class:`Client`: in-process, no socket. Each request is written as bytes
  into a real :class:`~cyclone._http1.HTTPConnection` built by the
  Application, over Twisted's public test transport
  (``twisted.internet.testing.StringTransport``), and the bytes the connection
  writes back are parsed as an HTTP response. The whole life cycle runs: wire
  parsing, routing, ``prepare``, the method, ``finish``, ``on_finish``,
  services. Its methods return Deferreds and run in the reactor thread;
  :class:`BlockingClient` wraps it for plain test functions.
- The pytest plugin (:mod:`cyclone.pytest_plugin`): ``cyclone_app``,
  ``cyclone_client`` and ``cyclone_server`` fixtures.

``CycloneTestCase`` and ``Client`` keep cyclone 1.x's names.
"""

from __future__ import annotations

import email.utils
import functools
import http.client
import inspect
import json
import threading
import time
import unittest
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, TypeVar

from twisted.internet import defer, reactor
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.internet.threads import blockingCallFromThread
from twisted.python.failure import Failure

from cyclone.httputil import HTTPHeaders

__all__ = [
    "BlockingClient",
    "Client",
    "CycloneTestCase",
    "LiveServer",
    "ReactorThread",
    "Response",
    "TestCase",
    "call",
    "listen_tcp",
]

T = TypeVar("T")

_thread: threading.Thread | None = None

Body = bytes | str | Mapping[str, Any] | None


class ReactorThread:
    """Start the global reactor in a daemon thread (once); stop it at the end."""

    @staticmethod
    def start() -> None:
        global _thread
        if _thread is not None:
            return
        if reactor.running:  # type: ignore[attr-defined]
            raise RuntimeError("the reactor is already running in this process")
        _thread = threading.Thread(
            target=reactor.run,  # type: ignore[attr-defined]
            kwargs={"installSignalHandlers": False},
            name="cyclone-reactor",
            daemon=True,
        )
        _thread.start()

    @staticmethod
    def stop(timeout: float = 15.0) -> None:
        global _thread
        if _thread is None:
            return
        reactor.callFromThread(reactor.stop)  # type: ignore[attr-defined]
        _thread.join(timeout)
        _thread = None

    @staticmethod
    def is_current() -> bool:
        """True when called from the reactor thread."""
        return _thread is not None and threading.current_thread() is _thread


def call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``func`` in the reactor thread and return its result.

    When ``func`` returns a Deferred (or a coroutine), wait for it: its result is
    returned and its failure raised.
    """

    def run() -> Any:
        result = func(*args, **kwargs)
        if inspect.iscoroutine(result):
            return defer.ensureDeferred(result)
        return result

    return blockingCallFromThread(reactor, run)


def listen_tcp(factory: Any, interface: str = "127.0.0.1") -> Any:
    """Listen on a free port of ``interface``; returns the Twisted port (``.getHost().port``)."""
    return call(reactor.listenTCP, 0, factory, interface=interface)  # type: ignore[attr-defined]


# -- responses and requests ----------------------------------------------------------


@dataclass
class Response:
    """An HTTP response as a test sees it."""

    code: int
    reason: str
    headers: HTTPHeaders
    body: bytes
    effective_url: str = ""

    @property
    def content(self) -> bytes:
        """The body (cyclone 1.x's name)."""
        return self.body

    def get_status(self) -> int:
        """The status code (cyclone 1.x's name)."""
        return self.code

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def _prepare(
    method: str,
    path: str,
    body: Body,
    headers: Mapping[str, str] | None,
    params: Mapping[str, Any] | None,
) -> tuple[str, bytes | None, HTTPHeaders]:
    """The target, body bytes and headers of a request (``params``: 1.x's query or form)."""
    method = method.upper()
    out = HTTPHeaders()
    for name, value in (headers or {}).items():
        out[name] = value
    if params:
        encoded = urllib.parse.urlencode(params, doseq=True)
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = encoded
        else:
            path += ("&" if "?" in path else "?") + encoded
    if isinstance(body, Mapping):
        body = urllib.parse.urlencode(body, doseq=True)
        out.setdefault("Content-Type", "application/x-www-form-urlencoded")
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body is not None and method in ("POST", "PUT", "PATCH"):
        out.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return path, body, out


def _expired(expires: str) -> bool:
    if not expires:
        return False
    try:
        when = email.utils.parsedate_to_datetime(expires)
    except (TypeError, ValueError):
        return False
    return when.timestamp() < time.time()


class _Cookies:
    """The cookies a client keeps between requests (name -> value, any path)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def update(self, headers: HTTPHeaders) -> None:
        for line in headers.get_list("Set-Cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or _expired(morsel["expires"]):
                    self.values.pop(name, None)
                else:
                    self.values[name] = morsel.value

    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.values.items())


# -- in-process client -----------------------------------------------------------------


class _ResponseReader:
    """Parses the bytes a connection writes into one :class:`Response`."""

    def __init__(self, head_only: bool) -> None:
        import httptools

        self.head_only = head_only
        self.done: defer.Deferred[None] = defer.Deferred()
        self.headers = HTTPHeaders()
        self.reason = ""
        self.chunks: list[bytes] = []
        self.code = 0
        self._parser = httptools.HttpResponseParser(self)

    # httptools callbacks
    def on_status(self, status: bytes) -> None:
        self.reason += status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.add(name.decode("latin-1"), value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        self.code = self._parser.get_status_code()
        if self.head_only or self.code in (204, 304):
            self._finish()

    def on_body(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def on_message_complete(self) -> None:
        self._finish()

    def _finish(self) -> None:
        if not self.done.called:
            self.done.callback(None)

    def feed(self, data: bytes) -> None:
        if not self.done.called:
            self._parser.feed_data(data)

    def closed(self) -> None:
        """The server closed: a close-delimited body ends here."""
        if not self.done.called:
            if self.code:
                self._finish()
            else:
                self.done.errback(ConnectionDone("closed before a complete response"))

    def response(self, url: str) -> Response:
        return Response(self.code, self.reason, self.headers, b"".join(self.chunks), url)


class _Transport(StringTransport):
    """Twisted's test transport, passing what the connection writes to a reader."""

    def __init__(self, reader: _ResponseReader) -> None:
        super().__init__(
            hostAddress=IPv4Address("TCP", "127.0.0.1", 80),
            peerAddress=IPv4Address("TCP", "127.0.0.1", 40000),
        )
        self.reader = reader

    def write(self, data: bytes) -> None:
        super().write(data)
        self.reader.feed(data)

    def writeSequence(self, seq: Any) -> None:
        for data in seq:
            self.write(data)

    def loseConnection(self) -> None:
        super().loseConnection()
        self.reader.closed()

    def loseWriteConnection(self) -> None:
        self.loseConnection()


class Client:
    """Drives an Application in process: real HTTP bytes, no socket (cyclone 1.x's name).

    Methods return Deferreds that fire with a :class:`Response`; call them in
    the reactor thread (from a test running there, or through :func:`call`;
    :class:`BlockingClient` does that for you). Cookies set by the application
    are sent back on later requests (``client.cookies``). The Application's
    services start on the first request and stop on :meth:`close`.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self._jar = _Cookies()
        self._started = False

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies the client holds (name -> raw value)."""
        return self._jar.values

    def get_signed_cookie(self, name: str, max_age_days: float = 31) -> bytes | None:
        """The value of a signed cookie held by the client, checked with the app's secret."""
        from cyclone.web import decode_signed_value

        secret = self.app.settings["cookie_secret"]
        return decode_signed_value(secret, name, self.cookies.get(name), max_age_days)

    get_secure_cookie = get_signed_cookie

    def request(
        self,
        method: str,
        path: str,
        body: Body = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        timeout: float = 10.0,
    ) -> defer.Deferred[Response]:
        """Send one request through a fresh connection; fires with its response."""
        if not self._started:
            self._started = True
            self.app.doStart()
        target, data, hdrs = _prepare(method, path, body, headers, params)
        hdrs.setdefault("Host", self.host)
        if self._jar.values and "Cookie" not in hdrs:
            hdrs["Cookie"] = self._jar.header()
        if data is not None:
            hdrs["Content-Length"] = str(len(data))
        head = f"{method.upper()} {target} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in hdrs.get_all()
        )
        reader = _ResponseReader(method.upper() == "HEAD")
        transport = _Transport(reader)
        conn = self.app.buildProtocol(transport.getPeer())
        conn.makeConnection(transport)
        conn.dataReceived(head.encode("latin-1") + b"\r\n" + (data or b""))
        done = reader.done
        done.addTimeout(timeout, reactor)

        def finished(_: None) -> Response:
            if not conn.closed:
                conn.connectionLost(Failure(ConnectionDone()))
            response = reader.response(f"http://{self.host}{target}")
            self._jar.update(response.headers)
            return response

        def failed(failure: Failure) -> Failure:
            if not conn.closed:
                conn.connectionLost(Failure(ConnectionDone()))
            return failure

        return done.addCallbacks(finished, failed)

    def fetch(
        self,
        path: str,
        method: str = "GET",
        body: Body = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> defer.Deferred[Response]:
        """Tornado's spelling of :meth:`request`."""
        return self.request(method, path, body=body, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> defer.Deferred[Response]:
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> defer.Deferred[Response]:
        return self.request("HEAD", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> defer.Deferred[Response]:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> defer.Deferred[Response]:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> defer.Deferred[Response]:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> defer.Deferred[Response]:
        return self.request("DELETE", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> defer.Deferred[Response]:
        return self.request("OPTIONS", path, **kwargs)

    def close(self) -> None:
        """Stop the Application's services if the client started them."""
        if self._started:
            self._started = False
            self.app.doStop()


class BlockingClient:
    """:class:`Client` for code outside the reactor thread: each method returns the Response.

    Starts :class:`ReactorThread` if it is not running.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        ReactorThread.start()
        self.client = Client(app, host)
        self.app = app

    @property
    def cookies(self) -> dict[str, str]:
        return self.client.cookies

    def get_signed_cookie(self, name: str, max_age_days: float = 31) -> bytes | None:
        return self.client.get_signed_cookie(name, max_age_days)

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        return call(self.client.request, method, path, **kwargs)

    def fetch(
        self,
        path: str,
        method: str = "GET",
        body: Body = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Response:
        return self.request(method, path, body=body, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> Response:
        return self.request("HEAD", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        return self.request("DELETE", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> Response:
        return self.request("OPTIONS", path, **kwargs)

    def close(self) -> None:
        call(self.client.close)


# -- a real loopback server ------------------------------------------------------------

_REDIRECTS = (301, 302, 303, 307, 308)


class LiveServer:
    """An Application listening on a free port of 127.0.0.1 (starts :class:`ReactorThread`)."""

    def __init__(self, app: Any, interface: str = "127.0.0.1") -> None:
        ReactorThread.start()
        self.app = app
        self.interface = interface
        self.listening = listen_tcp(app, interface)
        self.port: int = self.listening.getHost().port

    def url(self, path: str = "/") -> str:
        """The absolute URL of ``path`` on this server."""
        return f"http://{self.interface}:{self.port}{path}"

    def fetch(
        self,
        path: str,
        method: str = "GET",
        body: Body = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        timeout: float = 10.0,
        params: Mapping[str, Any] | None = None,
    ) -> Response:
        """Send a request over a real connection; redirects are followed as Tornado does."""
        if ReactorThread.is_current():
            raise RuntimeError(
                "fetch() blocks until the reactor answers: call it from a test that runs"
                " outside the reactor thread (a plain def test), or use Client"
            )
        target, data, hdrs = _prepare(method, path, body, headers, params)
        for _ in range(6):
            conn = http.client.HTTPConnection(self.interface, self.port, timeout=timeout)
            try:
                conn.request(method.upper(), target, body=data, headers=dict(hdrs.get_all()))
                raw = conn.getresponse()
                headers_out = HTTPHeaders()
                for name, value in raw.getheaders():
                    headers_out.add(name, value)
                response = Response(
                    raw.status, raw.reason, headers_out, raw.read(), self.url(target)
                )
            finally:
                conn.close()
            location = response.headers.get("Location")
            if not (follow_redirects and response.code in _REDIRECTS and location):
                return response
            parsed = urllib.parse.urlsplit(urllib.parse.urljoin(self.url(target), location))
            if parsed.netloc not in (f"{self.interface}:{self.port}", ""):
                return response  # off this server: give the redirect to the test
            target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            if response.code in (301, 302, 303) and method.upper() != "HEAD":
                method, data = "GET", None
                hdrs.pop("Content-Type", None)
        return response

    def close(self) -> None:
        """Stop listening (connections still open finish)."""
        call(self.listening.stopListening)


# -- unittest-style test cases --------------------------------------------------------


def _runs_in_reactor(method: Callable[..., Any]) -> bool:
    """An ``async def`` test, or an ``@inlineCallbacks`` one."""
    wrapped = getattr(method, "__wrapped__", None)
    return inspect.iscoroutinefunction(method) or (
        wrapped is not None and inspect.isgeneratorfunction(wrapped)
    )


class TestCase(unittest.TestCase):
    """Tornado's ``AsyncHTTPTestCase``: the app from :meth:`get_app` on a real loopback port.

    ``self.fetch(path, method=, body=, headers=)`` returns a :class:`Response`;
    ``self.client`` is an in-process :class:`Client` on the same app. Plain
    ``def`` tests run in the main thread (``fetch`` blocks while the reactor
    thread serves); ``async def`` and ``@inlineCallbacks`` tests run in the
    reactor thread, where they ``await``/``yield`` Deferreds such as
    ``self.client.get(...)``.
    """

    timeout: float = 10.0

    def __init__(self, methodName: str = "runTest") -> None:
        super().__init__(methodName)
        method = getattr(self, methodName, None)
        if method is not None and self._in_reactor(method):
            setattr(self, methodName, self._reactor_test(method))

    def _in_reactor(self, method: Callable[..., Any]) -> bool:
        return _runs_in_reactor(method)

    @staticmethod
    def _reactor_test(method: Callable[..., Any]) -> Callable[[], None]:
        @functools.wraps(method)
        def run() -> None:
            call(method)

        return run

    def get_app(self) -> Any:
        """The Application under test; override it."""
        raise NotImplementedError("override get_app() to return the Application to test")

    def setUp(self) -> None:
        super().setUp()
        ReactorThread.start()
        self.app = self.get_app()
        self.http_server = LiveServer(self.app)
        self.client = Client(self.app)
        self.addCleanup(self._close)

    def _close(self) -> None:
        self.http_server.close()
        call(self.client.close)

    def get_http_port(self) -> int:
        return self.http_server.port

    def get_url(self, path: str) -> str:
        return self.http_server.url(path)

    def fetch(
        self,
        path: str,
        method: str = "GET",
        body: Body = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Response:
        """Request ``path`` over the loopback connection (see :meth:`LiveServer.fetch`)."""
        kwargs.setdefault("timeout", self.timeout)
        return self.http_server.fetch(path, method=method, body=body, headers=headers, **kwargs)


class CycloneTestCase(TestCase):
    """cyclone 1.x's test case: ``self.client`` is a :class:`Client` on ``app_builder()``.

    As under 1.x (trial), every test method runs in the reactor thread and may
    return a Deferred (``@inlineCallbacks``) or be ``async def``; the runner
    waits for it. ``app_builder`` is the constructor's first argument, as in 1.x,
    or a class attribute. Use ``self.client``, not ``fetch()``, in these tests.
    """

    client_impl: type[Client] = Client
    app_builder: Callable[[], Any] | None = None

    def __init__(
        self, app_builder: Callable[[], Any] | str | None = None, methodName: str = "runTest"
    ) -> None:
        if isinstance(app_builder, str):  # CycloneTestCase("test_x"), as unittest calls it
            app_builder, methodName = None, app_builder
        if app_builder is not None:
            self.app_builder = app_builder
        super().__init__(methodName)

    def _in_reactor(self, method: Callable[..., Any]) -> bool:
        return True

    def get_app(self) -> Any:
        builder = self.__dict__.get("app_builder")
        for klass in type(self).__mro__:
            if builder is not None:
                break
            builder = klass.__dict__.get("app_builder")
        if isinstance(builder, staticmethod):
            builder = builder.__func__
        if builder is None:
            raise NotImplementedError("pass app_builder to CycloneTestCase, or set it on the class")
        return builder()

    def setUp(self) -> None:
        super().setUp()
        self._app = self.app
        self.client = self.client_impl(self.app)
