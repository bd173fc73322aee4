"""``cyclone run`` and ``twistd cyclone`` as a user sees them: real processes, their
output and exit status. They serve and stop cleanly on SIGTERM, print the URL they
serve, fail at once with one line when the app does not load or the address cannot be
listened on, and a second signal during the drain closes what is left, no traceback."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from servers import free_port, server_process
from waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def get_when_up(url: str, timeout: float) -> bytes:
    """GET ``url`` once the server answers (connection errors mean "not yet")."""

    def get() -> bytes:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.read()

    return wait_until(get, timeout, retry_on=(OSError,))


def serve_hello_then_sigterm(command: list[str]) -> tuple[int, bytes]:
    """Start a server process on a free port, GET /hello, SIGTERM it; its exit and output."""
    port = free_port()
    with server_process(
        [*command, "-r", "demos.showcase.app.Application", "-p", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as proc:
        body = get_when_up(f"http://127.0.0.1:{port}/hello", 20)
        assert body == b"Hello, world\n"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        return proc.returncode, out


def test_cyclone_run_serves_and_stops_on_sigterm():
    code, out = serve_hello_then_sigterm([sys.executable, "-m", "cyclone", "run"])
    assert code == 0, out
    assert b"200 GET /hello" in out


def test_cyclone_run_rejects_a_non_application():
    proc = subprocess.run(
        [sys.executable, "-m", "cyclone", "run", "-r", "os.path.join", "-p", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0
    assert "not an Application" in proc.stderr + proc.stdout


def test_twistd_plugin_serves_the_application():
    twistd = str(Path(sys.executable).parent / "twistd")
    code, out = serve_hello_then_sigterm([twistd, "-n", "--pidfile=", "cyclone"])
    # twistd re-raises the signal it stopped on, so it reports -SIGTERM
    assert code in (0, -signal.SIGTERM), out
    assert b"Server Shut Down" in out
    assert b"200 GET /hello" in out


# -- what a user sees when it starts, fails to start, and is stopped ---------------------

TWISTD = str(Path(sys.executable).parent / "twistd")
CYCLONE_RUN = [sys.executable, "-m", "cyclone", "run"]
TWISTD_CYCLONE = [TWISTD, "-n", "--pidfile=", "cyclone"]

TEST_APP = """
from twisted.internet import reactor, task
from twisted.logger import Logger

import cyclone.web

log = Logger()


class Hello(cyclone.web.RequestHandler):
    def get(self):
        self.write("hello from the test app\\n")


class Slow(cyclone.web.RequestHandler):
    async def get(self):
        log.info("slow request started")
        await task.deferLater(reactor, 60, lambda: None)
        self.write("late\\n")


