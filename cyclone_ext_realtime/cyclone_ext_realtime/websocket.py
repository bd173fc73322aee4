"""WebSocketHandler: a RequestHandler whose GET upgrades to a WebSocket.

Strategy: the request goes through the ordinary handler life cycle (routing,
``initialize``, ``get_current_user``, ``prepare``, decorators) until ``get``,
which checks the opening handshake (RFC 6455 section 4.2), agrees on a
subprotocol and on permessage-deflate, and hands the connection over to a
:class:`~cyclone_ext_realtime._protocol.WebSocketProtocol` with
``HTTPConnection.detach``. The protocol writes the 101 response and from then
on calls back into the handler: ``open``, ``on_message``, ``on_ping``,
``on_pong``, ``on_close``. The HTTP side of the handler then finishes as
usual (``on_finish`` runs and the access log shows a 101).

cyclone 1.x names keep working: ``connectionMade`` (called by the default
``open``), ``messageReceived`` (by the default ``on_message``),
``connectionLost(reason)`` (by the default ``on_close``) and ``sendMessage``.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from typing import Any

from twisted.internet import defer, reactor
from twisted.python.failure import Failure
from wsproto.connection import Connection, ConnectionType
from wsproto.utilities import generate_accept_token

from cyclone.web import RequestHandler
from cyclone_ext_realtime._deflate import PerMessageDeflate, parse_offers
from cyclone_ext_realtime._protocol import (
    WebSocketClosedError,
    WebSocketEndpoint,
    WebSocketProtocol,
)
from cyclone_ext_realtime.settings import (
    WEBSOCKET_CLOSE_TIMEOUT,
    WEBSOCKET_MAX_MESSAGE_SIZE,
    WEBSOCKET_PING_INTERVAL,
    WEBSOCKET_PING_TIMEOUT,
    WEBSOCKET_WRITE_BUFFER_LIMIT,
)

__all__ = ["WebSocketClosedError", "WebSocketHandler"]


class _OpenSockets:
    """This process's open server WebSockets: closed with 1001 when the reactor stops.

    The HTTP server waits for in-flight requests at shutdown, but a WebSocket has
    left it at the upgrade; without this, peers would see the TCP connection drop
    instead of a close frame saying the server is going away.
    """

    def __init__(self) -> None:
        self.handlers: set[WebSocketHandler] = set()
        self.waiters: list[defer.Deferred[None]] = []
        self.trigger: Any = None

    def add(self, handler: WebSocketHandler) -> None:
        self.handlers.add(handler)
        if self.trigger is None:
            self.trigger = reactor.addSystemEventTrigger("before", "shutdown", self.close_all)

    def discard(self, handler: WebSocketHandler) -> None:
        self.handlers.discard(handler)
        if not self.handlers:
            waiters, self.waiters = self.waiters, []
            for waiter in waiters:
                waiter.callback(None)

    def close_all(self) -> defer.Deferred[None] | None:
        self.trigger = None
        if not self.handlers:
            return None
        waiter: defer.Deferred[None] = defer.Deferred()
        self.waiters.append(waiter)
        for handler in list(self.handlers):
            handler.close(1001, "server shutting down")
        # each protocol aborts a peer that does not answer within its close timeout
        return waiter


_open_sockets = _OpenSockets()


def _tokens(values: list[str]) -> list[str]:
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


class WebSocketHandler(WebSocketEndpoint, RequestHandler):
    """Subclass this and override ``open``, ``on_message`` and ``on_close``.

    Settings read from the Application: ``websocket_ping_interval`` and
    ``websocket_ping_timeout`` (seconds; a peer that sends nothing back within
    the timeout after a ping is disconnected), ``websocket_max_message_size``
    (bytes after decompression, default 10 MiB; bigger messages close with
    1009), ``websocket_write_buffer_limit`` (bytes queued for a peer that does
    not read, default 8 MiB; past it the connection closes with 1008) and
    ``websocket_close_timeout`` (seconds to wait for the closing handshake).
    """

    transport = "websocket"
    """The push transport's name (the ``cyclone.realtime`` contract)."""
    ws_connection: WebSocketProtocol | None = None
    selected_subprotocol: str | None = None
    """The subprotocol chosen by :meth:`select_subprotocol`, once open."""

    # -- the handshake -----------------------------------------------------------------

    def get(self, *args: Any, **kwargs: Any) -> None:
        """Check the opening handshake and switch the connection to WebSocket."""
        headers = self.request.headers
        if headers.get("Upgrade", "").strip().lower() != "websocket":
            self._refuse(400, 'Can "Upgrade" only to "WebSocket".')
            return
        if "upgrade" not in (t.lower() for t in _tokens(headers.get_list("Connection"))):
            self._refuse(400, '"Connection" must be "Upgrade".')
            return
        if self.request.version != "HTTP/1.1":
            self._refuse(400, "WebSocket needs HTTP/1.1.")
            return
        origin = headers.get("Origin") or headers.get("Sec-Websocket-Origin")
        if origin is not None and not self.check_origin(origin):
            self._refuse(403, "Cross origin websockets not allowed.")
            return
        if headers.get("Sec-Websocket-Version", "").strip() != "13":
            self.set_header("Sec-WebSocket-Version", "13")
            self._refuse(426, "Only WebSocket version 13 is supported.")
            return
        key = headers.get("Sec-Websocket-Key", "").strip()
        try:
            valid_key = len(base64.b64decode(key, validate=True)) == 16
        except (binascii.Error, ValueError):
            valid_key = False
        if not valid_key:
            self._refuse(400, "Missing or invalid Sec-WebSocket-Key.")
            return
        connection = self.request.connection
        if connection is None:
            self._refuse(400, "No connection to upgrade.")
            return

        # The 101 goes out through the handler, so headers and cookies set in
        # prepare() or set_default_headers() travel with it.
        self.clear_header("Content-Type")
        self.set_header("Upgrade", "websocket")
        self.set_header("Connection", "Upgrade")
        self.set_header("Sec-WebSocket-Accept", generate_accept_token(key.encode("ascii")).decode())
        offered = _tokens(headers.get_list("Sec-Websocket-Protocol"))
        if offered:
            chosen = self.select_subprotocol(offered)
            if chosen is not None:
                if chosen not in offered:
                    raise ValueError(f"select_subprotocol returned {chosen!r}, not offered")
                self.selected_subprotocol = chosen
                self.set_header("Sec-WebSocket-Protocol", chosen)
        extensions = []
        max_size = WEBSOCKET_MAX_MESSAGE_SIZE.of(self.settings)
        options = self.get_compression_options()
        if options is not None:
            offers = parse_offers(headers.get_list("Sec-Websocket-Extensions"))
            for offer in offers:
                deflate = PerMessageDeflate(False, max_size, **options)
                answer = deflate.accept_params(offer)
                if answer is not None:
                    extensions.append(deflate)
                    self.set_header(
                        "Sec-WebSocket-Extensions",
                        "permessage-deflate" + (f"; {answer}" if answer else ""),
                    )
                    break
        settings = self.settings
        self.ws_connection = WebSocketProtocol(
            self,
            Connection(ConnectionType.SERVER, extensions),
            max_message_size=max_size,
            ping_interval=WEBSOCKET_PING_INTERVAL.of(settings),
            ping_timeout=WEBSOCKET_PING_TIMEOUT.of(settings),
            write_buffer_limit=WEBSOCKET_WRITE_BUFFER_LIMIT.of(settings),
            close_timeout=WEBSOCKET_CLOSE_TIMEOUT.of(settings),
        )
        self.set_status(101)
        self.finish()
        connection.detach(self.ws_connection)

    def _refuse(self, status: int, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish(message)

    def check_origin(self, origin: str) -> bool:
        """True to accept a connection from a page at ``origin``; same host by default.

        Browsers send ``Origin``; returning True for every origin lets any web
        page use the visitor's cookies on this endpoint.
        """
        netloc = urllib.parse.urlsplit(origin.strip()).netloc.lower()
        return netloc == self.request.host.lower()

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        """Choose one of the subprotocols the client offers (in its order), or None."""
        return None

    def get_compression_options(self) -> dict[str, Any] | None:
        """None (the default) disables permessage-deflate; a dict enables it.

        Keys: ``compression_level`` (zlib, -1 to 9), ``mem_level`` (1 to 9),
        ``no_context_takeover`` (compress each message on its own: less memory
        per connection, less compression).
        """
        return None

    # -- the WebSocket API -------------------------------------------------------------

    def open(self, *args: Any, **kwargs: Any) -> Any:
        """Called when the WebSocket is open, with the path groups; may be async."""
        return self.connectionMade(*args, **kwargs)

    def on_message(self, message: str | bytes) -> Any:
        """Called for each message: str for text, bytes for binary. May be async:
        the next message waits until it finishes."""
        return self.messageReceived(message)

    def on_close(self) -> None:
        """Called once when the WebSocket is closed (``close_code`` tells how)."""
        self.connectionLost(self._lost_reason)

    def write_message(
        self, message: str | bytes | dict[str, Any], binary: bool = False
    ) -> defer.Deferred[None]:
        """Send a message: text, or binary with ``binary=True``; a dict is sent as JSON text.

        The Deferred fires when the peer has read enough that more can be written
        (await it to follow a slow reader). Raises :class:`WebSocketClosedError`
        once the WebSocket is closing.
        """
        if isinstance(message, dict):
            message = json.dumps(message)
        if binary:
            message = message.encode("utf-8") if isinstance(message, str) else bytes(message)
        elif not isinstance(message, str):
            message = bytes(message).decode("utf-8")  # text frames carry UTF-8 only
        return self._send_message(message)

    # -- cyclone 1.x names -------------------------------------------------------------

    def connectionMade(self, *args: Any, **kwargs: Any) -> Any:
        """cyclone 1.x: called by the default :meth:`open`."""

    def messageReceived(self, message: str | bytes) -> Any:
        """cyclone 1.x: called by the default :meth:`on_message`."""

    def connectionLost(self, reason: Failure | None) -> None:
        """cyclone 1.x: called by the default :meth:`on_close`."""

    def sendMessage(self, message: str | bytes | dict[str, Any]) -> defer.Deferred[None]:
        """cyclone 1.x name of :meth:`write_message`."""
        return self.write_message(message)

    # -- called by the protocol --------------------------------------------------------

    _lost_reason: Failure | None = None

    def _ws_protocol(self) -> WebSocketProtocol | None:
        return self.ws_connection

    def _ws_opened(self) -> Any:
        _open_sockets.add(self)
        return self.open(*self.path_args, **self.path_kwargs)

    def _ws_message(self, message: str | bytes) -> Any:
        return self.on_message(message)

    def _ws_closed(self, code: int | None, reason: str | None, failure: Failure | None) -> None:
        super()._ws_closed(code, reason, failure)
        self._lost_reason = failure
        _open_sockets.discard(self)
        self.on_close()
