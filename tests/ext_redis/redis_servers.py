"""Helpers for the Redis extension's tests: private redis-server processes, redis-cli, run().

A module of its own (not conftest) so that test modules import it by a name no
other test directory uses.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
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


def run(func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func(*args)`` (a coroutine function, or one returning a Deferred) in the reactor."""
    return call(func, *args)