Application = cyclone.web.Application([(r"/", Hello), (r"/slow", Slow)])
"""


@pytest.fixture
def app_dir(tmp_path):
    """A directory holding ``testapp.py``; the commands run from it."""
    (tmp_path / "testapp.py").write_text(TEST_APP)
    return tmp_path


def run_to_exit(command: list[str], cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Running:
    """A server process whose stdout and stderr lines are read as they come."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            # A shell's background job starts with SIGINT ignored, and the reactor
            # leaves an ignored SIGINT alone: give the server the default, as a
            # terminal would, whatever started this test run.
            preexec_fn=_default_sigint,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, into: list[str]) -> None:
        for line in stream:
            into.append(line)
            self.lines.put(line)

    def wait_for_line(self, pattern: str, timeout: float = 20) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r}:\n{self.output()}")
            try:
                line = self.lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    for reader in self._readers:
                        reader.join(2)
                    if self.lines.empty():
                        raise AssertionError(
                            f"exited ({self.proc.returncode}) before {pattern!r}:\n" + self.output()
                        ) from None
                continue
            found = re.search(pattern, line)
            if found:
                return found

    def wait(self, timeout: float = 20) -> int:
        code = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(5)
        return code

    def output(self) -> str:
        return "".join(self.stdout) + "\n--- stderr ---\n" + "".join(self.stderr)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def running():
    started: list[Running] = []

    def start(command: list[str], cwd: Path) -> Running:
        server = Running(command, cwd)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def taken_port():
    """A port something else is listening on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text, text
    assert "Unhandled error" not in text, text
    assert "ReactorNotRunning" not in text, text


def test_cyclone_run_prints_the_url_of_port_0(app_dir, running):
    server = running([*CYCLONE_RUN, "-r", "testapp.Application", "-p", "0"], app_dir)
    found = server.wait_for_line(r"serving testapp\.Application on (http://127\.0\.0\.1:(\d+)/)$")
    url, port = found.group(1), int(found.group(2))
    assert port != 0
    with urllib.request.urlopen(url, timeout=5) as resp:
        assert resp.read() == b"hello from the test app\n"
    server.proc.send_signal(signal.SIGTERM)
    assert server.wait() == 0, server.output()


def test_cyclone_run_prints_the_unix_socket_path(app_dir, running):
    path = app_dir / "web.sock"
    server = running([*CYCLONE_RUN, "-r", "testapp.Application", "--unix", str(path)], app_dir)
    server.wait_for_line(re.escape(f"serving testapp.Application on unix:{path}") + "$")
    client = socket.socket(socket.AF_UNIX)
    client.settimeout(5)
    client.connect(str(path))
    client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    reply = b""
    while chunk := client.recv(65536):
        reply += chunk
    client.close()
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"hello from the test app\n")
    server.proc.send_signal(signal.SIGTERM)
    assert server.wait() == 0, server.output()


def test_cyclone_run_on_a_taken_port_says_so_in_one_line_and_exits_1(app_dir, taken_port):
    started = time.monotonic()
    proc = run_to_exit([*CYCLONE_RUN, "-r", "testapp.Application", "-p", str(taken_port)], app_dir)
    assert time.monotonic() - started < 20
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"cyclone run: cannot listen on 127.0.0.1:{taken_port}: address already in use"
        " (another process is listening there)"
    ]
    assert proc.stdout == ""


def _address_is_not_local(address: str) -> bool:
    with socket.socket() as s:
        try:
            s.bind((address, 0))
        except OSError:
            return True
    return False


NOT_HERE = "10.255.255.1"


@pytest.mark.skipif(not _address_is_not_local(NOT_HERE), reason=f"{NOT_HERE} is on this machine")
def test_cyclone_run_on_an_address_of_another_machine_says_so(app_dir):
    proc = run_to_exit([*CYCLONE_RUN, "-r", "testapp.Application", "-l", NOT_HERE], app_dir)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"cyclone run: cannot listen on {NOT_HERE}:8888: cannot assign requested address"
        " (no interface of this machine has that address)"
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("hello.App", "cannot load hello.App: no module named 'hello'"),
        (
            "testapp.Nope",
            "cannot load testapp.Nope: module 'testapp' has no attribute 'Nope'",
        ),
    ],
)
def test_cyclone_run_with_an_app_that_does_not_import(app_dir, name, message):
    proc = run_to_exit([*CYCLONE_RUN, "-r", name, "-p", "0"], app_dir)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"cyclone run: {message}"]
    assert proc.stdout == ""


def test_cyclone_run_debug_shows_the_traceback_of_a_broken_module(app_dir):
    (app_dir / "broken.py").write_text("import no_such_dependency\nApplication = None\n")
    proc = run_to_exit([*CYCLONE_RUN, "-r", "broken.Application"], app_dir)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "cyclone run: cannot load broken.Application: importing broken failed:"
        " ModuleNotFoundError: No module named 'no_such_dependency'"
        " (--debug shows the traceback)"
    ]
    debug = run_to_exit([*CYCLONE_RUN, "--debug", "-r", "broken.Application"], app_dir)
    assert debug.returncode == 1
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert 'broken.py", line 1' in debug.stderr
    assert debug.stderr.splitlines()[-1].startswith("cyclone run: cannot load broken.Application")


def test_twistd_on_a_taken_port_exits_1_with_the_reason(app_dir, taken_port):
    started = time.monotonic()
    proc = run_to_exit(
        [*TWISTD_CYCLONE, "-r", "testapp.Application", "-p", str(taken_port)], app_dir
    )
    assert time.monotonic() - started < 20
    assert proc.returncode == 1
    line = (
        f"twistd cyclone: cannot listen on 127.0.0.1:{taken_port}: address already in use"
        " (another process is listening there)"
    )
    assert proc.stderr.splitlines() == [line]
    assert line in proc.stdout  # the log has it too
    assert_no_traceback(proc.stdout + proc.stderr)


def test_twistd_with_an_app_that_does_not_import_is_a_usage_error(app_dir):
    proc = run_to_exit([*TWISTD_CYCLONE, "-r", "testapp.Nope"], app_dir)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "cannot load testapp.Nope: module 'testapp' has no attribute 'Nope'" in out
    assert "--app=" in out  # the usage of the cyclone plugin
    assert_no_traceback(out)


def test_twistd_logs_the_url_of_port_0(app_dir, running):
    server = running([*TWISTD_CYCLONE, "-r", "testapp.Application", "-p", "0"], app_dir)
    found = server.wait_for_line(r"serving testapp\.Application on (http://127\.0\.0\.1:\d+/)$")
    with urllib.request.urlopen(found.group(1), timeout=5) as resp:
        assert resp.read() == b"hello from the test app\n"
    server.proc.send_signal(signal.SIGTERM)
    assert server.wait() in (0, -signal.SIGTERM), server.output()


@pytest.mark.parametrize("command", [CYCLONE_RUN, TWISTD_CYCLONE], ids=["cyclone-run", "twistd"])
@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_second_signal_while_draining_closes_the_rest_without_a_traceback(
    app_dir, running, command, second
):
    server = running([*command, "-r", "testapp.Application", "-p", "0"], app_dir)
    port = int(server.wait_for_line(r"on http://127\.0\.0\.1:(\d+)/$").group(1))
    slow = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        slow.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        server.wait_for_line("slow request started")
        server.proc.send_signal(signal.SIGTERM)
        server.wait_for_line("Received SIGTERM, shutting down")
        started = time.monotonic()
        server.proc.send_signal(second)
        code = server.wait(timeout=8)  # well before the 10 s drain timeout
        assert time.monotonic() - started < 5
        try:
            assert slow.recv(100) == b""  # closed (aborted), not answered
        except ConnectionResetError:
            pass
    finally:
        slow.close()
    assert code in (0, -signal.SIGTERM), server.output()
    out = server.output()
    assert f"Received {signal.Signals(second).name} while shutting down" in out
    assert_no_traceback(out)
