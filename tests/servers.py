"""Loopback ports for tests that start a server in another process."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now (the OS picks it; another process may take it later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts_connections(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens on ``host:port`` now (a predicate for ``wait_until``)."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True
