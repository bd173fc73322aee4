"""SIGTERM under ``cyclone run``: open WebSockets get a 1001 close frame, not a dropped socket."""

import signal
import subprocess
import sys
from pathlib import Path

from servers import free_port, server_process
from waiting import wait_until
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[2]


def connect_when_up(url: str, timeout: float):
    """Connect once the server listens (connection errors mean "not yet")."""
    return wait_until(lambda: connect(url, open_timeout=2), timeout, retry_on=(OSError,))


def test_open_websockets_are_closed_with_1001_at_shutdown():
    port = free_port()
    with server_process(
        [
            sys.executable,
            "-m",
            "cyclone",
            "run",
            "-q",
            "-p",
            str(port),
            "-r",
            "tests.ext_realtime.shutdown_app.Application",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as proc:
        with connect_when_up(f"ws://127.0.0.1:{port}/ws", 20) as ws:
            ws.send("hello")
            assert ws.recv(timeout=5) == "hello"
            proc.send_signal(signal.SIGTERM)
            try:
                ws.recv(timeout=10)
                raise AssertionError("the server sent a message instead of closing")
            except ConnectionClosed as closed:
                assert closed.rcvd is not None, "no close frame: the socket was dropped"
                assert closed.rcvd.code == 1001
                assert closed.rcvd.reason == "server shutting down"
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0, out
