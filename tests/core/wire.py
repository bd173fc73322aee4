"""Raw-socket helpers for the wire tests: send exact bytes, read exact responses.

Strategy: a tiny blocking client that keeps what it has read in a buffer and
parses HTTP/1.1 responses out of it by the RFC 9112 framing rules (1xx and
HEAD/204/304 without a body, then chunked, Content-Length or close-delimited).
Every read has a deadline, so a server that hangs fails the test instead of
hanging it.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

DEFAULT_TIMEOUT = 5.0


@dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunked: bool = False
    trailers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """The value of ``name`` (joined with ", " when repeated), or None."""
        values = self.header_list(name)
        return ", ".join(values) if values else None

    def header_list(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]


class Incomplete(Exception):
    """The buffer does not hold a whole response yet."""


def parse_response(buf: bytes, head: bool = False, eof: bool = False) -> tuple[Response, int]:
    """Parse one response at the start of ``buf``; returns it and the bytes it used.

    Raises :class:`Incomplete` when more bytes are needed; ``eof`` says that no
    more will come (which ends a close-delimited body).
    """
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        raise Incomplete
    lines = buf[:end].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    response = Response(version, int(code), reason)
    for line in lines[1:]:
        name, _, value = line.partition(":")
        response.headers.append((name, value.strip()))
    pos = end + 4
    status = response.status
    if status < 200 or status in (204, 304) or head:
        return response, pos
    te = response.header("Transfer-Encoding")
    if te is not None and te.lower() == "chunked":
        response.chunked = True
        body = []
        while True:
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                raise Incomplete
            size = int(buf[pos:line_end].split(b";")[0], 16)
            pos = line_end + 2
            if size == 0:
                break
            if len(buf) < pos + size + 2:
                raise Incomplete
            body.append(buf[pos : pos + size])
            assert buf[pos + size : pos + size + 2] == b"\r\n", "chunk not followed by CRLF"
            pos += size + 2
        while True:  # trailer section
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                raise Incomplete
            line = buf[pos:line_end].decode("latin-1")
            pos = line_end + 2
            if not line:
                break
            name, _, value = line.partition(":")
            response.trailers.append((name, value.strip()))
        response.body = b"".join(body)
        return response, pos
    length = response.header("Content-Length")
    if length is not None:
        n = int(length)
        if len(buf) < pos + n:
            raise Incomplete
        response.body = buf[pos : pos + n]
        return response, pos + n
    if not eof:
        raise Incomplete
    response.body = buf[pos:]
    return response, len(buf)


class Client:
    """One blocking connection to the server under test."""

    def __init__(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        timeout: float = DEFAULT_TIMEOUT,
        sock: socket.socket | None = None,
    ) -> None:
        if sock is None:
            sock = socket.create_connection((host, port), timeout=timeout)
        self.sock = sock
        self.timeout = timeout
        self.buf = b""
        self.eof = False

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def shutdown_write(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def _recv(self, deadline: float) -> bool:
        """Read once; False when the peer has closed. Raises TimeoutError at the deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no complete response in time; have {self.buf[:300]!r}")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            raise TimeoutError(f"no complete response in time; have {self.buf[:300]!r}") from None
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def response(self, head: bool = False, timeout: float | None = None) -> Response:
        """Read and return the next response (a 1xx interim response counts as one)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                response, used = parse_response(self.buf, head, self.eof)
            except Incomplete:
                if self.eof:
                    raise ConnectionError(f"closed before a complete response: {self.buf!r}")
                self._recv(deadline)
                continue
            self.buf = self.buf[used:]
            return response

    def responses(self, n: int, head: bool = False) -> list[Response]:
        return [self.response(head) for _ in range(n)]

    def read_all(self, timeout: float | None = None) -> bytes:
        """Everything until the server closes; TimeoutError if it does not."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.eof:
            self._recv(deadline)
        data, self.buf = self.buf, b""
        return data

    def is_closed(self, timeout: float = 1.0) -> bool:
        """True if the server closes within ``timeout`` with nothing more to say."""
        deadline = time.monotonic() + timeout
        try:
            while self._recv(deadline):
                pass
        except TimeoutError:
            return False
        return True


def exchange(
    port: int,
    data: bytes,
    head: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    quiet: float | None = None,
    at_least: int = 0,
) -> tuple[list[Response], bool]:
    """Send ``data``; read the responses until the server closes the connection.

    Returns the responses and whether the server closed. A server that does not
    close fails with TimeoutError at ``timeout``, unless ``quiet`` is given (for
    input where staying open is a right answer too): then the exchange also ends
    once ``at_least`` responses have come and nothing more for ``quiet`` seconds.
    """
    with Client(port, timeout=timeout) as client:
        client.send(data)
        responses: list[Response] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                response, used = parse_response(client.buf, head, client.eof)
            except Incomplete:
                if client.eof:
                    assert not client.buf, f"trailing bytes after responses: {client.buf!r}"
                    return responses, True
                may_stop = quiet is not None and len(responses) >= at_least and not client.buf
                try:
                    client._recv(min(deadline, time.monotonic() + quiet) if may_stop else deadline)
                except TimeoutError:
                    if not may_stop or time.monotonic() >= deadline:
                        raise
                    return responses, False
                continue
            client.buf = client.buf[used:]
            responses.append(response)


# -- oracles: what two independent parsers make of the same bytes -----------------


def h11_verdict(data: bytes) -> list[tuple[str, bytes]] | None:
    """The requests h11 reads from ``data`` as ``(target, body)``, or None if it rejects."""
    import h11

    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    conn.receive_data(b"")
    requests: list[tuple[str, bytes]] = []
    target, body = "", b""
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Request):
                target, body = event.target.decode("latin-1"), b""
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                requests.append((target, body))
                # answer so that h11 moves on to the next pipelined request
                conn.send(h11.Response(status_code=200, headers=[("Content-Length", "0")]))
                conn.send(h11.EndOfMessage())
                if conn.our_state is h11.MUST_CLOSE:
                    return requests
                conn.start_next_cycle()
            elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                return requests
            else:
                return requests
    except h11.RemoteProtocolError:
        return None


def llhttp_verdict(data: bytes) -> list[tuple[str, bytes]] | None:
    """The requests llhttp (strict) reads from ``data``, or None if it rejects."""
    import httptools

    class Sink:
        def __init__(self) -> None:
            self.requests: list[tuple[str, bytes]] = []
            self.url = b""
            self.body = b""

        def on_message_begin(self) -> None:
            self.url, self.body = b"", b""

        def on_url(self, url: bytes) -> None:
            self.url += url

        def on_body(self, body: bytes) -> None:
            self.body += body

        def on_message_complete(self) -> None:
            self.requests.append((self.url.decode("latin-1"), self.body))

    sink = Sink()
    parser = httptools.HttpRequestParser(sink)
    try:
        parser.feed_data(data)
    except httptools.HttpParserUpgrade:
        pass
    except httptools.HttpParserError:
        return None
    return sink.requests
