"""HTTP/1.1 response framing, without I/O: decisions in, bytes out.

Strategy: :func:`frame_response` takes what is known when a response starts
(the request's method, version and keep-alive state, the status, the header
dict, whether the body is complete) and decides how the message is delimited
(Content-Length, chunked, or by closing the connection) and whether the
connection persists, adding the ``Content-Length``, ``Transfer-Encoding`` and
``Connection`` fields that say so. The :class:`ResponseFraming` it returns then
frames every body chunk (counting it against a declared length) and the end of
the message. Nothing here touches a socket or a reactor, so every decision is
tested with plain byte comparisons (``tests/core/test_h1_framing.py``);
:mod:`cyclone._http1` writes what these functions return.

Section numbers are RFC 9112 (HTTP/1.1) unless RFC 9110 (HTTP semantics) is named.
"""

from __future__ import annotations

__all__ = [
    "CONTINUE",
    "TERMINAL_CHUNK",
    "HTTPOutputError",
    "ResponseFraming",
    "body_allowed",
    "encode_chunk",
    "error_response",
    "frame_response",
    "response_head",
    "status_line",
]

# RFC 9110 §15.2.1: the interim response that invites the body of an
# "Expect: 100-continue" request; it has no fields and no body.
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

# RFC 9112 §7.1: last-chunk ("0" CRLF), no trailer fields, then the final CRLF.
TERMINAL_CHUNK = b"0\r\n\r\n"

# A body at least this long leaves in a write of its own, after the head, so it
# is not copied to be joined to it.
SPLIT_AT = 65536

_status_lines: dict[tuple[int, str], bytes] = {}


class HTTPOutputError(Exception):
    """A response that breaks HTTP framing (e.g. more bytes than Content-Length)."""


def status_line(code: int, reason: str) -> bytes:
    """``HTTP/1.1 <code> <reason>`` CRLF (RFC 9112 §4), cached for the usual pairs."""
    # RFC 9110 §2.5 / RFC 9112 §2.3: a server sends its highest conformant
    # version, HTTP/1.1, also in responses to HTTP/1.0 clients.
    key = (code, reason)
    line = _status_lines.get(key)
    if line is None:
        # a reason built from request data must not stop the response from leaving
        line = f"HTTP/1.1 {code} {reason}\r\n".encode("latin-1", "replace")
        if len(_status_lines) < 1024:
            _status_lines[key] = line
    return line


def response_head(
    code: int, reason: str, headers: dict[str, str], extra: list[tuple[str, str]] | None
) -> bytes:
    """Status line and header section, through the empty line (RFC 9112 §2.1)."""
    lines = [f"{k}: {v}\r\n" for k, v in headers.items()]
    if extra:
        lines.extend(f"{k}: {v}\r\n" for k, v in extra)
    lines.append("\r\n")
    text = "".join(lines)
    try:
        head = text.encode("latin-1")
    except UnicodeEncodeError:
        head = text.encode("utf-8")
    return status_line(code, reason) + head


def encode_chunk(data: bytes) -> bytes:
    """One chunk of the chunked coding: hex size CRLF data CRLF (RFC 9112 §7.1).

    ``data`` must not be empty: an empty chunk is the last-chunk, which ends the body.
    """
    return b"%x\r\n%s\r\n" % (len(data), data)


def body_allowed(code: int) -> bool:
    """Whether a response with status ``code`` may carry content at all.

    RFC 9112 §6.3 (rule 1): 1xx, 204 and 304 responses end at the empty line
    after the header section, whatever their fields say.
    """
    return code >= 200 and code != 204 and code != 304


def error_response(
    status: int, message: str, reason: str, extra_headers: tuple[tuple[str, str], ...] = ()
) -> bytes:
    """The whole response to a request refused by the wire; the connection closes after it.

    RFC 9112 §9.6: a server that closes after a response says so with
    ``Connection: close``; the body has a Content-Length (§6.3 rule 6) so the
    client does not wait for the close to find its end.
    """
    body = f"{status} {message}\n".encode("utf-8", "replace")
    headers = {
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Length": str(len(body)),
        "Connection": "close",
    }
    return response_head(status, reason, headers, list(extra_headers)) + body


