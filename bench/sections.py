"""The rows of ``bench/run.py --all`` beyond the three endpoints.

- template: ``GET /template`` (100 escaped rows in a base layout with blocks)
  on cyclone 2, Tornado 6.6 (the same template) and aiohttp + Jinja2;
- static: a 4 KiB and a 1 MiB file, keep-alive, on cyclone 2
  (``StaticFileHandler``), aiohttp (``FileResponse``) and starlette + uvicorn
  (``StaticFiles``);
- memory: server RSS per idle keep-alive connection with 1,000 and then
  10,000 connections open (each after one request), and the latency of new
  requests while they are held, on cyclone 2, aiohttp and Tornado;
- flame: a py-spy flame graph (SVG) of cyclone 2 under wrk on ``GET /``.

Each function takes what it needs of ``run.py`` as arguments (``measure``: one
cell of wrk passes), so this module does not import ``run`` (no import circle).
"""

from __future__ import annotations

import contextlib
import http.client
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import harness
from harness import BY_NAME, CLIENT_CPU, RESULTS, ROOT, BenchError, Running, free_port, log

Measure = Callable[[Running, str, bool], dict]

TEMPLATE_SERVERS = ("cyclone2", "tornado", "aiohttp")
STATIC_SERVERS = ("cyclone2", "aiohttp", "starlette")
MEMORY_SERVERS = ("cyclone2", "aiohttp", "tornado")
STATIC_FILES = {"4k": 4096, "1m": 1024 * 1024}
MEMORY_COUNTS = (1000, 10000)
FLAME_SVG = ROOT / "docs" / "images" / "cyclone2-flame.svg"
TOOLS = harness.Server("tools", "profiling tools", "", install=[["py-spy"]])


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _started(name: str, extra_args: list[str] | None = None) -> Running:
    server = BY_NAME[name]
    harness.ensure_env(server)
    port = free_port()
    RESULTS.mkdir(exist_ok=True)
    running = Running(server, port, RESULTS / f"server-{name}-extra.log.raw", extra_args=extra_args)
    running.wait_ready()
    return running


# -- template ---------------------------------------------------------------------------


def template_rows(measure: Measure) -> dict:
    out: dict = {}
    for name in TEMPLATE_SERVERS:
        running = _started(name)
        try:
            status, body = _get(running.port, "/template")
            if status != 200 or body.count(b"<tr>") != 100 or b"item &lt;99&gt;" not in body:
                raise BenchError(f"{name} /template answered {status} {body[:300]!r}")
            summary = measure(running, "/template", False)
            summary["body_bytes"] = len(body)
            out[name] = summary
            log(f"{name:20s} template   {summary['rps']:9.0f} req/s")
        finally:
            running.stop()
    return out


# -- static files -----------------------------------------------------------------------


