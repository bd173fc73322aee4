"""The seed's deployment line, run as root: daemonized, privileges dropped, logs rotated.

``twistd --uid=... --gid=... --reactor=epoll --logfile=... --pidfile=... cyclone
--port=... --listen=127.0.0.1 --app=hello.Application`` listens (on a privileged port,
before it gives up root), becomes ``nobody``, writes its pidfile and its log, rotates
the log on SIGUSR1, and stops on SIGTERM sent to the PID in the pidfile. ``--syslog``
sends the same log lines to the system logger.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from ops_support import TWISTD, get, kill_quietly, process_gone, status_ids
from waiting import wait_until

HELLO = textwrap.dedent(
    """
    import os

    from twisted.internet import reactor

    import cyclone.web


    class Hello(cyclone.web.RequestHandler):
        def get(self):
            self.write("hello\\n")


    class Who(cyclone.web.RequestHandler):
        def get(self):
            self.write({
                "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
                "reactor": type(reactor).__name__,
            })


    Application = cyclone.web.Application([(r"/", Hello), (r"/who", Who)])
    """
)


def _unprivileged() -> tuple[str, int, str, int] | None:
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        return None
    group = grp.getgrgid(user.pw_gid)
    return user.pw_name, user.pw_uid, group.gr_name, group.gr_gid


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or _unprivileged() is None, reason="needs root and a 'nobody' user"
)


@pytest.fixture
def deploy_dir() -> Iterator[Path]:
    """A directory ``nobody`` can enter (pytest's own temporary tree is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="cyclone-deploy-", dir="/tmp"))
    path.chmod(0o755)
    (path / "hello.py").write_text(HELLO)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _free_privileged_port() -> int:
    for port in range(990, 700, -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port below 1024")


@needs_root
def test_the_seed_deployment_line_as_root(deploy_dir):
    user, uid, group, gid = _unprivileged()  # type: ignore[misc]
    run = deploy_dir / "run"
    run.mkdir()
    log_file, pid_file = run / "cyclone.log", run / "cyclone.pid"
    # What the daemon writes once it is nobody: the log (rotation renames it and makes
    # a new one) and the removal of its pidfile, so it owns that directory and file.
    log_file.touch()
    os.chown(run, uid, gid)
    os.chown(log_file, uid, gid)
    port = _free_privileged_port()
    line = [
        TWISTD, f"--uid={user}", f"--gid={group}", "--reactor=epoll",
        f"--logfile={log_file}", f"--pidfile={pid_file}",
        "cyclone", f"--port={port}", "--listen=127.0.0.1", "--app=hello.Application",
    ]  # fmt: skip
    started = subprocess.run(line, cwd=deploy_dir, capture_output=True, text=True, timeout=30)
    assert started.returncode == 0, started.stdout + started.stderr  # daemonized: it returned
    pid = int(pid_file.read_text())
    try:
        who = json.loads(get(f"http://127.0.0.1:{port}/who")[1])
        assert who == {"uid": uid, "euid": uid, "gid": gid, "reactor": "EPollReactor"}
        assert status_ids(pid) == {"Uid": [uid] * 4, "Gid": [gid] * 4}
        log = log_file.read_text()
        assert f"cyclone: serving hello.Application on http://127.0.0.1:{port}/" in log
        assert f"set uid/gid {uid}/{gid}" in log

        os.kill(pid, signal.SIGUSR1)  # twistd rotates its log file on SIGUSR1
        rotated = run / "cyclone.log.1"
        wait_until(rotated.exists, 10, "the log was not rotated")
        assert get(f"http://127.0.0.1:{port}/")[0] == 200
        wait_until(lambda: "200 GET / " in log_file.read_text(), 10)
        assert "serving hello.Application" in rotated.read_text()
        assert "serving hello.Application" not in log_file.read_text()

        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: process_gone(pid), 15, "the daemon did not stop on SIGTERM")
        assert not pid_file.exists()
        assert "Server Shut Down." in log_file.read_text()
    finally:
        if not process_gone(pid):
            kill_quietly(pid)


@needs_root
@pytest.mark.skipif(os.path.exists("/dev/log"), reason="a system logger owns /dev/log")
def test_twistd_syslog_sends_the_log_to_the_system_logger(deploy_dir, server):
    """No system logger here: the test listens on /dev/log itself, for the test's length."""
    logger = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    logger.bind("/dev/log")
    logger.settimeout(1)
    try:
        proc = server(
            [
                TWISTD, "-n", "--syslog", "--prefix=cyclone-ops", "--pidfile=",
                "cyclone", "-p", "0", "-r", "hello.Application",
            ],
            deploy_dir,
        )  # fmt: skip

        def message(pattern: str) -> str:
            def received() -> str | None:
                try:
                    data = logger.recv(65536).decode(errors="replace")
                except TimeoutError:
                    assert proc.proc.poll() is None, proc.output()
                    return None
                return data if "cyclone-ops" in data and pattern in data else None

            return wait_until(received, 20, f"no syslog message with {pattern!r}")

        serving = message("cyclone: serving hello.Application on http://127.0.0.1:")
        port = int(serving.split("http://127.0.0.1:")[1].split("/")[0])
        assert get(f"http://127.0.0.1:{port}/")[0] == 200
        message("200 GET / ")
        proc.proc.send_signal(signal.SIGTERM)
        assert proc.wait() in (0, -signal.SIGTERM)
        assert proc.output() == ""  # everything went to syslog
    finally:
        logger.close()
        os.unlink("/dev/log")
