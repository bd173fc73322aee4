"""Load-independent cost per request: CPU instructions (callgrind) and syscalls (strace).

Usage::

    uv run python bench/instr.py [--server cyclone2] [--path /] [--requests 2000]
                                 [--connections 8] [--close] [--access-log]
                                 [--strace] [--app-arg ARG ...]

Wall-clock benchmarks need a quiet machine; these figures do not. The server
(a bench app from ``bench/apps``, run by the Python of its row) runs under
``valgrind --tool=callgrind``; a client in this process sends ``--warmup``
requests, the counters are zeroed (``callgrind_control -z``), ``--requests``
more requests are sent, and the counters are dumped (``callgrind_control -d``):
the instructions of the server process divided by the requests. The client
keeps ``--connections`` keep-alive connections and sends one request on each
before reading the answers, so the server's reactor sees several ready sockets
per poll (as under wrk). ``--close`` opens a connection per request.

``--strace`` runs the server natively and attaches ``strace -c -f`` for the
measured requests: syscalls per request, by name.

The figures include the reactor, the framework and the app; they change with
the code, not with the load on the machine, which is what an optimisation
needs to be measured with while other work runs beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

REQUEST = "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: instr\r\n{extra}\r\n"


def _read_response(sock: socket.socket, buf: bytearray) -> None:
    """Read one whole response (Content-Length framed) from ``sock`` into ``buf``."""
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(buf[:end]).lower()
            m = re.search(rb"\r\ncontent-length: *(\d+)", head)
            if m is None:
                raise RuntimeError(f"no Content-Length in {head[:300]!r}")
            total = end + 4 + int(m.group(1))
            if len(buf) >= total:
                del buf[:total]
                return
        data = sock.recv(65536)
        if not data:
            raise RuntimeError("server closed the connection")
        buf += data


def send_requests(port: int, path: str, count: int, connections: int, close: bool) -> None:
    if close:
        req = REQUEST.format(path=path, extra="Connection: close\r\n").encode()
        for _ in range(count):
            with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
                s.sendall(req)
                buf = bytearray()
                while True:
                    data = s.recv(65536)
                    if not data:
                        break
                    buf += data
                if not buf.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"unexpected answer {bytes(buf[:200])!r}")
        return
    req = REQUEST.format(path=path, extra="").encode()
    socks = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(connections)]
    bufs = [bytearray() for _ in socks]
    try:
        sent = 0
        while sent < count:
            batch = socks[: min(connections, count - sent)]
            for s in batch:
                s.sendall(req)
            for s, buf in zip(batch, bufs, strict=False):
                _read_response(s, buf)
            sent += len(batch)
    finally:
        for s in socks:
            s.close()


def _wait_ready(port: int, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def _server_env(args: argparse.Namespace) -> dict[str, str]:
    env = harness._clean_env()
    if args.tree:
        # another checkout's cyclone (e.g. ``git worktree add /tmp/base HEAD``) shadows
        # the editable install: the same measurement, before and after a change
        env["PYTHONPATH"] = str(Path(args.tree).resolve())
    return env


def _server_argv(args: argparse.Namespace, port: int, log_path: str | None) -> list[str]:
    server = harness.BY_NAME[args.server]
    harness.ensure_env(server)
    argv = [str(server.python), str(harness.APPS / server.app), str(port), *server.args]
    argv += args.app_arg
    if log_path is not None:
        argv += ["--access-log", log_path]
    return argv


def measure_instructions(args: argparse.Namespace) -> dict:
    port = harness.free_port()
    out_dir = tempfile.mkdtemp(prefix="cyclone-instr-")
    out = os.path.join(out_dir, "callgrind.out")
    log_path = os.path.join(out_dir, "access.log") if args.access_log else None
    argv = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        "--dump-line=no",
        "--compress-strings=no",
        *_server_argv(args, port, log_path),
    ]
    proc = subprocess.Popen(
        argv,
        cwd=harness.APPS,
        env=_server_env(args),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_ready(port, proc, 600)
        send_requests(port, args.path, args.warmup, args.connections, args.close)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        send_requests(port, args.path, args.requests, args.connections, args.close)
        subprocess.run(
            ["callgrind_control", "-d", "measured", str(proc.pid)], check=True, capture_output=True
        )
    finally:
        _stop(proc)
    dumps = sorted(Path(out_dir).glob("callgrind.out*measured*")) or sorted(
        p for p in Path(out_dir).glob("callgrind.out.*") if not p.name.endswith(".log")
    )
    if not dumps:
        raise SystemExit(f"no callgrind dump in {out_dir}")
    total = None
    for line in dumps[0].read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            total = int(line.split()[1])
            break
    if total is None:
        raise SystemExit(f"no totals in {dumps[0]}")
    return {"instructions_per_request": total / args.requests, "dump": str(dumps[0])}


def measure_syscalls(args: argparse.Namespace) -> dict:
    port = harness.free_port()
    out_dir = tempfile.mkdtemp(prefix="cyclone-strace-")
    log_path = os.path.join(out_dir, "access.log") if args.access_log else None
    proc = subprocess.Popen(
        _server_argv(args, port, log_path),
        cwd=harness.APPS,
        env=_server_env(args),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    summary = os.path.join(out_dir, "strace.txt")
    try:
        _wait_ready(port, proc, 30)
        send_requests(port, args.path, args.warmup, args.connections, args.close)
        tracer = subprocess.Popen(
            ["strace", "-c", "-f", "-o", summary, "-p", str(proc.pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # strace attaches
        send_requests(port, args.path, args.requests, args.connections, args.close)
        time.sleep(0.2)
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
    finally:
        _stop(proc)
    calls: dict[str, int] = {}
    for line in Path(summary).read_text().splitlines():
        parts = line.split()
        # % time, seconds, usecs/call, calls, [errors], syscall
        if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
            with contextlib.suppress(ValueError):
                calls[parts[-1]] = int(parts[3])
    total = sum(calls.values())
    return {
        "syscalls_per_request": total / args.requests,
        "by_name": {k: round(v / args.requests, 3) for k, v in sorted(calls.items())},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--server", default="cyclone2", help="a row of bench/harness.py (cyclone2)")
    p.add_argument("--path", default="/")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=400)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--close", action="store_true")
    p.add_argument("--access-log", action="store_true", help="pass --access-log FILE to the app")
    p.add_argument("--tree", help="run the cyclone package of this checkout instead")
    p.add_argument("--strace", action="store_true", help="count syscalls instead")
    p.add_argument("--app-arg", action="append", default=[], help="extra argument for the app")
    args = p.parse_args(argv)
    if args.strace:
        result = measure_syscalls(args)
        print(f"{result['syscalls_per_request']:.2f} syscalls/request")
        for name, n in result["by_name"].items():
            print(f"  {name:20s} {n:.3f}")
    else:
        result = measure_instructions(args)
        print(f"{result['instructions_per_request']:,.0f} instructions/request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
