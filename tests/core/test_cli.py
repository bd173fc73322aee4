"""``cyclone run`` serves an application and shuts down cleanly on SIGTERM."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, deadline: float) -> bytes:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def serve_hello_then_sigterm(command: list[str]) -> tuple[int, bytes]:
    """Start a server process on a free port, GET /hello, SIGTERM it; its exit and output."""
    port = free_port()
    proc = subprocess.Popen(
        [*command, "-r", "demos.showcase.app.Application", "-p", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        body = wait_for(f"http://127.0.0.1:{port}/hello", time.monotonic() + 20)
        assert body == b"Hello, world\n"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        return proc.returncode, out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


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
