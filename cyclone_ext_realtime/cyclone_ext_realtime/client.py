"""The WebSocket client: ``websocket_connect(url) -> Deferred[WebSocketClientConnection]``.

Strategy: a Twisted endpoint (TCP for ``ws://``, TLS around it for ``wss://``)
connects; wsproto's ``H11Handshake`` writes the upgrade request and reads the
101 response; the open connection is then driven by the same
:class:`~cyclone_ext_realtime._protocol.WebSocketProtocol` as the server side.
Messages wait in a short queue for :meth:`WebSocketClientConnection.read_message`;
when the queue is full the socket is not read until the application catches
up, so a fast server cannot grow the client's memory.
"""

from __future__ import annotations

import urllib.parse
from collections import deque
from collections.abc import Callable
from typing import Any

from twisted.internet import defer, reactor
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.protocol import Factory
from twisted.python.failure import Failure
from wsproto.connection import ConnectionType
from wsproto.events import AcceptConnection, RejectConnection, Request
from wsproto.handshake import H11Handshake

from cyclone_ext_realtime._deflate import PerMessageDeflate
from cyclone_ext_realtime._protocol import (
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_WRITE_BUFFER_LIMIT,
    WebSocketEndpoint,
    WebSocketProtocol,
)

__all__ = ["WebSocketClientConnection", "WebSocketHandshakeError", "websocket_connect"]

_QUEUE_SIZE = 16


