"""HTTP/1.1 request reading, without I/O: bytes in, requests (or a refusal) out.

Strategy: httptools (llhttp, strict mode) tokenizes; :class:`RequestReader`
adds what a server decides on top of a parser: which requests are acceptable
(version, Host, framing, transfer codings, expectations), the size limits of
:class:`~cyclone.httputil.HTTPLimits`, and the building of each complete
:class:`~cyclone._request.HTTPRequest`. It is fed bytes with :meth:`~RequestReader.feed`
and reports to a :class:`RequestSink` (the connection, or a test's recorder)
as a message begins, as its body begins, when a 100-continue is expected and
when a request is complete; ``feed`` returns the :class:`WireError` that
refuses a request, an :class:`Upgrade` or :data:`DISCARD`. Nothing here
touches a socket or a reactor (``tests/core/test_h1_reader.py`` feeds it bytes).

Section numbers are RFC 9112 (HTTP/1.1) unless RFC 9110 (HTTP semantics) is named.
"""

from __future__ import annotations

from typing import Protocol

import httptools
from twisted.logger import Logger
from twisted.python.failure import Failure

from cyclone._methods import ALLOW, PARSER_METHODS
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
    split_absolute_form,
)

__all__ = ["DISCARD", "RequestReader", "RequestSink", "Upgrade", "WireError"]

log = Logger(namespace="cyclone.httpserver")


