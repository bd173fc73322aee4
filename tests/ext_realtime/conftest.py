"""Fixtures for the realtime extension: raw WebSocket clients, a TLS certificate."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from wsraw import RawClient


@pytest.fixture
def raw_clients() -> Iterator[Any]:
    """``raw_clients(port, path, headers, early) -> RawClient``, all closed after the test."""
    made: list[RawClient] = []

    def connect(
        port: int, path: str = "/", headers: dict[str, str] | None = None, early: bytes = b""
    ) -> RawClient:
        client = RawClient(port, path, headers, early)
        made.append(client)
        return client

    yield connect
    for client in made:
        client.close()


