"""Blocking client helpers shared by the web-layer tests.

Every helper talks to a real server on 127.0.0.1 from the test thread; the
server runs in the reactor thread (see ``cyclone.testing``).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from twisted.logger import globalLogPublisher

# The web-layer tests import the shared polling helpers from here too.
from waiting import wait_for_equal as wait_for_equal
from waiting import wait_until as wait_until

TIMEOUT = 5.0


@dataclass
class Response:
    """What a client saw; unpacks as ``status, headers, body``."""

    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes
    raw_headers: list[tuple[str, str]] = field(default_factory=list)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.status, self.headers, self.body))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(
    port: int,
    path: str = "/",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> Response:
    """One request with ``http.client``; pass ``conn`` to reuse a keep-alive connection."""
    own = conn is None
    if conn is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.reason, resp.headers, data, resp.getheaders())
    finally:
        if own:
            conn.close()


def raw_request(port: int, data: bytes, timeout: float = TIMEOUT) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_until_closed(sock, timeout)


def read_until_closed(sock: socket.socket, timeout: float = TIMEOUT) -> bytes:
    """Read from ``sock`` until EOF; fails the test if the server never closes."""
    deadline = time.monotonic() + timeout
    chunks = []
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def read_until(sock: socket.socket, marker: bytes, timeout: float = TIMEOUT) -> bytes:
    """Read from ``sock`` until ``marker`` has arrived; returns everything read."""
    deadline = time.monotonic() + timeout
    data = b""
    while marker not in data:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before {marker!r}; got {data!r}")
        data += chunk
    return data


def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Run curl (silent, failing on transport errors) and return the finished process."""
    return subprocess.run(
        ["curl", "-sS", "--max-time", str(TIMEOUT), *args],
        capture_output=True,
        timeout=TIMEOUT + 5,
        check=True,
    )


@contextlib.contextmanager
def captured_events(namespace: str | None = None) -> Iterator[list[dict[str, Any]]]:
    """Collect twisted.logger events (of ``namespace`` only, when given)."""
    events: list[dict[str, Any]] = []

    def observer(event: dict[str, Any]) -> None:
        if namespace is None or event.get("log_namespace") == namespace:
            events.append(event)

    globalLogPublisher.addObserver(observer)
    try:
        yield events
    finally:
        globalLogPublisher.removeObserver(observer)