class WebSocketHandshakeError(Exception):
    """The server refused the upgrade or answered it wrongly (``code`` has its status)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class WebSocketClientConnection(WebSocketEndpoint):
    """An open client WebSocket.

    ``headers`` are the server's other 101 response headers (lower-case
    names), ``extensions`` the names of the negotiated extensions
    (``["permessage-deflate"]`` or ``[]``), ``selected_subprotocol`` the
    subprotocol the server chose, ``close_code`` and
    ``close_reason`` those of the server's close frame once closed.
    """

    def __init__(self, on_message_callback: Callable[[Any], Any] | None = None) -> None:
        self.protocol: WebSocketProtocol | None = None
        self.headers: dict[str, str] = {}
        self.extensions: list[str] = []
        self.selected_subprotocol: str | None = None
        self._callback = on_message_callback
        self._queue: deque[str | bytes | None] = deque()
        self._readers: deque[defer.Deferred[str | bytes | None]] = deque()
        self._room: defer.Deferred[None] | None = None
        self._closed = False
        self._closed_waiters: list[defer.Deferred[None]] = []

    def write_message(self, message: str | bytes, binary: bool = False) -> defer.Deferred[None]:
        """Send text (or binary with ``binary`` or bytes); fires when the transport drained."""
        if binary and isinstance(message, str):
            message = message.encode("utf-8")
        return self._send_message(message)

    def read_message(self) -> defer.Deferred[str | bytes | None]:
        """The next message (str or bytes), or None once the connection is closed."""
        if self._queue:
            message = self._queue.popleft()
            if self._room is not None and len(self._queue) < _QUEUE_SIZE:
                room, self._room = self._room, None
                room.callback(None)
            if message is None:
                self._queue.append(None)  # every later read also says "closed"
            return defer.succeed(message)
        reader: defer.Deferred[str | bytes | None] = defer.Deferred()
        self._readers.append(reader)
        return reader

    def closed(self) -> defer.Deferred[None]:
        """A Deferred that fires once the TCP connection is gone."""
        if self._closed:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._closed_waiters.append(waiter)
        return waiter

    # -- called by the protocol --------------------------------------------------------

    def _ws_protocol(self) -> WebSocketProtocol | None:
        return self.protocol

    def _ws_message(self, message: str | bytes | None) -> Any:
        if self._callback is not None:
            return self._callback(message)
        if self._readers:
            self._readers.popleft().callback(message)
            return None
        self._queue.append(message)
        if len(self._queue) >= _QUEUE_SIZE and message is not None:
            self._room = defer.Deferred()
            return self._room
        return None

    def _ws_closed(self, code: int | None, reason: str | None, failure: Failure | None) -> None:
        super()._ws_closed(code, reason, failure)
        self._closed = True
        if self._room is not None:
            room, self._room = self._room, None
            room.callback(None)
        self._ws_message(None)
        while self._readers:
            self._readers.popleft().callback(None)
        waiters, self._closed_waiters = self._closed_waiters, []
        for waiter in waiters:
            waiter.callback(None)


class _ClientProtocol(WebSocketProtocol):
    """Does the opening handshake, then behaves as :class:`WebSocketProtocol`."""

    def __init__(
        self,
        client: WebSocketClientConnection,
        request: Request,
        result: defer.Deferred[WebSocketClientConnection],
        **options: Any,
    ) -> None:
        self._handshake: H11Handshake | None = H11Handshake(ConnectionType.CLIENT)
        self._request = request
        self._result = result
        self._options = options
        self._pending_client = client

    def connectionMade(self) -> None:
        assert self._handshake is not None
        self.transport.write(self._handshake.send(self._request))

    def dataReceived(self, data: bytes) -> None:
        handshake = self._handshake
        if handshake is None:
            super().dataReceived(data)
            return
        try:
            handshake.receive_data(data)
            event = next(handshake.events(), None)
            if event is None:
                return
            if isinstance(event, RejectConnection):
                raise WebSocketHandshakeError(
                    f"the server refused the WebSocket: HTTP {event.status_code}",
                    event.status_code,
                )
            if not isinstance(event, AcceptConnection) or handshake.connection is None:
                raise WebSocketHandshakeError(f"unexpected handshake event {event!r}")
        except Exception as exc:
            self._handshake = None
            self.transport.abortConnection()
            error = exc if isinstance(exc, WebSocketHandshakeError) else None
            self._result.errback(error or WebSocketHandshakeError(f"bad handshake: {exc}"))
            return
        self._handshake = None
        client = self._pending_client
        client.protocol = self
        client.selected_subprotocol = event.subprotocol
        client.extensions = [extension.name for extension in event.extensions]
        client.headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.extra_headers
        }
        WebSocketProtocol.__init__(self, client, handshake.connection, **self._options)
        # The application gets the connection (and may wait for a message) before
        # the bytes that came with the 101 response are delivered.
        self._result.callback(client)
        WebSocketProtocol.connectionMade(self)

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        if self._handshake is not None:
            self._handshake = None
            self._result.errback(WebSocketHandshakeError(f"connection lost: {reason.value}"))
            return
        if hasattr(self, "connection"):
            super().connectionLost(reason)


def websocket_connect(
    url: str,
    subprotocols: list[str] | None = None,
    compression: dict[str, Any] | None = None,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
    *,
    on_message_callback: Callable[[Any], Any] | None = None,
    connect_timeout: float = 20.0,
    ping_interval: float | None = None,
    ping_timeout: float | None = None,
    write_buffer_limit: int | None = DEFAULT_WRITE_BUFFER_LIMIT,
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
    tls_options: Any = None,
) -> defer.Deferred[WebSocketClientConnection]:
    """Connect to a ``ws://`` or ``wss://`` URL; fires with the open connection.

    ``compression`` (a dict, ``{}`` for defaults; keys as in
    ``WebSocketHandler.get_compression_options``) offers permessage-deflate.
    ``max_message_size`` bounds incoming messages after decompression (1009
    beyond). ``on_message_callback`` receives every message, then None at the
    close, instead of :meth:`~WebSocketClientConnection.read_message`.
    ``tls_options`` is an ``IOpenSSLClientConnectionCreator`` (e.g.
    ``twisted.internet.ssl.optionsForClientTLS(host, trustRoot=...)``) for
    ``wss://``; by default the platform's trust store checks the host name.
    Fails with :class:`WebSocketHandshakeError` when the server refuses.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    host = parts.hostname
    endpoint: Any = HostnameEndpoint(reactor, host, port, timeout=connect_timeout)
    if secure:
        if tls_options is None:
            from twisted.internet.ssl import optionsForClientTLS

            tls_options = optionsForClientTLS(host)
        endpoint = wrapClientTLS(tls_options, endpoint)
    extensions = []
    if compression is not None:
        extensions.append(PerMessageDeflate(True, max_message_size, **compression))
    host_header = host if ":" not in host else f"[{host}]"
    if parts.port:
        host_header += f":{parts.port}"
    extra = list(headers.items()) if isinstance(headers, dict) else list(headers or ())
    request = Request(
        host=host_header,
        target=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        extensions=extensions,
        subprotocols=list(subprotocols or ()),
        extra_headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra],
    )
    result: defer.Deferred[WebSocketClientConnection] = defer.Deferred()
    client = WebSocketClientConnection(on_message_callback)
    options = {
        "max_message_size": max_message_size,
        "ping_interval": ping_interval,
        "ping_timeout": ping_timeout,
        "write_buffer_limit": write_buffer_limit,
        "close_timeout": close_timeout,
    }
    protocol = _ClientProtocol(client, request, result, **options)
    connecting = endpoint.connect(Factory.forProtocol(lambda: protocol))
    connecting.addErrback(lambda failure: result.called or result.errback(failure))

    def too_slow() -> None:
        if not result.called:
            if protocol.transport is not None:
                protocol._handshake = None
                protocol.transport.abortConnection()
            result.errback(WebSocketHandshakeError(f"no handshake within {connect_timeout}s"))

    timeout = reactor.callLater(connect_timeout, too_slow)
    result.addBoth(lambda r: (timeout.active() and timeout.cancel(), r)[1])
    return result
