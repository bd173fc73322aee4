"""Fixtures of the demo smoke tests: demo servers run as real processes, stopped by PID."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from demo_support import DemoProcess


@pytest.fixture
def demo_process(tmp_path: Path) -> Iterator[Callable[..., DemoProcess]]:
    """``demo_process(command, port, cwd=tmp_path)``: started, listening; killed by PID after."""
    started: list[DemoProcess] = []

    def start(command: list[str], port: int, cwd: Path | None = None) -> DemoProcess:
        proc = DemoProcess(command, cwd or tmp_path, tmp_path / f"demo-{len(started)}.log")
        started.append(proc)
        proc.wait_for_port(port)
        return proc

    yield start
    for proc in started:
        if proc.proc.poll() is None:
            proc.proc.kill()
            proc.proc.wait(10)
