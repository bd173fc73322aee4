"""Shared fixtures: one reactor thread for the session, servers on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cyclone.testing import ReactorThread, call, listen_tcp


@pytest.fixture(scope="session", autouse=True)
def reactor_thread() -> Iterator[None]:
    ReactorThread.start()
    yield
    ReactorThread.stop()


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(app) -> port``: listen on 127.0.0.1, stop listening after the test."""
    ports: list[Any] = []

    def _serve(factory: Any) -> int:
        port = listen_tcp(factory)
        ports.append(port)
        return port.getHost().port

    yield _serve
    for port in ports:
        call(port.stopListening)