class ResponseFraming:
    """How one response's body is delimited, and the count of its bytes so far.

    ``chunked``: every chunk is chunk-coded and :meth:`end` returns the
    last-chunk. ``expected``: the declared Content-Length (None when the body is
    chunked, close-delimited, or absent). ``sends_body``: False for HEAD and for
    statuses without content, whose body bytes are dropped. ``keep_alive``: the
    connection persists after this response. ``switching``: a 101 to an
    upgrade request (the connection is handed over, not closed). ``whole``: the
    head and the complete body leave in a single write.
    """

    __slots__ = ("chunked", "expected", "keep_alive", "sends_body", "sent", "switching", "whole")

    def __init__(
        self,
        chunked: bool,
        expected: int | None,
        keep_alive: bool,
        sends_body: bool,
        switching: bool = False,
        whole: bool = False,
    ) -> None:
        self.chunked = chunked
        self.expected = expected
        self.keep_alive = keep_alive
        self.sends_body = sends_body
        self.switching = switching
        self.whole = whole
        self.sent = 0

    def frame(self, chunk: bytes) -> bytes:
        """The bytes that carry ``chunk`` of the body; raises past Content-Length."""
        if not self.sends_body or not chunk:
            # RFC 9110 §9.3.2 (HEAD) and RFC 9112 §6.3 rule 1 (1xx/204/304): no content.
            return b""
        self.sent += len(chunk)
        expected = self.expected
        if expected is not None and self.sent > expected:
            # RFC 9112 §6.3 rule 6: the bytes past Content-Length would be read as
            # the start of the next response.
            raise HTTPOutputError(
                f"tried to write more data than Content-Length ({expected} bytes)"
            )
        if self.chunked:
            return encode_chunk(chunk)
        return chunk

    def end(self) -> bytes:
        """The bytes that end the body: the last-chunk when chunked (RFC 9112 §7.1)."""
        return TERMINAL_CHUNK if self.chunked else b""

    @property
    def short(self) -> bool:
        """The body ended before its declared Content-Length: the connection must close."""
        return self.expected is not None and self.sent != self.expected

    def whole_message(self, head: bytes, body: bytes) -> bytes:
        """Head and complete body in one piece, for a ``whole`` response (counted here)."""
        self.sent = len(body)
        return head + body

    def first_writes(self, head: bytes, framed: bytes) -> tuple[bytes, ...]:
        """The writes that send ``head`` and the first framed body bytes."""
        if self.whole or (self.chunked and framed) or (framed and len(framed) < SPLIT_AT):
            return (head + framed,)
        if framed:
            return (head, framed)
        return (head,)


def frame_response(
    method: str,
    version: str,
    keep_alive: bool,
    code: int,
    headers: dict[str, str],
    body_length: int,
    finished: bool,
    ending: bool = False,
    upgrading: bool = False,
) -> ResponseFraming:
    """Decide the framing of a response and add the header fields that declare it.

    ``method``, ``version`` (``"HTTP/1.1"`` or ``"HTTP/1.0"``) and
    ``keep_alive`` (whether the request's own framing lets the connection
    persist) describe the request; ``headers`` (names in ``Http-Header-Case``)
    are changed in place; ``body_length`` is the length of the first body
    bytes, the whole body when ``finished``. ``ending``: the server closes the
    connection after this response (shutting down, or the request asked for an
    upgrade); ``upgrading``: the request asked for a protocol upgrade.
    """
    if (
        finished
        and 200 <= code < 300
        and code != 204
        and method != "HEAD"
        and keep_alive
        and version == "HTTP/1.1"
        and not ending
        and "Connection" not in headers
        and "Content-Length" not in headers
        and "Transfer-Encoding" not in headers
    ):
        # The common case, a complete response on a persistent HTTP/1.1
        # connection (RFC 9112 §9.3: persistence is the default): the length is
        # known, so Content-Length delimits it (RFC 9112 §6.3 rule 6).
        headers["Content-Length"] = str(body_length)
        return ResponseFraming(False, body_length, True, True, False, True)
    http11 = version == "HTTP/1.1"
    if ending:
        keep_alive = False
    connection = headers.get("Connection")
    if connection is not None and connection.lower() == "close":
        # RFC 9112 §9.6: a "close" option sent by the handler ends the connection.
        keep_alive = False
    allowed = body_allowed(code)
    chunked = False
    if finished and allowed and "Content-Length" not in headers:
        # RFC 9112 §6.3 rule 6 with RFC 9110 §8.6: a complete body declares its
        # length. Also for HEAD (RFC 9110 §9.3.2): the length a GET's body would have.
        headers.pop("Transfer-Encoding", None)
        headers["Content-Length"] = str(body_length)
    if code < 200 or code == 204:
        # RFC 9112 §6.1 and §6.2: no Transfer-Encoding or Content-Length in a
        # 1xx or 204 response. A 304 and a HEAD response keep the fields a 200
        # to a GET would have (RFC 9110 §8.6, §15.4.5).
        headers.pop("Content-Length", None)
        headers.pop("Transfer-Encoding", None)
    sends_body = allowed and method != "HEAD"
    if not finished and sends_body and "Content-Length" not in headers:
        # The length is not known yet.
        if http11:
            # RFC 9112 §7.1 and §6.3 rule 4: the chunked coding delimits the body.
            chunked = True
            headers["Transfer-Encoding"] = "chunked"
        else:
            # RFC 9112 §6.1: no Transfer-Encoding to an HTTP/1.0 client, so the
            # close of the connection delimits the body (§6.3 rule 8).
            keep_alive = False
    # RFC 9110 §15.2.2 and §7.8: a 101 to an upgrade request keeps the handler's
    # "Connection: Upgrade": the connection is about to be handed over, not closed.
    switching = code == 101 and upgrading
    if switching:
        pass
    elif keep_alive:
        if not http11:
            # RFC 9112 §9.3 and Appendix C.2.2: an HTTP/1.0 connection persists only
            # when the response says "keep-alive".
            headers["Connection"] = "keep-alive"
    else:
        # RFC 9112 §9.6: the server closes after this response, and says so.
        headers["Connection"] = "close"
    length = headers.get("Content-Length")
    # RFC 9112 §6.3 rule 6: a declared length delimits the body; the count of
    # the bytes sent is held against it (see ResponseFraming.frame).
    expected = int(length) if length is not None and sends_body else None
    return ResponseFraming(chunked, expected, keep_alive, sends_body, switching)
