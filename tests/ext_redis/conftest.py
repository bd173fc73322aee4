"""Fixtures for the Redis extension: the shared server, private servers, services.

The shared Redis (127.0.0.1:6379) is used through database 13 with keys under
a unique prefix, deleted after each test. Restarts, stalls, TLS, sharding and
Sentinel use private ``redis-server`` processes on free loopback ports,
stopped by PID. When a server cannot be reached, or ``redis-server`` is not
installed, tests FAIL under ``CI=true`` and are skipped otherwise.
"""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis_servers import SHARED_DB, Server, cli, storage, unavailable

from cyclone.testing import call


@pytest.fixture(scope="session")
def redis_server_binary() -> str:
    path = shutil.which("redis-server")
    if path is None:
        unavailable("redis-server is not installed (Debian: apt-get install redis-server)")
    return path


@pytest.fixture
def servers(redis_server_binary: str, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """``servers(*args, port=None, raw=False) -> Server``: started; killed by PID after the test."""
    made: list[Server] = []

    def _start(*args: str, port: int | None = None, raw: bool = False) -> Server:
        directory = tmp_path / f"redis{len(made)}"
        directory.mkdir()
        server = Server(directory, *args, port=port, raw=raw)
        made.append(server)
        return server.start()

    yield _start
    for server in made:
        server.stop()


@pytest.fixture
def shared() -> str:
    """The shared server's URL (database 13); fail or skip when it is down."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as exc:
        unavailable(f"Redis is not reachable on 127.0.0.1:6379: {exc}")
    return f"redis://127.0.0.1:6379/{SHARED_DB}"


@pytest.fixture
def prefix(shared: str) -> Iterator[str]:
    """A unique key prefix on the shared server; its keys are deleted after the test."""
    value = f"cx-test:{uuid.uuid4().hex[:10]}:"
    yield value
    keys = cli(6379, "-n", str(SHARED_DB), "--scan", "--pattern", value + "*").split()
    if keys:
        cli(6379, "-n", str(SHARED_DB), "DEL", *keys)


@pytest.fixture
def open_pool() -> Iterator[Callable[..., Any]]:
    """``open_pool(url, scheme=None, **options)``: made by its entry point and started."""
    opened: list[Any] = []

    def _open(url: str, scheme: str | None = None, **options: Any) -> Any:
        pool = call(storage(scheme or url.partition("://")[0]), url, **options)
        call(pool.start)
        opened.append(pool)
        return pool

    yield _open
    for pool in reversed(opened):
        call(pool.stop)