class WireError:
    """A request the server refuses before any handler sees it (answered, then closed)."""

    __slots__ = ("extra_headers", "message", "status")

    def __init__(
        self, status: int, message: str, extra_headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.status = status
        self.message = message
        self.extra_headers = extra_headers

    def __repr__(self) -> str:
        return f"WireError({self.status}, {self.message!r})"


class Upgrade:
    """llhttp stopped after a request asking for another protocol (RFC 9110 §7.8).

    ``offset``: where, in the bytes of the last feed, the new protocol's bytes start.
    """

    __slots__ = ("offset",)

    def __init__(self, offset: int) -> None:
        self.offset = offset


class _Discard:
    __slots__ = ()

    def __repr__(self) -> str:
        return "DISCARD"


#: Bytes that follow a request which ends the connection: not read, not answered.
DISCARD = _Discard()


class RequestSink(Protocol):
    """What a :class:`RequestReader` reports to (the connection)."""

    remote_ip: str
    protocol: str

    def message_begun(self) -> None:
        """The first byte of a request head was read (the header timeout starts)."""
        ...

    def body_begun(self) -> None:
        """A head announcing a body was accepted (the body timeout starts)."""
        ...

    def continue_expected(self) -> None:
        """The request being read waits for a 100 (Continue) before sending its body."""
        ...

    def request_received(self, request: HTTPRequest, upgrade: bool) -> None:
        """``request`` is complete; ``upgrade``: its connection is to change protocol."""
        ...


class _Closed(Exception):
    """Raised inside llhttp callbacks when the reader was closed during the feed."""


class _Reject(Exception):
    """Raised inside llhttp callbacks to refuse the request being parsed."""

    def __init__(
        self, status: int, message: str, extra_headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.error = WireError(status, message, extra_headers)


def method_error(data: bytes) -> WireError:
    """llhttp refused a method in ``data``: 405 for an unknown token, 400 for other bytes."""
    # Skip the requests of this chunk that llhttp accepted to find the refused one.
    pos = 0
    while True:
        method = data[pos:].lstrip(b"\r\n").split(b" ", 1)[0][:64]
        end = data.find(b"\r\n\r\n", pos)
        if method not in PARSER_METHODS or end < 0:
            break
        pos = end + 4
    if is_token(method):
        # RFC 9110 §9.1 / §15.5.6: a method the server does not know, with the list it does.
        return WireError(405, "Method not allowed", (("Allow", ALLOW),))
    # RFC 9112 §3.1: a method is a token; anything else is not a request line.
    return WireError(400, "Bad Request: invalid method")


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


class RequestReader:
    """Reads the requests of one connection, in order, from the bytes fed to it.

    Methods named ``on_*`` are llhttp's callbacks, not API.
    """

    def __init__(self, sink: RequestSink, limits: HTTPLimits, xheaders: bool = False) -> None:
        self.limits = limits
        self.xheaders = xheaders
        self._sink: RequestSink | None = sink
        self._parser: httptools.HttpRequestParser | None = httptools.HttpRequestParser(self)
        #: The last complete request does not let the connection persist (RFC 9112 §9.3).
        self.last_request_final = False
        #: The request being read waits for a 100 (Continue); the sink clears it once sent.
        self.expect_continue = False
        self._in_head = False
        self._in_body = False
        self._version = "1.1"
        self._reset_message()

    def close(self) -> None:
        """Stop reading: free the parser (which holds this reader's callbacks) and any body."""
        self._parser = None
        self._sink = None
        if self._body_buffer is not None:
            self._body_buffer.close()
            self._body_buffer = None

    def feed(self, data: bytes) -> WireError | Upgrade | _Discard | None:
        """Parse ``data``; the requests it completes go to the sink as they complete.

        Returns None when every byte was read as HTTP. Otherwise reading stops:
        a :class:`WireError` is the answer to send before closing, an
        :class:`Upgrade` says where the next protocol's bytes start, and
        :data:`DISCARD` says the bytes follow a final request and are ignored.
        """
        parser = self._parser
        if parser is None:
            return DISCARD
        if not self._in_body:
            # Counted from the end of the previous message, so the first bytes of
            # a head (those fed before llhttp says a message began) count too.
            self._raw_header_bytes += len(data)
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade as e:
            # llhttp stops at the end of a request that asks for another protocol.
            return Upgrade(e.args[0] if e.args else len(data))
        except httptools.HttpParserCallbackError as e:
            cause = e.__context__
            if isinstance(cause, _Reject):
                return cause.error
            if isinstance(cause, _Closed):
                return DISCARD  # the connection went away while a request was answered
            log.failure("error in HTTP parser callback", Failure(cause or e))
            return WireError(500, "Internal Server Error")
        except httptools.HttpParserInvalidMethodError:
            return method_error(data)
        except httptools.HttpParserError as e:
            if self.last_request_final:
                # RFC 9112 §9.6: bytes after a request that ends the connection are
                # never read as another request, and not answered either.
                return DISCARD
            # RFC 9112 §2.2 (parsing robustness, strict): a message llhttp cannot
            # parse (bare CR or LF, obs-fold, bad chunk sizes, CL with TE...) is refused.
            return WireError(400, f"Bad Request: {e}")
        if self._in_head and self._raw_header_bytes > self.limits.max_header_size:
            # RFC 6585 §5: a head that grows past the limit is refused before it ends.
            return WireError(431, "Request header fields too large")
        return None

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
        self.expect_continue = False
        self._in_head = False
        self._in_body = False

    def on_message_begin(self) -> None:
        self._in_head = True
        if self._sink is not None:
            self._sink.message_begun()

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._header_bytes += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value) + 4
        if self._header_count > self.limits.max_headers:
            raise _Reject(431, f"more than {self.limits.max_headers} header fields")
        if self._headers_done:
            return  # RFC 9112 §7.1.2: trailer fields are accepted and ignored
        sname = name.decode("latin-1")
        if len(sname) == 4 and sname.lower() == "host":
            self._hosts += 1
        self._headers.add(sname, value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        self._in_head = False
        self._raw_header_bytes = 0
        limits = self.limits
        if self._header_bytes > limits.max_header_size:
            raise _Reject(431, "Request header fields too large")
        parser = self._parser
        if parser is None:
            raise _Closed
        version = parser.get_http_version()
        if version != "1.1" and version != "1.0":
            # RFC 9112 §2.3 / RFC 9110 §15.6.6: a major version we do not speak.
            raise _Reject(505, f"HTTP version {version} is not supported")
        self._version = version
        # The names below are already in Http-Header-Case: read the dict directly.
        headers = self._headers._dict
        # RFC 9112 §3.2: exactly one valid Host in an HTTP/1.1 request, else 400.
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
                # RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means its
                # framing is faulty; the connection cannot be trusted past it.
                raise _Reject(400, "Bad Request: Transfer-Encoding in an HTTP/1.0 request")
            if te.strip().lower() != "chunked":
                # RFC 9112 §6.3 rule 4 and §7: chunked is the only coding we
                # decode, and it must be the final one.
                raise _Reject(400, f"Bad Request: unsupported Transfer-Encoding {te[:100]!a}")
        else:
            # RFC 9112 §6.3 rule 5 (llhttp already refused an invalid Content-Length).
            length = headers.get("Content-Length")
            if length is not None and int(length) > limits.max_body_size:
                raise _Reject(413, f"Request body larger than {limits.max_body_size} bytes")
        has_body = te is not None or (length is not None and length != "0")
        if has_body and parser.should_upgrade():
            # llhttp hands the bytes after the head of an upgrade request to the new
            # protocol; a body there would be read as something else by each side.
            raise _Reject(400, "Bad Request: a request asking for an upgrade cannot have a body")
        expect = headers.get("Expect")
        if expect is not None:
            if expect.strip().lower() != "100-continue":
                # RFC 9110 §10.1.1: the only expectation defined; others get 417.
                raise _Reject(417, f"Expectation {expect[:100]!a} not supported")
            if version == "1.1":  # HTTP/1.0 clients cannot expect it (RFC 9110 10.1.1)
                self.expect_continue = True
                if self._sink is not None:
                    self._sink.continue_expected()
        if has_body:
            self._in_body = True
            if self._sink is not None:
                self._sink.body_begun()
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
            # RFC 9110 §15.5.14: also for a chunked body, counted as it arrives.
            raise _Reject(413, f"Request body larger than {self.limits.max_body_size} bytes")
        if self._multipart is not None:
            self._multipart.feed(chunk)
            return
        if self._body_buffer is None:
            self._body_buffer = SpooledBuffer(self.limits.body_spill_threshold)
        self._body_buffer.write(chunk)

    def on_message_complete(self) -> None:
        parser = self._parser
        sink = self._sink
        if parser is None or sink is None:
            raise _Closed
        headers = self._headers
        remote_ip = sink.remote_ip
        protocol = sink.protocol
        if self.xheaders:
            remote_ip, protocol = apply_xheaders(headers, remote_ip, protocol)
        try:
            uri = self._url.decode("ascii")
        except UnicodeDecodeError:
            # RFC 9112 §3.2 / RFC 3986: a request-target is ASCII.
            raise _Reject(400, "Bad Request: non-ASCII request target") from None
        host = None
        method = parser.get_method()
        if uri[:1] != "/" and uri != "*":  # not origin-form nor asterisk-form (§3.2.1, §3.2.4)
            if method == b"CONNECT":
                # RFC 9112 §3.2.3: authority-form is for CONNECT, which we do not serve.
                raise _Reject(405, "Method not allowed", (("Allow", ALLOW),))
            try:
                # RFC 9112 §3.2.2: absolute-form; its authority replaces Host (§3.2.2).
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
            sink,  # type: ignore[arg-type]
        )
        # RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
        keep_alive = parser.should_keep_alive()
        request.keep_alive = keep_alive
        if not keep_alive:
            self.last_request_final = True
        upgrade = parser.should_upgrade()
        self._reset_message()
        sink.request_received(request, upgrade)
