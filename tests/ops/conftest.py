"""Fixtures of the operations tests: server processes that are always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ops_support import Server


@pytest.fixture
def server() -> Iterator[Callable[..., Server]]:
    """``server(command, cwd)`` starts a :class:`Server`; each is killed by PID at the end."""
    started: list[Server] = []

    def start(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Server:
        proc = Server(command, cwd, env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()
