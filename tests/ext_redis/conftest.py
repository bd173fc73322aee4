"""Fixtures for the Redis extension: the shared server, private servers, services.

The shared Redis (127.0.0.1:6379) is used through database 13 with keys under
a unique prefix, deleted after each test. Restarts, stalls, TLS, sharding and
Sentinel use private ``redis-server`` processes on free loopback ports,
stopped by PID. When a server cannot be reached, or ``redis-server`` is not
installed, tests FAIL under ``CI=true`` and are skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from cyclone.testing import call

SHARED_DB = 13


def unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def storage(name: str) -> Callable[..., Any]:
    """The factory registered as ``name`` in the ``cyclone.storage`` entry-point group."""
    (entry,) = entry_points(group="cyclone.storage", name=name)
    return entry.load()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port: int, *args: str, tls: tuple[str, str] | None = None, timeout: float = 10) -> str:
    """``redis-cli -p port args...`` (its stdout), for setting up and inspecting servers."""
    command = ["redis-cli", "-h", "127.0.0.1", "-p", str(port)]
    if tls is not None:
        command += ["--tls", "--cacert", tls[1]]
    result = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=timeout, check=True
    )
    return result.stdout.strip()


class Server:
    """A private redis-server on a loopback port: start, stop by PID, pause, restart."""

    def __init__(
        self, directory: Path, *args: str, port: int | None = None, raw: bool = False
    ) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.args = args
        self.raw = raw  # args are the whole command line (a config file, --sentinel...)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Server:
        base = [
            "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.directory),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            ["redis-server", *([] if self.raw else base), *self.args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def cli(self, *args: str) -> str:
        return cli(self.port, *args)

    def stop(self) -> None:
        """Kill by PID and wait; the port is free afterwards."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)


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


def run(func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func(*args)`` (a coroutine function, or one returning a Deferred) in the reactor."""
    return call(func, *args)
