"""A blocking Server-Sent Events reader over a raw socket, for tests.

It sends one GET, reads the response head, then undoes the chunked framing and
splits the stream into blocks (the lines up to a blank line), so tests can check
both the exact bytes on the wire and the events a browser would build from them.
"""

from __future__ import annotations

import socket
import time
from typing import Any

TIMEOUT = 5.0


class SSEStream:
    """``SSEStream(port, "/events", headers={...})``; then ``next_event()`` or ``next_block()``."""

    def __init__(
        self,
        port: int,
        path: str,
        headers: dict[str, str] | None = None,
        timeout: float = TIMEOUT,
        http10: bool = False,
    ) -> None:
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        lines = [f"GET {path} HTTP/{'1.0' if http10 else '1.1'}", f"Host: 127.0.0.1:{port}"]
        lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self._raw = b""
        self._body = b""
        self.ended = False
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.chunked = self.headers.get("transfer-encoding") == "chunked"

    def _recv(self, deadline: float) -> bytes:
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            raise TimeoutError("no data from the SSE stream in time") from None
        if not data:
            self.ended = True
        return data

    def _read_until(self, marker: bytes) -> bytes:
        deadline = time.monotonic() + self.timeout
        while marker not in self._raw:
            data = self._recv(deadline)
            if not data:
                raise EOFError("connection closed before the response head")
            self._raw += data
        head, _, self._raw = self._raw.partition(marker)
        return head

    def _decode_body(self) -> None:
        if not self.chunked:
            self._body += self._raw
            self._raw = b""
            return
        while True:
            size_line, sep, rest = self._raw.partition(b"\r\n")
            if not sep:
                return
            size = int(size_line, 16)
            if size == 0:
                self.ended = True
                self._raw = b""
                return
            if len(rest) < size + 2:
                return
            self._body += rest[:size]
            self._raw = rest[size + 2 :]

    def next_block(self, timeout: float | None = None) -> list[str]:
        """The next lines up to a blank line (comments included), without line ends."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            self._decode_body()
            for end in (b"\n\n", b"\r\n\r\n", b"\r\r"):
                pos = self._body.find(end)
                if pos >= 0:
                    block, self._body = self._body[:pos], self._body[pos + len(end) :]
                    return block.decode("utf-8").splitlines()
            if self.ended:
                raise EOFError("the SSE stream ended")
            data = self._recv(deadline)
            if not data:
                raise EOFError("the server closed the SSE stream")
            self._raw += data

    def next_event(self, timeout: float | None = None) -> dict[str, Any]:
        """The next event as a browser sees it: ``{"event", "data", "id", "retry"}``."""
        while True:
            event: dict[str, Any] = {}
            data: list[str] = []
            for line in self.next_block(timeout):
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    data.append(value)
                else:
                    event[name] = value
            if data or event:
                event["data"] = "\n".join(data) if data else None
                return event

    def wait_closed(self, timeout: float | None = None) -> None:
        """Read until the server ends the stream (chunked terminator or EOF)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        self._decode_body()
        while not self.ended:
            data = self._recv(deadline)
            self._raw += data
            self._decode_body()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> SSEStream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
