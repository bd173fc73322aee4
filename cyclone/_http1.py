"""One HTTP/1.1 connection: a Twisted protocol around the llhttp parser.

Strategy: httptools (llhttp, strict mode) parses; this module adds what a server
must decide on top of a parser: which requests are acceptable (Host, framing,
transfer codings, versions), limits and timeouts, pipelining in order, and the
framing of each response (Content-Length, chunked, or close). Requests are
handed, complete, to the server's ``request_callback`` one at a time; the
callback answers through :meth:`HTTPConnection.send_response` and
:meth:`HTTPConnection.send_body`. Nothing here knows about handlers. The
factory that owns connections (timeouts sweeper, graceful shutdown) lives in
:mod:`cyclone.httpserver`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httptools
from twisted.internet import defer, reactor
from twisted.internet.interfaces import IPushProducer, ISSLTransport
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from cyclone._fastwrite import writer_for
from cyclone._multipart import MultipartError, MultipartStream, parse_header
from cyclone._request import HTTPRequest
from cyclone.httputil import (
    HTTPHeaders,
    HTTPInputError,
    HTTPLimits,
    SpooledBuffer,
    apply_xheaders,
    is_token,
    is_valid_host,
    responses,
    split_absolute_form,
)

if TYPE_CHECKING:
    from cyclone._connection import ConnectionOwner

__all__ = ["HTTPConnection", "HTTPOutputError"]

log = Logger(namespace="cyclone.httpserver")
_seconds = reactor.seconds  # type: ignore[attr-defined]

_FEED_SLICE = 4096

_IDLE, _HEADERS, _BODY, _WAITING, _CLOSING, _STALLED = range(6)

_status_lines: dict[tuple[int, str], bytes] = {}


def _status_line(code: int, reason: str) -> bytes:
    # Responses always carry our highest version, also to HTTP/1.0 clients (RFC 9110 2.5).
    key = (code, reason)
    line = _status_lines.get(key)
    if line is None:
        # a reason built from request data must not stop the response from leaving
        line = f"HTTP/1.1 {code} {reason}\r\n".encode("latin-1", "replace")
        if len(_status_lines) < 1024:
            _status_lines[key] = line
    return line


def _head(
    code: int, reason: str, headers: dict[str, str], extra: list[tuple[str, str]] | None
) -> bytes:
    """Status line and header block, through the blank line."""
    lines = [f"{k}: {v}\r\n" for k, v in headers.items()]
    if extra:
        lines.extend(f"{k}: {v}\r\n" for k, v in extra)
    lines.append("\r\n")
    text = "".join(lines)
    try:
        head = text.encode("latin-1")
    except UnicodeEncodeError:
        head = text.encode("utf-8")
    return _status_line(code, reason) + head


class HTTPOutputError(Exception):
    """A response that breaks HTTP framing (e.g. more bytes than Content-Length)."""


class _WireError:
    """A request the server refuses before any handler sees it."""

    __slots__ = ("extra_headers", "message", "status")

    def __init__(
        self, status: int, message: str, extra_headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.status = status
        self.message = message
        self.extra_headers = extra_headers


_LLHTTP_METHODS = frozenset(
    b"DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH "
    b"SEARCH UNLOCK BIND REBIND UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY "
    b"SUBSCRIBE UNSUBSCRIBE PATCH PURGE MKCALENDAR LINK UNLINK SOURCE QUERY PRI".split()
)


def _method_error(data: bytes) -> _WireError:
    """llhttp refused a method in ``data``: 405 for an unknown token, 400 for other bytes."""
    # Skip the requests of this chunk that llhttp accepted to find the refused one.
    pos = 0
    while True:
        method = data[pos:].lstrip(b"\r\n").split(b" ", 1)[0][:64]
        end = data.find(b"\r\n\r\n", pos)
        if method not in _LLHTTP_METHODS or end < 0:
            break
        pos = end + 4
    if is_token(method):
        return _WireError(405, "Method not allowed", (("Allow", _ALLOWED_METHODS),))
    return _WireError(400, "Bad Request: invalid method")


_ALLOWED_METHODS = "GET, HEAD, POST, DELETE, PATCH, PUT, OPTIONS"


@implementer(IPushProducer)
class HTTPConnection(Protocol):
    """One client connection: parses requests and writes their responses in order."""

    def __init__(self, server: ConnectionOwner) -> None:
        self.server = server
        self.limits: HTTPLimits = server.limits
        self.parser = httptools.HttpRequestParser(self)
        self._queue: deque[HTTPRequest | _WireError] = deque()
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
        self._last_request_final = False
        self._phase = _IDLE
        self._stalled_from: tuple[int, float | None] | None = None
        self.deadline: float | None = None
        self.remote_ip = "127.0.0.1"
        self.protocol = "http"
        self._close_callback: Callable[[], None] | None = None
        # The response being written (one at a time per connection).
        self._chunked = False
        self._switching = False
        self._keep_response = True
        self._expected: int | None = None
        self._sent = 0
        self._version = "1.1"
        self._reset_message()

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
        # The parser holds our bound callbacks: dropping it breaks the cycle, so a
        # closed connection is freed at once instead of waiting for the cyclic GC
        # (whose pauses would otherwise grow with the connection rate).
        self.parser = None  # type: ignore[assignment]
        self.__dict__.pop("_write", None)  # the direct writer holds the transport
        self._queue.clear()
        callback, self._close_callback = self._close_callback, None
        self._active = None
        if self._body_buffer is not None:
            self._body_buffer.close()
            self._body_buffer = None
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
        if half_close is not None and not ISSLTransport.providedBy(transport):
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
        if self._phase != _BODY:
            # Counted from the end of the previous message, so the first bytes of
            # a head (those fed before llhttp says a message began) count too.
            self._raw_header_bytes += len(data)
        self._feeding = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as e:
            # llhttp stops at the end of a request that asks for another protocol.
            offset = e.args[0] if e.args else len(data)
            self._upgraded = True
            self.upgrade_buffer = data[offset:]
            self._process_queue()
            return
        except httptools.HttpParserCallbackError as e:
            cause = e.__context__
            if isinstance(cause, _Reject):
                self._reject(cause.error)
            else:
                log.failure("error in HTTP parser callback", Failure(cause or e))
                self._reject(_WireError(500, "Internal Server Error"))
            return
        except httptools.HttpParserInvalidMethodError:
            self._reject(_method_error(data))
            return
        except httptools.HttpParserError as e:
            if self._last_request_final:
                # Bytes after a request that ends the connection are never read as
                # another request, and not answered either.
                self._broken = True
                self._pause_reading()
                return
            self._reject(_WireError(400, f"Bad Request: {e}"))
            return
        finally:
            self._feeding = False
        if self._phase == _HEADERS and self._raw_header_bytes > self.limits.max_header_size:
            self._reject(_WireError(431, "Request header fields too large"))

    def _reject(self, error: _WireError) -> None:
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

    # -- llhttp callbacks ---------------------------------------------------------------

    def _reset_message(self) -> None:
        self._url = b""
        self._headers = HTTPHeaders()
        self._header_count = 0
        self._header_bytes = 0
        self._raw_header_bytes = 0
        self._body_buffer: SpooledBuffer | None = None
        self._multipart: MultipartStream | None = None
        self._body_size = 0
        self._headers_done = False
        self._hosts = 0
        self._expect_continue = False

    def on_message_begin(self) -> None:
        self._set_deadline(_HEADERS, self.limits.header_timeout)

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._header_bytes += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value) + 4
        if self._header_count > self.limits.max_headers:
            raise _Reject(431, f"more than {self.limits.max_headers} header fields")
        if self._headers_done:
            return  # trailer fields are accepted and ignored
        sname = name.decode("latin-1")
        if len(sname) == 4 and sname.lower() == "host":
            self._hosts += 1
        self._headers.add(sname, value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        self._raw_header_bytes = 0
        limits = self.limits
        if self._header_bytes > limits.max_header_size:
            raise _Reject(431, "Request header fields too large")
        parser = self.parser
        version = parser.get_http_version()
        if version != "1.1" and version != "1.0":
            raise _Reject(505, f"HTTP version {version} is not supported")
        self._version = version
        # The names below are already in Http-Header-Case: read the dict directly.
        headers = self._headers._dict
        if self._hosts > 1:
            raise _Reject(400, "Bad Request: more than one Host header")
        if self._hosts == 0 and version == "1.1":
            raise _Reject(400, "Bad Request: missing Host header")
        if self._hosts and not is_valid_host(headers["Host"]):
            raise _Reject(400, "Bad Request: invalid Host header")
        te = headers.get("Transfer-Encoding")
        length = None
        if te is not None:
            if version == "1.0":
                raise _Reject(400, "Bad Request: Transfer-Encoding in an HTTP/1.0 request")
            if te.strip().lower() != "chunked":
                raise _Reject(400, f"Bad Request: unsupported Transfer-Encoding {te[:100]!a}")
        else:
            length = headers.get("Content-Length")
            if length is not None and int(length) > limits.max_body_size:
                raise _Reject(413, f"Request body larger than {limits.max_body_size} bytes")
        if (te is not None or (length is not None and length != "0")) and parser.should_upgrade():
            # llhttp hands the bytes after the head of an upgrade request to the new
            # protocol; a body there would be read as something else by each side.
            raise _Reject(400, "Bad Request: a request asking for an upgrade cannot have a body")
        expect = headers.get("Expect")
        if expect is not None:
            if expect.strip().lower() != "100-continue":
                raise _Reject(417, f"Expectation {expect[:100]!a} not supported")
            if version == "1.1":  # HTTP/1.0 clients cannot expect it (RFC 9110 10.1.1)
                self._expect_continue = True
                self._maybe_send_continue()
        if te is not None or (length is not None and length != "0"):
            self._set_deadline(_BODY, limits.body_timeout)
            ctype = headers.get("Content-Type")
            if (
                ctype is not None
                and ctype[:19].lower() == "multipart/form-data"
                and "Content-Encoding" not in headers
                and parser.get_method() not in (b"GET", b"HEAD")
            ):
                self._multipart = _multipart_stream(ctype, limits)

    def on_body(self, chunk: bytes) -> None:
        self._body_size += len(chunk)
        if self._body_size > self.limits.max_body_size:
            raise _Reject(413, f"Request body larger than {self.limits.max_body_size} bytes")
        if self._multipart is not None:
            self._multipart.feed(chunk)
            return
        if self._body_buffer is None:
            self._body_buffer = SpooledBuffer(self.limits.body_spill_threshold)
        self._body_buffer.write(chunk)

    def on_message_complete(self) -> None:
        parser = self.parser
        headers = self._headers
        remote_ip = self.remote_ip
        protocol = self.protocol
        if self.server.xheaders:
            remote_ip, protocol = apply_xheaders(headers, remote_ip, protocol)
        try:
            uri = self._url.decode("ascii")
        except UnicodeDecodeError:
            raise _Reject(400, "Bad Request: non-ASCII request target") from None
        host = None
        method = parser.get_method()
        if uri[:1] != "/" and uri != "*":
            if method == b"CONNECT":
                raise _Reject(405, "Method not allowed", (("Allow", _ALLOWED_METHODS),))
            try:
                uri, host = split_absolute_form(uri)
            except HTTPInputError as e:
                raise _Reject(400, f"Bad Request: {e}") from None
        body: bytes | SpooledBuffer | MultipartStream | None = self._body_buffer
        if self._multipart is not None:
            body = self._multipart
            body.finish()
        if host is None:
            host = headers._dict.get("Host")
        request = HTTPRequest(
            method.decode("ascii"),
            uri,
            "HTTP/1.1" if self._version == "1.1" else "HTTP/1.0",
            headers,
            body,
            remote_ip,
            protocol,
            host,
            None,
            self,
        )
        keep_alive = parser.should_keep_alive()
        request.keep_alive = keep_alive
        if not keep_alive:
            self._last_request_final = True
        upgrade = parser.should_upgrade()
        self._reset_message()
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
                if isinstance(item, _WireError):
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
        if self._expect_continue and self._active is None and not self._queue:
            self._expect_continue = False
            self._write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _write_error(self, error: _WireError) -> None:
        body = f"{error.status} {error.message}\n".encode("utf-8", "replace")
        headers = {
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Length": str(len(body)),
            "Connection": "close",
        }
        reason = responses.get(error.status, "Error")
        self._write(_head(error.status, reason, headers, list(error.extra_headers)) + body)
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
        if (
            finished
            and 200 <= code < 300
            and code != 204
            and request.method != "HEAD"
            and request.keep_alive
            and request.version == "HTTP/1.1"
            and "Connection" not in headers
            and "Content-Length" not in headers
            and "Transfer-Encoding" not in headers
            and not self._closing
            and not self._upgraded
        ):
            # The common case, a complete keep-alive response: no framing decisions.
            headers["Content-Length"] = str(len(body))
            self._chunked = self._switching = False
            self._keep_response = True
            self._expected = self._sent = len(body)
            self._write(b"%s%s" % (_head(code, reason, headers, extra_headers), body))
            self._response_done(request)
            return
        http11 = request.version == "HTTP/1.1"
        keep_alive = request.keep_alive
        if (self._closing and not self._queue) or self._upgraded:
            keep_alive = False
        connection_header = headers.get("Connection")
        if connection_header is not None and connection_header.lower() == "close":
            keep_alive = False
        body_allowed = code >= 200 and code != 204 and code != 304
        chunked = False
        if finished and body_allowed and "Content-Length" not in headers:
            # also for HEAD: the length the body of a GET would have
            headers.pop("Transfer-Encoding", None)
            headers["Content-Length"] = str(len(body))
        if request.method == "HEAD" or not body_allowed:
            body = b""
            if code < 200 or code == 204:
                headers.pop("Content-Length", None)
                headers.pop("Transfer-Encoding", None)
        if (
            not finished
            and body_allowed
            and request.method != "HEAD"
            and "Content-Length" not in headers
        ):
            if http11:
                chunked = True
                headers["Transfer-Encoding"] = "chunked"
            else:
                keep_alive = False
        # A 101 to an upgrade request keeps the handler's "Connection: Upgrade":
        # the connection is about to be handed over (see detach), not closed.
        switching = code == 101 and self._upgraded
        if switching:
            pass
        elif keep_alive:
            if not http11:
                headers["Connection"] = "keep-alive"
        else:
            headers["Connection"] = "close"
        self._switching = switching
        self._chunked = chunked
        self._keep_response = keep_alive
        length = headers.get("Content-Length")
        self._expected = (
            int(length)
            if length is not None and body_allowed and request.method != "HEAD"
            else None
        )
        self._sent = 0
        head = _head(code, reason, headers, extra_headers)
        if chunked and body:
            payload = b"%s%x\r\n%s\r\n" % (head, len(body), body)
        elif body and len(body) < 65536:
            payload = head + body
        else:
            self._write(head)
            payload = body
        self._count_sent(len(body))
        if payload:
            self._write(payload)
        if finished:
            self._response_done(request)

    def send_body(self, request: HTTPRequest, chunk: bytes, finished: bool) -> None:
        """Write more of the response body; ``finished`` ends the response."""
        if request is not self._active:
            raise HTTPOutputError("response for a request that is not being answered")
        if request.method == "HEAD":
            chunk = b""
        if chunk:
            self._count_sent(len(chunk))
            if self._chunked:
                self._write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            else:
                self._write(chunk)
        if finished:
            if self._chunked:
                self._write(b"0\r\n\r\n")
            self._response_done(request)

    def _count_sent(self, n: int) -> None:
        self._sent += n
        if self._expected is not None and self._sent > self._expected:
            self._abort_active()
            raise HTTPOutputError(
                f"tried to write more data than Content-Length ({self._expected} bytes)"
            )

    def _response_done(self, request: HTTPRequest) -> None:
        expected = self._expected
        request._finish_time = _seconds()
        self._close_callback = None
        self._active = None
        if expected is not None and self._sent != expected:
            log.warn(
                "response for {uri} ended after {sent} of {expected} bytes; closing",
                uri=request.uri,
                sent=self._sent,
                expected=expected,
            )
            self.close()
            return
        if self._switching:
            # Waiting for detach(); a handler that never calls it is closed as idle.
            self._set_deadline(_IDLE, self.limits.idle_connection_timeout)
            return
        if not self._keep_response or self._upgraded:
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
        self.parser = None  # type: ignore[assignment]
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
            self._reject(_WireError(408, "Request Timeout"))


def _multipart_stream(content_type: str, limits: HTTPLimits) -> MultipartStream | None:
    """A streaming parser for this multipart body, or None to parse it later."""
    _, params = parse_header(content_type)
    boundary = params.get("boundary")
    if not boundary:
        return None  # the error is reported when the form is read
    try:
        return MultipartStream(boundary.encode("latin-1"), limits)
    except (MultipartError, UnicodeEncodeError):
        return None


class _Reject(Exception):
    """Raised inside llhttp callbacks to refuse the request being parsed."""

    def __init__(
        self, status: int, message: str, extra_headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.error = _WireError(status, message, extra_headers)
