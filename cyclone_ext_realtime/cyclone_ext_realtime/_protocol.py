"""The WebSocket connection as a Twisted protocol around a wsproto ``Connection``.

Strategy: wsproto parses and builds frames and never touches a socket; this
protocol is the thin shell that feeds it bytes and turns its events into calls
on a *delegate* (the server's ``WebSocketHandler`` or the client's
``WebSocketClientConnection``), shared by both sides:

- Messages are assembled from fragments as they arrive and refused (1009) as
  soon as they pass ``max_message_size``; compressed ones are bounded while
  they inflate (see ``_deflate``). They reach the delegate one at a time, in
  order: when the delegate returns a Deferred the socket stops being read until
  it fires, so a slow consumer does not grow memory.
- Writes return a Deferred that fires once the transport's buffer has drained
  (the protocol is the transport's push producer). Bytes written while the
  transport is full are counted; past ``write_buffer_limit`` the connection is
  closed with 1008 and aborted if the peer does not read the close in time.
- A keep-alive ping every ``ping_interval`` seconds; when nothing at all comes
  back within ``ping_timeout`` the peer is taken for dead and the TCP
  connection is aborted.
- Protocol errors found by wsproto (bad UTF-8, bad close codes, unmasked
  frames, RSV bits, orphan continuations, bad control frames) are answered
  with the close code wsproto names, then the connection is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer, reactor
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from wsproto.connection import Connection, ConnectionState
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Event,
    Message,
    Ping,
    Pong,
    TextMessage,
)
from wsproto.frame_protocol import CloseReason
from wsproto.utilities import LocalProtocolError
from zope.interface import implementer

__all__ = ["WebSocketClosedError", "WebSocketEndpoint", "WebSocketProtocol"]

log = Logger(namespace="cyclone.websocket")

DEFAULT_MAX_MESSAGE_SIZE = 10 * 1024 * 1024
DEFAULT_WRITE_BUFFER_LIMIT = 8 * 1024 * 1024
DEFAULT_CLOSE_TIMEOUT = 5.0


class WebSocketClosedError(Exception):
    """Raised when writing to (or pinging) a WebSocket that is closing or closed."""


def as_deferred(result: Any) -> defer.Deferred[Any] | None:
    """A Deferred for an awaitable result (coroutine or Deferred); None for a plain value."""
    if isinstance(result, defer.Deferred):
        return result
    if result is not None and hasattr(result, "__await__"):
        return defer.ensureDeferred(result)
    return None


class WebSocketEndpoint:
    """One end of a WebSocket as the application sees it: the protocol's delegate.

    What the server's ``WebSocketHandler`` and the client's
    ``WebSocketClientConnection`` share: ``ping``, ``close``, the ``on_ping`` and
    ``on_pong`` callbacks, ``close_code``/``close_reason``, and the ``_ws_*``
    calls :class:`WebSocketProtocol` makes. A side provides :meth:`_ws_protocol`
    and :meth:`_ws_message`, and extends the others with what only it does.
    """

    close_code: int | None = None
    """The code of the peer's close frame (None when it sent none or vanished)."""
    close_reason: str | None = None
    """The reason of the peer's close frame."""

    def _ws_protocol(self) -> WebSocketProtocol | None:
        """The open protocol, or None before the handshake."""
        raise NotImplementedError

    def _open_protocol(self) -> WebSocketProtocol:
        protocol = self._ws_protocol()
        if protocol is None:
            raise WebSocketClosedError("the WebSocket is not open")
        return protocol

    def _send_message(self, message: str | bytes) -> defer.Deferred[None]:
        """Send text (str) or binary (bytes); raises WebSocketClosedError when not open."""
        return self._open_protocol().send_message(message)

    def ping(self, data: bytes | str = b"") -> None:
        """Send a ping with up to 125 bytes of ``data``."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._open_protocol().ping(data)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start closing the WebSocket with an optional ``code`` and ``reason``."""
        protocol = self._ws_protocol()
        if protocol is not None:
            protocol.close(code, reason)

    def on_ping(self, data: bytes) -> None:
        """Called when a ping arrives (it has already been answered)."""

    def on_pong(self, data: bytes) -> None:
        """Called when a pong arrives."""

    # -- called by the protocol --------------------------------------------------------

    def _ws_opened(self) -> Any:
        return None

    def _ws_message(self, message: str | bytes) -> Any:
        raise NotImplementedError

    def _ws_ping(self, data: bytes) -> None:
        self.on_ping(data)

    def _ws_pong(self, data: bytes) -> None:
        self.on_pong(data)

    def _ws_closed(self, code: int | None, reason: str | None, failure: Failure | None) -> None:
        self.close_code = code
        self.close_reason = reason


