"""One HTTP/1.1 connection: the Twisted protocol shell around the sans-IO reader and framing.

Strategy: :class:`~cyclone._h1_reader.RequestReader` turns bytes into requests
(or the refusal of one), :func:`~cyclone._h1_framing.frame_response` decides how
each response is delimited and what it costs the connection; both are tested
without a reactor. What stays here is what needs the transport and the clock:
flow control (pipelining in order, pausing reads, write back-pressure),
deadlines, 100-continue timing, graceful close and protocol hand-over.
Requests are handed, complete, to the server's ``request_callback`` one at a
time; the callback answers through :meth:`HTTPConnection.send_response` and
:meth:`HTTPConnection.send_body`. Nothing here knows about handlers. The
factory that owns connections (timeouts sweeper, graceful shutdown) lives in
:mod:`cyclone.httpserver`; the direct socket write in :mod:`cyclone._fastwrite`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet import defer, reactor
from twisted.internet.interfaces import IPushProducer, ISSLTransport
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from cyclone._fastwrite import writer_for
from cyclone._h1_framing import (
    CONTINUE,
    HTTPOutputError,
    ResponseFraming,
    error_response,
    frame_response,
    response_head,
)
from cyclone._h1_reader import RequestReader, Upgrade, WireError
from cyclone._request import HTTPRequest
from cyclone.httputil import HTTPLimits, responses

if TYPE_CHECKING:
    from cyclone._connection import ConnectionOwner

__all__ = ["HTTPConnection", "HTTPOutputError"]

log = Logger(namespace="cyclone.httpserver")
_seconds = reactor.seconds  # type: ignore[attr-defined]

_FEED_SLICE = 4096

_IDLE, _HEADERS, _BODY, _WAITING, _CLOSING, _STALLED = range(6)


@implementer(IPushProducer)
class HTTPConnection(Protocol):
    """One client connection: parses requests and writes their responses in order."""

    def __init__(self, server: ConnectionOwner) -> None:
        self.server = server
        self.limits: HTTPLimits = server.limits
        self.reader = RequestReader(self, self.limits, server.xheaders)
        self._queue: deque[HTTPRequest | WireError] = deque()
        self._active: HTTPRequest | None = None
        self._processing = False
        self._pending = b""
        self._reading_paused = False
        self._write_paused = False
        self._drain_waiters: list[defer.Deferred[None]] = []
        self._broken = False
        self._closing = False
        self._closed = False
        self._upgraded = False
        self._detached = False
        self.upgrade_buffer = b""
        self._feeding = False
        self._phase = _IDLE
        self._stalled_from: tuple[int, float | None] | None = None
        self.deadline: float | None = None
        self.remote_ip = "127.0.0.1"
        self.protocol = "http"
        self._close_callback: Callable[[], None] | None = None
        # How the response being written is framed (one at a time per connection).
        self._framing = ResponseFraming(False, None, True, True)

    # -- connection life -------------------------------------------------------

    def connectionMade(self) -> None:
        transport = self.transport
        peer = transport.getPeer()
        host = getattr(peer, "host", None)
        if host:
            self.remote_ip = host
        if ISSLTransport.providedBy(transport):
            self.protocol = "https"
        self._write = writer_for(transport)  # type: ignore[method-assign]
        transport.registerProducer(self, True)
        self.server._connection_made(self)
        self._set_deadline(_IDLE, self.limits.idle_connection_timeout)

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self._closed = True
        self.deadline = None
        # The parser holds the reader's bound callbacks, the reader holds us:
        # closing it breaks the cycle, so a closed connection is freed at once
        # instead of waiting for the cyclic GC (whose pauses would otherwise
        # grow with the connection rate). It also frees a body being read.
        self.reader.close()
        self.__dict__.pop("_write", None)  # the direct writer holds the transport
        self._queue.clear()
        callback, self._close_callback = self._close_callback, None
        self._active = None
        for waiter in self._drain_waiters:
            waiter.callback(None)
        self._drain_waiters = []
        self.server._connection_lost(self)
        if callback is not None:
            try:
                callback()
            except Exception:
                log.failure("error in connection close callback")

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` if the client goes away before the active response ends."""
        self._close_callback = callback

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, grace: float | None = None) -> None:
        """Close after what was written is sent; abort if the peer does not read it.

        The peer has ``grace`` seconds (``limits.close_grace`` by default) to read
        what is left and close its side; whatever it sends meanwhile is discarded.
        """
        if self._closed or self._phase == _CLOSING:
            return
        self._phase = _CLOSING
        self._broken = True  # nothing more is read as a request
        self._pending = b""
        self.deadline = _seconds() + (self.limits.close_grace if grace is None else grace)
        transport = self.transport
        # A registered producer holds a TLS close back, and a paused transport
        # would not notice the peer's close: hand both back before closing.
        transport.unregisterProducer()
        if self._reading_paused:
            self._reading_paused = False
            transport.resumeProducing()
        half_close = getattr(transport, "loseWriteConnection", None)
        if half_close is not None and self.protocol != "https":  # https: a TLS transport
            # Lingering close: send FIN but keep reading (and discarding) until the
            # peer closes. Closing with unread bytes would make the kernel send a
            # RST, which can destroy the final response before the client reads it.
            half_close()
        else:
            transport.loseConnection()

    def close_when_idle(self) -> None:
        """Finish the requests already received, then close (graceful shutdown)."""
        if self._closed or self._phase == _CLOSING:
            return  # already closing: keep reading so the peer's close is noticed
        self._closing = True
        if self._active is None and not self._queue:
            # Idle: nothing of ours is in flight, so a peer that keeps its side open
            # gets only a short grace before the connection is aborted.
            self.close(self.limits.idle_close_grace)
            return
        self._pause_reading()

    def _write(self, data: bytes) -> None:
        """Send ``data``; replaced per connection by :func:`cyclone._fastwrite.writer_for`."""
        self.transport.write(data)

    # -- IPushProducer: the transport tells us when its write buffer is full --------

    def pauseProducing(self) -> None:
        self._write_paused = True
        timeout = self.limits.write_timeout
        if timeout is not None and self._phase != _CLOSING and self._stalled_from is None:
            # A client that stops reading what we write is given write_timeout to resume.
            self._stalled_from = (self._phase, self.deadline)
            self._phase = _STALLED
            self.deadline = _seconds() + timeout

    def resumeProducing(self) -> None:
        self._write_paused = False
        if self._stalled_from is not None:
            if self._phase == _STALLED:
                self._phase, self.deadline = self._stalled_from
            self._stalled_from = None
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            waiter.callback(None)
        if self._active is None and self._queue:
            self._process_queue()

    def stopProducing(self) -> None:
        pass

    def wait_for_drain(self) -> defer.Deferred[None]:
        """A Deferred that fires when the client has read enough of what was written."""
        if not self._write_paused or self._closed:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._drain_waiters.append(waiter)
        return waiter

    # -- reading ----------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        if self._upgraded:
            # Bytes after an upgrade request belong to the new protocol: keep them
            # for whoever takes the transport over (see detach).
            self.upgrade_buffer += data
            if len(self.upgrade_buffer) > self.limits.max_header_size:
                self._pause_reading()
            return
        if self._broken:
            return
        if self._pending or len(self._queue) >= self.limits.max_pipelined_requests:
            self._pending += data
            self._pause_reading()
            return
        if len(data) <= _FEED_SLICE:
            self._feed(data)
            return
        for start in range(0, len(data), _FEED_SLICE):
            if self._broken or self._upgraded:
                return
            if len(self._queue) >= self.limits.max_pipelined_requests:
                self._pending = data[start:]
                self._pause_reading()
                return
            self._feed(data[start : start + _FEED_SLICE])

    def _feed(self, data: bytes) -> None:
        self._feeding = True
        try:
            outcome = self.reader.feed(data)
        finally:
            self._feeding = False
        if outcome is None:
            return
        if isinstance(outcome, WireError):
            self._reject(outcome)
        elif isinstance(outcome, Upgrade):
            self._upgraded = True
            self.upgrade_buffer = data[outcome.offset :]
            self._process_queue()
        else:  # DISCARD: bytes after a request that ends the connection
            self._broken = True
            self._pause_reading()

    def _reject(self, error: WireError) -> None:
        self._broken = True
        self._pause_reading()
        self._queue.append(error)
        self._process_queue()

    def _pause_reading(self) -> None:
        # While closing we keep reading (and discarding) until the peer's FIN.
        if not self._reading_paused and not self._closed and self._phase != _CLOSING:
            self._reading_paused = True
            self.transport.pauseProducing()

    def _resume_reading(self) -> None:
        if self._reading_paused and not self._closed and not self._broken:
            self._reading_paused = False
            self.transport.resumeProducing()

    # -- RequestSink: what the reader reports ---------------------------------------------

    def message_begun(self) -> None:
        self._set_deadline(_HEADERS, self.limits.header_timeout)

    def body_begun(self) -> None:
        self._set_deadline(_BODY, self.limits.body_timeout)

    def continue_expected(self) -> None:
        self._maybe_send_continue()

    def request_received(self, request: HTTPRequest, upgrade: bool) -> None:
        self._queue.append(request)
        self._set_deadline(_WAITING, None)
        if not upgrade:  # an upgrade is dispatched once llhttp says where its bytes start
            self._process_queue()

    # -- dispatching ----------------------------------------------------------------

    def _process_queue(self) -> None:
        if self._processing:
            return
        self._processing = True
        try:
            while (
                self._active is None
                and self._queue
                and self._phase != _CLOSING
                and not self._closed
                and not self._write_paused
            ):
                item = self._queue.popleft()
                if isinstance(item, WireError):
                    self._write_error(item)
                    return
                self._active = item
                try:
                    self.server.request_callback(item)
                except Exception:
                    log.failure("unhandled error serving {uri}", uri=item.uri)
                    if self._active is item:
                        self._abort_active()
        finally:
            self._processing = False
        if self._active is None and not self._closed and not self._detached:
            self._after_idle()

    def _after_idle(self) -> None:
        """Nothing is being answered: read more, send a pending 100, or close."""
        if self._phase == _CLOSING:
            return
        if self._closing and not self._queue:
            self.close()
            return
        if self._upgraded:
            self.close()
            return
        if len(self._queue) < self.limits.max_pipelined_requests:
            if self._pending and not self._feeding:
                data, self._pending = self._pending, b""
                self.dataReceived(data)
                if self._closed or self._active is not None:
                    return
            self._resume_reading()
        self._maybe_send_continue()
        if self._phase == _WAITING and not self._queue:
            self._set_deadline(_IDLE, self.limits.idle_connection_timeout)

    def _maybe_send_continue(self) -> None:
        reader = self.reader
        if reader.expect_continue and self._active is None and not self._queue:
            # RFC 9110 §10.1.1: the 100 is sent once the request is next to be answered.
            reader.expect_continue = False
            self._write(CONTINUE)

    def _write_error(self, error: WireError) -> None:
        reason = responses.get(error.status, "Error")
        self._write(error_response(error.status, error.message, reason, error.extra_headers))
        self.close()

    def _abort_active(self) -> None:
        self._active = None
        self._close_callback = None
        self.transport.abortConnection()

    # -- writing (called by the request callback) ---------------------------------------

    def send_response(
        self,
        request: HTTPRequest,
        code: int,
        reason: str,
        headers: dict[str, str],
        extra_headers: list[tuple[str, str]] | None,
        body: bytes,
        finished: bool,
    ) -> None:
        """Write the status line, ``headers`` and the first ``body`` bytes.

        With ``finished`` the response is complete (Content-Length is added when
        absent); otherwise it continues with :meth:`send_body`, chunked for
        HTTP/1.1 clients and delimited by closing the connection for HTTP/1.0.
        Header names must be in ``Http-Header-Case``.
        """
        if request is not self._active:
            raise HTTPOutputError("response for a request that is not being answered")
        framing = frame_response(
            request.method,
            request.version,
            request.keep_alive,
            code,
            headers,
            len(body),
            finished,
            (self._closing and not self._queue) or self._upgraded,
            self._upgraded,
        )
        self._framing = framing
        head = response_head(code, reason, headers, extra_headers)
        if framing.whole:  # the common case: one write, nothing else to decide
            self._write(framing.whole_message(head, body))
            self._response_done(request)
            return
        try:
            framed = framing.frame(body)
        except HTTPOutputError:
            self._abort_active()
            raise
        for data in framing.first_writes(head, framed):
            self._write(data)
        if finished:
            self._response_done(request)

    def send_body(self, request: HTTPRequest, chunk: bytes, finished: bool) -> None:
        """Write more of the response body; ``finished`` ends the response."""
        if request is not self._active:
            raise HTTPOutputError("response for a request that is not being answered")
        framing = self._framing
        if chunk:
            try:
                data = framing.frame(chunk)
            except HTTPOutputError:
                self._abort_active()
                raise
            if data:
                self._write(data)
        if finished:
            end = framing.end()
            if end:
                self._write(end)
            self._response_done(request)

    def _response_done(self, request: HTTPRequest) -> None:
        framing = self._framing
        request._finish_time = _seconds()
        self._close_callback = None
        self._active = None
        if framing.short:
            log.warn(
                "response for {uri} ended after {sent} of {expected} bytes; closing",
                uri=request.uri,
                sent=framing.sent,
                expected=framing.expected,
            )
            self.close()
            return
        if framing.switching:
            # Waiting for detach(); a handler that never calls it is closed as idle.
            self._set_deadline(_IDLE, self.limits.idle_connection_timeout)
            return
        if not framing.keep_alive or self._upgraded:
            self.close()
            return
        if self._processing:
            return  # answered synchronously: the dispatch loop goes on by itself
        if self._queue or self._pending:
            # Answered later (asynchronously): the next request starts on its own
            # turn of the reactor, after the finishing handler's on_finish.
            reactor.callLater(0, self._process_queue)
        else:
            self._after_idle()

    # -- protocol upgrades -------------------------------------------------------------

    def detach(self, protocol: Any = None) -> tuple[Any, bytes]:
        """Hand the transport over (e.g. to a WebSocket protocol) with unread bytes.

        Only valid while answering a request that asked for an upgrade; the
        connection stops parsing and framing responses, and reports ``closed``
        (nothing more is written as HTTP). With ``protocol`` (an ``IProtocol``),
        the hand-over is complete: ``protocol.makeConnection(transport)``, then
        the bytes read past the request, then every later ``dataReceived`` and
        the ``connectionLost``; the returned bytes are then empty.
        """
        self._upgraded = True
        self._detached = True
        self.reader.close()
        self.__dict__.pop("_write", None)  # nothing more is written as HTTP
        self._closed = True
        self._active = None
        self._close_callback = None
        self.deadline = None
        self.server._connection_lost(self)
        transport = self.transport
        transport.unregisterProducer()
        data = self.upgrade_buffer + self._pending
        self.upgrade_buffer = self._pending = b""
        if self._reading_paused:  # paused while the upgrade bytes piled up
            self._reading_paused = False
            transport.resumeProducing()
        if protocol is not None:
            # The transport keeps calling this object (a TLS transport delivers to
            # the protocol it wraps, so it cannot be re-pointed): forward from here.
            self.dataReceived = protocol.dataReceived  # type: ignore[method-assign]
            self.connectionLost = protocol.connectionLost  # type: ignore[method-assign]
            protocol.makeConnection(transport)
            if data:
                protocol.dataReceived(data)
            data = b""
        return transport, data

    # -- timeouts ----------------------------------------------------------------------

    def _set_deadline(self, phase: int, timeout: float | None) -> None:
        if self._phase == _CLOSING:
            return
        deadline = None if timeout is None else _seconds() + timeout
        if self._phase == _STALLED:
            self._stalled_from = (phase, deadline)  # takes effect when writing resumes
            return
        self._phase = phase
        self.deadline = deadline

    def timed_out(self) -> None:
        """Called by the server's sweeper when :attr:`deadline` passes."""
        phase = self._phase
        self.deadline = None
        if phase in (_CLOSING, _STALLED):
            self.transport.abortConnection()
        elif phase == _IDLE:
            self.close()
        elif phase in (_HEADERS, _BODY):
            if self._reading_paused and (self._active is not None or self._queue):
                # We stopped reading (pipelining cap), not the client: wait again.
                limits = self.limits
                timeout = limits.header_timeout if phase == _HEADERS else limits.body_timeout
                self.deadline = _seconds() + (timeout or 0.0)
                return
            # RFC 9110 §15.5.9: the client did not send a whole request in time.
            self._reject(WireError(408, "Request Timeout"))
