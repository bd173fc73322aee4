"""Servers the tests start in another process: a free port, is it listening, stopping it."""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Iterator
from typing import Any


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


@contextlib.contextmanager
def server_process(command: list[str], **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """``subprocess.Popen(command, **popen)``, killed on the way out if it still runs.

    The test stops it the way it means to (a signal, then ``communicate``); this
    only makes sure a failed test leaves no server behind. Its pipes are closed.
    """
    with subprocess.Popen(command, **popen) as proc:
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