@implementer(IPushProducer)
class WebSocketProtocol(Protocol):
    """One open WebSocket: wsproto ``connection`` on a Twisted transport.

    The delegate (a :class:`WebSocketEndpoint`) receives ``_ws_opened()``,
    ``_ws_message(msg)`` (may return a Deferred: the next message waits for it),
    ``_ws_ping(data)``, ``_ws_pong(data)`` and ``_ws_closed(code, reason,
    failure)`` exactly once.
    """

    def __init__(
        self,
        delegate: WebSocketEndpoint,
        connection: Connection,
        *,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        ping_interval: float | None = None,
        ping_timeout: float | None = None,
        write_buffer_limit: int | None = DEFAULT_WRITE_BUFFER_LIMIT,
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
    ) -> None:
        self.delegate = delegate
        self.connection = connection
        self.client = connection.client
        self.max_message_size = max_message_size
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout or ping_interval
        self.write_buffer_limit = write_buffer_limit
        self.close_timeout = close_timeout
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._parts: list[Any] = []
        self._size = 0
        self._busy = False
        self._delivering = False
        self._reading_paused = False
        self._write_paused = False
        self._paused_bytes = 0
        self._drain_waiters: list[defer.Deferred[None]] = []
        self._lost = False
        self._dropping = False
        self._last_received = 0.0
        self._ping_call: Any = None
        self._alive_check: Any = None
        self._close_call: Any = None

    # -- connection life ---------------------------------------------------------------

    def connectionMade(self) -> None:
        self.transport.registerProducer(self, True)
        self._last_received = reactor.seconds()
        if self.ping_interval:
            self._ping_call = reactor.callLater(self.ping_interval, self._keepalive)
        self._busy = True  # messages wait for an asynchronous open() to finish
        self._after_delivery(self._call(self.delegate._ws_opened))
        if not self._busy:
            self._pump()

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        if self._lost:
            return
        self._lost = True
        for call in (self._ping_call, self._alive_check, self._close_call):
            if call is not None and call.active():
                call.cancel()
        self._parts = []
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            waiter.callback(None)
        self._call(self.delegate._ws_closed, self.close_code, self.close_reason, reason)

    @property
    def is_open(self) -> bool:
        """True while messages can be sent."""
        return not self._lost and self.connection.state is ConnectionState.OPEN

    # -- receiving ---------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        if self._lost or self._dropping:
            return
        self._last_received = reactor.seconds()
        try:
            self.connection.receive_data(data)
        except LocalProtocolError:  # data after the closing handshake
            return
        if not self._busy:
            self._pump()
        elif not self._reading_paused:
            self._reading_paused = True
            self.transport.pauseProducing()

    def _pump(self) -> None:
        for event in self.connection.events():
            self._handle(event)
            if self._busy or self._dropping or self._lost:
                return

    def _handle(self, event: Event) -> None:
        if isinstance(event, Message):
            self._message_part(event)
        elif isinstance(event, Ping):
            self._send(event.response())
            self._call(self.delegate._ws_ping, bytes(event.payload))
        elif isinstance(event, Pong):
            self._call(self.delegate._ws_pong, bytes(event.payload))
        elif isinstance(event, CloseConnection):
            self._close_received(event)

    def _message_part(self, event: Message[Any]) -> None:
        data = event.data
        if self.max_message_size is not None:
            self._size += len(data.encode("utf-8")) if isinstance(data, str) else len(data)
            if self._size > self.max_message_size:
                self._fail(CloseReason.MESSAGE_TOO_BIG, "message too big")
                return
        if not event.message_finished:
            self._parts.append(data)
            return
        if self._parts:
            self._parts.append(data)
            data = "".join(self._parts) if isinstance(event, TextMessage) else b"".join(self._parts)
            self._parts = []
        elif isinstance(event, BytesMessage):
            data = bytes(data)
        self._size = 0
        self._busy = True
        self._after_delivery(self._call(self.delegate._ws_message, data))

    def _after_delivery(self, result: Any) -> None:
        d = as_deferred(result)
        if d is None:
            self._busy = False
            return
        # A Deferred that has already fired must not re-enter _pump from here: the
        # caller's loop goes on (no recursion over a long run of messages).
        self._delivering = True
        d.addErrback(self._delegate_failed)
        d.addCallback(self._delivered)
        self._delivering = False

    def _delivered(self, _: Any) -> None:
        self._busy = False
        if self._delivering or self._lost or self._dropping:
            return
        if self._reading_paused:
            self._reading_paused = False
            self.transport.resumeProducing()
        self._pump()

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except Exception:
            self._delegate_failed(Failure())
            return None

    def _delegate_failed(self, failure: Failure) -> None:
        log.failure("uncaught exception in a WebSocket callback", failure)
        if self.is_open:
            self.close(CloseReason.INTERNAL_ERROR, "internal error")

    def _close_received(self, event: CloseConnection) -> None:
        state = self.connection.state
        if state is ConnectionState.REMOTE_CLOSING:  # the peer starts the closing handshake
            self._remember_close(event)
            self._send(event.response())
            self._finish_closing()
        elif state is ConnectionState.CLOSED:  # the peer answered our close
            self._remember_close(event)
            self._finish_closing()
        else:  # wsproto found a protocol error: fail the connection (RFC 6455 7.1.7)
            log.info(
                "closing WebSocket {peer}: {code} {reason}",
                peer=self.transport.getPeer(),
                code=int(event.code),
                reason=event.reason,
            )
            self._fail(event.code, event.reason)

    def _remember_close(self, event: CloseConnection) -> None:
        if event.code != CloseReason.NO_STATUS_RCVD:
            self.close_code = int(event.code)
            self.close_reason = event.reason

    def _fail(self, code: int, reason: str | None) -> None:
        if self.connection.state is ConnectionState.OPEN:
            self._send(CloseConnection(code=code, reason=reason))
        self._drop()

    def _finish_closing(self) -> None:
        """The closing handshake is done: the server closes TCP, the client waits for it."""
        if self.client:
            self._start_close_timer()
        else:
            self._drop()

    def _drop(self) -> None:
        """Close TCP once what was written is sent (aborted after ``close_timeout``)."""
        if self._dropping or self._lost:
            return
        self._dropping = True
        transport = self.transport
        transport.unregisterProducer()
        if self._reading_paused:
            self._reading_paused = False
            transport.resumeProducing()
        transport.loseConnection()
        self._start_close_timer()

    def _start_close_timer(self) -> None:
        if self._close_call is None and not self._lost:
            self._close_call = reactor.callLater(self.close_timeout, self._close_timed_out)

    def _close_timed_out(self) -> None:
        self._close_call = None
        if not self._lost:
            self.transport.abortConnection()

    # -- sending -----------------------------------------------------------------------

    def _send(self, event: Event) -> None:
        try:
            data = self.connection.send(event)
        except LocalProtocolError:
            return
        self._write(data)

    def _write(self, data: bytes) -> None:
        if self._lost or self._dropping:
            return
        if self._write_paused:
            self._paused_bytes += len(data)
            limit = self.write_buffer_limit
            if limit is not None and self._paused_bytes > limit:
                log.warn(
                    "WebSocket {peer} does not read: more than {limit} bytes buffered, closing",
                    peer=self.transport.getPeer(),
                    limit=limit,
                )
                if self.connection.state is ConnectionState.OPEN:  # the peer may yet read it
                    close = CloseConnection(code=CloseReason.POLICY_VIOLATION, reason="too slow")
                    self.transport.write(self.connection.send(close))
                self._drop()
                return
        self.transport.write(data)

    def send_message(self, message: str | bytes) -> defer.Deferred[None]:
        """Send one message (text for str); the Deferred fires when the transport drained."""
        if not self.is_open:
            raise WebSocketClosedError("the WebSocket is closed")
        self._write(self.connection.send(Message(data=message)))
        return self.wait_for_drain()

    def ping(self, data: bytes = b"") -> None:
        """Send a ping (at most 125 bytes of ``data``)."""
        if len(data) > 125:
            raise ValueError("a ping carries at most 125 bytes")
        if not self.is_open:
            raise WebSocketClosedError("the WebSocket is closed")
        self._send(Ping(payload=data))

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start the closing handshake; TCP closes when the peer answers or after a timeout."""
        if self._lost or self._dropping:
            return
        state = self.connection.state
        if state is ConnectionState.OPEN:
            if code is None and reason is not None:
                code = CloseReason.NORMAL_CLOSURE
            self._send(CloseConnection(code=code or CloseReason.NO_STATUS_RCVD, reason=reason))
            self._start_close_timer()
        elif state is not ConnectionState.LOCAL_CLOSING:
            self._drop()

    def wait_for_drain(self) -> defer.Deferred[None]:
        """Fires when the transport can take more (at once unless it is full)."""
        if not self._write_paused or self._lost:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._drain_waiters.append(waiter)
        return waiter

    # -- IPushProducer: the transport says when its write buffer is full ---------------

    def pauseProducing(self) -> None:
        self._write_paused = True

    def resumeProducing(self) -> None:
        self._write_paused = False
        self._paused_bytes = 0
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            waiter.callback(None)

    def stopProducing(self) -> None:
        pass

    # -- keep-alive --------------------------------------------------------------------

    def _keepalive(self) -> None:
        self._ping_call = reactor.callLater(self.ping_interval, self._keepalive)
        if not self.is_open:
            return
        now = reactor.seconds()
        self._send(Ping(payload=b"keepalive"))
        if self._alive_check is None:
            self._alive_check = reactor.callLater(self.ping_timeout, self._check_alive, now)

    def _check_alive(self, pinged_at: float) -> None:
        self._alive_check = None
        if self._last_received < pinged_at and not self._lost:
            log.info(
                "WebSocket {peer} did not answer a ping in {timeout}s: aborting",
                peer=self.transport.getPeer(),
                timeout=self.ping_timeout,
            )
            self.transport.abortConnection()