def _static_dir() -> str:
    directory = tempfile.mkdtemp(prefix="cyclone-bench-static-")
    pattern = bytes(range(256))
    for name, size in STATIC_FILES.items():
        data = (pattern * (size // len(pattern) + 1))[:size]
        Path(directory, f"{name}.bin").write_bytes(data)
    return directory


def static_rows(measure: Measure) -> dict:
    directory = _static_dir()
    out: dict = {}
    try:
        for name in STATIC_SERVERS:
            running = _started(name, ["--static-dir", directory])
            try:
                out[name] = {}
                for key, size in STATIC_FILES.items():
                    path = f"/static/{key}.bin"
                    status, body = _get(running.port, path)
                    if status != 200 or len(body) != size:
                        raise BenchError(f"{name} {path} answered {status}, {len(body)} bytes")
                    summary = measure(running, path, False)
                    out[name][key] = summary
                    log(f"{name:20s} static {key:3s} {summary['rps']:9.0f} req/s")
            finally:
                running.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return out


# -- memory per idle connection ---------------------------------------------------------


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit (inherited by the servers); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(wanted, soft)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for {pid}")


def _latencies_ms(port: int, count: int = 200) -> dict:
    """Sequential requests on one new keep-alive connection: p50 and p99 in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            conn.request("GET", "/")
            conn.getresponse().read()
            times.append(1000 * (time.perf_counter() - start))
    finally:
        conn.close()
    times.sort()
    return {"p50_ms": statistics.median(times), "p99_ms": times[int(0.99 * (len(times) - 1))]}


def _open_idle(port: int, count: int, held: list[socket.socket]) -> None:
    """Open ``count`` connections, one request and its whole response on each; keep them."""
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    batch = 500
    for start in range(0, count, batch):
        socks = []
        for _ in range(min(batch, count - start)):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(request)
            socks.append(s)
        for s in socks:
            data = b""
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"Hello, world"):
                chunk = s.recv(4096)
                if not chunk:
                    raise BenchError("the server closed an idle connection being opened")
                data += chunk
        held.extend(socks)


def memory_rows() -> dict:
    limit = raise_fd_limit(max(MEMORY_COUNTS) + 1000)
    out: dict = {"fd_limit": limit}
    for name in MEMORY_SERVERS:
        running = _started(name)
        held: list[socket.socket] = []
        try:
            for _ in range(3):
                _latencies_ms(running.port, 100)  # warm the code paths up
            time.sleep(1.0)
            base_rss = _rss_kib(running.proc.pid)
            base_latency = _latencies_ms(running.port)
            row: dict = {"rss_idle_kib": base_rss, "latency_idle": base_latency}
            for count in MEMORY_COUNTS:
                if count + 100 > limit:
                    row[str(count)] = {"skipped": f"open-file limit {limit}"}
                    continue
                _open_idle(running.port, count - len(held), held)
                time.sleep(1.0)
                rss = _rss_kib(running.proc.pid)
                row[str(count)] = {
                    "rss_kib": rss,
                    "per_connection_bytes": (rss - base_rss) * 1024 / count,
                    "latency": _latencies_ms(running.port),
                }
                if running.proc.poll() is not None:
                    raise BenchError(f"{name} died holding {count} connections")
                log(
                    f"{name:20s} memory {count:6d} conns "
                    f"{row[str(count)]['per_connection_bytes'] / 1024:6.1f} KiB/conn, "
                    f"p50 {row[str(count)]['latency']['p50_ms']:.2f} ms"
                )
            out[name] = row
        finally:
            for s in held:
                s.close()
            running.stop()
    return out


# -- flame graph ------------------------------------------------------------------------


def flame_graph(run_wrk: Callable[..., dict], duration: float) -> dict:
    """A py-spy flame graph of cyclone 2 under wrk on ``GET /`` (keep-alive)."""
    harness.ensure_env(TOOLS)
    spy_bin = TOOLS.python.parent / "py-spy"
    running = _started("cyclone2")
    FLAME_SVG.parent.mkdir(parents=True, exist_ok=True)
    try:
        spy = subprocess.Popen(
            [
                "taskset",
                "-c",
                CLIENT_CPU,
                str(spy_bin),
                "record",
                "--nonblocking",
                "--format",
                "flamegraph",
                "--rate",
                "250",
                "--duration",
                f"{max(1, int(duration))}",
                "--pid",
                str(running.proc.pid),
                "--output",
                str(FLAME_SVG),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        result = run_wrk(running.port, "/", duration + 1, False)
        _, err = spy.communicate(timeout=120)
        if spy.returncode != 0 or not FLAME_SVG.exists():
            return {"error": f"py-spy exited with {spy.returncode}: {err.strip()[-500:]}"}
        log(f"flame graph written to {FLAME_SVG} ({result['rps']:.0f} req/s while sampled)")
        return {
            "svg": str(FLAME_SVG.relative_to(ROOT)),
            "rps_while_sampled": result["rps"],
            "duration_s": duration,
        }
    finally:
        running.stop()
