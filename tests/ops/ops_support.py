"""Real server processes for the operations tests: start, read their lines, stop by PID.

Every wait is bounded; a process a test started is killed by its PID at the end
whatever happened (a daemon that twistd detached is stopped through its pidfile).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TWISTD = str(Path(sys.executable).parent / "twistd")
CYCLONE_RUN = [sys.executable, "-m", "cyclone", "run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts_connections(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port`` now."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _default_sigint() -> None:
    # A shell's background job starts with SIGINT ignored; a terminal gives the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Server:
    """A server process whose output lines (stdout and stderr together) are read as they come."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            preexec_fn=_default_sigint,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.seen.append(line)
            self.lines.put(line)

    def wait_for_line(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """The first line not read yet that matches ``pattern``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r}:\n{self.output()}")
            try:
                line = self.lines.get(timeout=min(left, 0.2))
            except queue.Empty:
                if self.proc.poll() is not None:
                    self._reader.join(2)
                    if self.lines.empty():
                        raise AssertionError(
                            f"exited ({self.proc.returncode}) before {pattern!r}:\n{self.output()}"
                        ) from None
                continue
            found = re.search(pattern, line)
            if found:
                return found

    def wait_for_all(self, patterns: list[str], timeout: float = 30) -> None:
        """Wait until each pattern has matched a line not read yet, in any order."""
        deadline = time.monotonic() + timeout
        left = list(patterns)
        while left:
            alternatives = "|".join(f"(?:{p})" for p in left)
            line = self.wait_for_line(alternatives, max(0.0, deadline - time.monotonic()))[0]
            left = [p for p in left if not re.search(p, line)]

    def output(self) -> str:
        return "".join(self.seen)

    def wait(self, timeout: float = 20) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def children(self) -> list[int]:
        """The PIDs of this process's children, from /proc."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                found.append(int(entry))
        return found

    def stop(self) -> None:
        """Kill it and its children by PID, if a test left them running."""
        for pid in self.children():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    """GET ``url`` on a new connection: status and body (an HTTP error status too)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def raw_get(port: int, path: str, timeout: float = 10) -> bytes:
    """``GET path`` over a raw socket on a new connection; the whole reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return reply


def process_gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie nobody reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def kill_quietly(pid: int, signum: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def status_ids(pid: int) -> dict[str, list[int]]:
    """The ``Uid:`` and ``Gid:`` lines of /proc/PID/status (real, effective, saved, fs)."""
    ids: dict[str, list[int]] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid"):
                ids[key] = [int(v) for v in value.split()]
    return ids

