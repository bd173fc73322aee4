"""Graceful shutdown of a real ``cyclone run`` process, seen from its clients.

On SIGTERM the server stops accepting at once (a new connection is refused, so
a load balancer retries elsewhere), closes idle keep-alive connections, and
lets the request in flight finish before the process exits.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap

import pytest
from servers import accepts_connections, free_port, server_process
from waiting import wait_until
from wire import Client

H = "Host: example.com\r\n"

APP = textwrap.dedent(
    """
    from twisted.internet import reactor, task
    import cyclone.web


    class Slow(cyclone.web.RequestHandler):
        async def get(self):
            open("slow-started", "w").close()  # the test waits for this file
            await task.deferLater(reactor, 1.5, lambda: None)
            self.write("slow done")


    class Fast(cyclone.web.RequestHandler):
        def get(self):
            self.write("fast")


    Application = cyclone.web.Application([(r"/slow", Slow), (r"/fast", Fast)])
    """
)


@pytest.fixture
def server(tmp_path):
    (tmp_path / "shutdown_app.py").write_text(APP)
    port = free_port()
    with server_process(
        [sys.executable, "-m", "cyclone", "run", "-r", "shutdown_app.Application", "-p", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as proc:
        wait_until(lambda: accepts_connections(port) or proc.poll() is not None, timeout=15)
        assert proc.poll() is None, proc.stdout.read().decode()
        yield proc, port, tmp_path


def test_sigterm_refuses_new_connections_at_once_and_finishes_inflight(server):
    proc, port, cwd = server
    with Client(port) as idle, Client(port) as busy:
        idle.send(f"GET /fast HTTP/1.1\r\n{H}\r\n".encode())
        assert idle.response().body == b"fast"
        busy.send(f"GET /slow HTTP/1.1\r\n{H}\r\n".encode())
        wait_until(lambda: (cwd / "slow-started").exists(), timeout=10)
        proc.send_signal(signal.SIGTERM)
        # The listening socket closes while the slow request is still running.
        wait_until(lambda: not accepts_connections(port), timeout=1)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1)
        assert idle.is_closed(timeout=1)
        response = busy.response(timeout=5)
        assert (response.status, response.body) == (200, b"slow done")
        assert response.header("Connection") == "close"
    assert proc.wait(timeout=10) == 0


def test_a_half_closed_idle_peer_does_not_stretch_the_drain(server):
    proc, port, _ = server
    with Client(port) as idle:
        idle.send(f"GET /fast HTTP/1.1\r\n{H}\r\n".encode())
        assert idle.response().body == b"fast"
        proc.send_signal(signal.SIGTERM)
        # The peer never closes its side: the process still exits after the short
        # idle grace (1 s by default), not the 10 s lingering-close grace.
        assert proc.wait(timeout=5) == 0
