"""``cyclone run -w N``: worker processes on one port, replaced when they die, drained on SIGTERM.

Real processes, real signals, real clients: the PIDs that answer are the workers'
own, a worker killed with SIGKILL is replaced while every request still gets an
answer, and a request in flight when the supervisor gets SIGTERM completes.
"""

from __future__ import annotations

import os
import signal
import socket
import textwrap

import pytest
from ops_support import CYCLONE_RUN, accepts_connections, get, process_gone
from waiting import wait_until

APP = textwrap.dedent(
    """
    import os

    from twisted.internet import reactor, task

    import cyclone.web


    class Pid(cyclone.web.RequestHandler):
        def get(self):
            self.write(str(os.getpid()))


    class Slow(cyclone.web.RequestHandler):
        async def get(self):
            open(f"slow-started-{os.getpid()}", "w").close()  # the test waits for it
            await task.deferLater(reactor, float(self.get_argument("s", "1.5")), lambda: None)
            self.write(f"slow done by {os.getpid()}")


    Application = cyclone.web.Application([(r"/", Pid), (r"/slow", Slow)])
    """
)


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "workerapp.py").write_text(APP)
    return tmp_path


def _start(server, app_dir, workers: str):
    proc = server([*CYCLONE_RUN, "-r", "workerapp.Application", "-p", "0", "-w", workers], app_dir)
    port = int(proc.wait_for_line(r"serving workerapp\.Application on http://127\.0\.0\.1:(\d+)/$")[1])
    count = int(proc.wait_for_line(r"cyclone run: (\d+) worker process")[1])
    for _ in range(count):
        proc.wait_for_line(r"cyclone run: worker \d+ serving", timeout=30)
    return proc, port, count


def _pids_answering(port: int, requests: int) -> list[int]:
    """The PID behind each of ``requests`` GETs, each on a new connection."""
    # A generous timeout: a connection queued for a worker being replaced waits for it.
    return [int(get(f"http://127.0.0.1:{port}/", timeout=30)[1]) for _ in range(requests)]


def test_two_workers_share_the_port_and_a_killed_one_is_replaced(app_dir, server):
    proc, port, count = _start(server, app_dir, "2")
    assert count == 2
    workers = set(proc.children())
    assert len(workers) == 2
    seen = set(_pids_answering(port, 40))
    assert seen == workers  # the connections were spread over both

    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    proc.wait_for_line(rf"worker {victim} ended \(killed by SIGKILL\); starting another")
    # The supervisor still holds the dead worker's socket: its share of the connections
    # waits for the replacement instead of being refused.
    answered: set[int] = set()
    wait_until(lambda: answered.update(_pids_answering(port, 10)) or len(answered - workers), 40)
    assert victim not in answered
    (replacement,) = answered - workers
    assert set(proc.children()) == workers - {victim} | {replacement}

    proc.proc.send_signal(signal.SIGTERM)
    assert proc.wait() == 0, proc.output()
    assert all(process_gone(pid) for pid in workers | {replacement})


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def test_w_0_is_one_per_core_and_sigterm_lets_the_request_in_flight_finish(app_dir, server):
    proc, port, count = _start(server, app_dir, "0")
    assert count == _cores()
    workers = set(proc.children())
    assert len(workers) == count
    busy = socket.create_connection(("127.0.0.1", port), timeout=10)
    with busy:
        busy.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: list(app_dir.glob("slow-started-*")), 10)
        proc.proc.send_signal(signal.SIGTERM)
        # Every worker stops accepting at once; the busy one finishes its request.
        wait_until(lambda: not accepts_connections(port), 5, "still accepting after SIGTERM")
        reply = b""
        while chunk := busy.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200 ")
    assert b"slow done by " in reply
    assert proc.wait() == 0, proc.output()
    assert all(process_gone(pid) for pid in workers)
    assert "Traceback" not in proc.output()


def test_a_second_sigterm_is_passed_on_and_closes_what_is_open(app_dir, server):
    proc, port, _ = _start(server, app_dir, "2")
    busy = socket.create_connection(("127.0.0.1", port), timeout=10)
    with busy:
        busy.sendall(b"GET /slow?s=30 HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: list(app_dir.glob("slow-started-*")), 10)
        proc.proc.send_signal(signal.SIGTERM)
        proc.wait_for_line("Received SIGTERM, shutting down")
        proc.proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=8) == 0  # before the 10 s shutdown_timeout would abort it
        try:
            assert busy.recv(100) == b""  # closed (aborted), not answered
        except ConnectionResetError:
            pass
    assert "passing it on" in proc.output()


def test_workers_serve_a_unix_socket(tmp_path, app_dir, server):
    path = tmp_path / "web.sock"
    proc = server(
        [*CYCLONE_RUN, "-r", "workerapp.Application", "--unix", str(path), "-w", "2"], app_dir
    )
    proc.wait_for_line(rf"serving workerapp\.Application on unix:{path}$")
    for _ in range(2):
        proc.wait_for_line(r"cyclone run: worker \d+ serving", timeout=30)

    def ask() -> bytes:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(str(path))
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
        return reply

    assert ask().startswith(b"HTTP/1.1 200 ")
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.wait() == 0, proc.output()
    assert not path.exists()  # the supervisor removes the path it made

