"""Redis benchmark: a handler that does one Redis GET and returns it, cyclone 2 against its peers.

Usage::

    uv run python bench/redis.py [--quick] [--duration 5] [--passes 3] [--warmup 2]
                                 [--quiet-wait 30] [--redis URL] [--write-docs]

``GET /redis`` answers the value of one key (``Hello, world``) read from the
same Redis for every server: cyclone 2 with a ``redis://`` service
(``cyclone-ext-redis``, 10 pooled connections), cyclone 2 with txredisapi's
own ``lazyConnectionPool`` (10 connections: what a user would write without
the extension), aiohttp + redis-py's ``redis.asyncio`` client, and Tornado +
``redis.asyncio`` (redis-py's default pool: a connection per concurrent
request). All servers run at once, pinned to CPU 0, and their passes are
taken in turn (round robin), so that the shared machine's other load falls on
all of them; wrk on CPU 1 (64 connections, keep-alive); Redis wherever
``--redis`` points (the shared 127.0.0.1:6379 by default, database 15). Every
server's answer is checked before it is measured.

A full run writes ``bench/results/redis-latest.json``, a dated copy, and the
Redis section of ``docs/benchmarks.md``; ``--quick`` writes a ``.raw`` file
and leaves the docs alone unless ``--write-docs`` is given.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
from harness import RESULTS, BenchError, Running, Server, log

LATEST = RESULTS / "redis-latest.json"
MARKER = "## Redis benchmark"
KEY = "cyclone-bench:hello"
VALUE = "Hello, world"
PEER = "aiohttp-redis"
TARGET = 1.0


def servers(url: str) -> list[Server]:
    args = [url, KEY]
    return [
        Server(
            "cyclone2-redis",
            "cyclone 2 + cyclone-ext-redis",
            "cyclone2_redis_app.py",
            args=args,
            note="this repository's .venv; services={'cache': 'redis://...?pool_size=10'}",
        ),
        Server(
            "cyclone2-txredisapi",
            "cyclone 2 + raw txredisapi",
            "cyclone2_redis_app.py",
            args=[*args, "--raw-txredisapi"],
            note="this repository's .venv; txredisapi.lazyConnectionPool(poolsize=10)",
        ),
        Server(
            "aiohttp-redis",
            "aiohttp + redis.asyncio",
            "aiohttp_redis_app.py",
            install=[["aiohttp", "redis"]],
            args=args,
            note="web.run_app, default asyncio loop, access_log=None; redis.asyncio.from_url",
        ),
        Server(
            "tornado-redis",
            "Tornado 6.6 + redis.asyncio",
            "tornado_redis_app.py",
            install=[["tornado==6.6.*", "redis"]],
            args=args,
            note="default asyncio loop, log_function no-op; redis.asyncio.from_url",
        ),
    ]


def verify(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/redis")
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200 or body != VALUE.encode():
        raise BenchError(f"/redis on port {port} answered {response.status} {body[:200]!r}")


def wrk(port: int, duration: float, pid: int | None = None) -> dict:
    argv = [
        "taskset", "-c", harness.CLIENT_CPU, "wrk", "-t1", f"-c{harness.CONNECTIONS}",
        f"-d{duration:g}s", "--latency", "-s", str(harness.LUA), f"http://127.0.0.1:{port}/redis",
    ]  # fmt: skip
    busy0, server0 = harness._busy_cpu_seconds(), harness._process_cpu_seconds(pid)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    busy = harness._busy_cpu_seconds() - busy0
    server_cpu = harness._process_cpu_seconds(pid) - server0
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON ") :])
            seconds = data["duration_us"] / 1e6
            data["rps"] = data["requests"] / seconds if seconds else 0.0
            data["server_cpu"] = server_cpu / seconds if seconds else 0.0
            data["others_cpu"] = max(0.0, busy - server_cpu) / seconds if seconds else 0.0
            return data
    raise BenchError(f"no BENCH_JSON line in wrk output:\n{proc.stdout}\n{proc.stderr}")


def bench_all(chosen: list[Server], args: argparse.Namespace) -> dict[str, dict]:
    """Every server at once (idle ones cost nothing), passes taken in turn, round robin.

    The machine is shared: interleaving the passes spreads the other load over
    every server alike instead of favouring whoever ran in a quiet minute.
    """
    RESULTS.mkdir(exist_ok=True)
    running: dict[str, Running] = {}
    try:
        for server in chosen:
            harness.ensure_env(server)
            port = harness.free_port()
            log_path = RESULTS / f"server-redis-{server.name}.log.raw"
            running[server.name] = Running(server, port, log_path)
            log(f"{server.name}: started pid {running[server.name].proc.pid} on 127.0.0.1:{port}")
        for server in chosen:
            running[server.name].wait_ready()
            verify(running[server.name].port)
            if args.warmup > 0:
                wrk(running[server.name].port, args.warmup)
        passes: dict[str, list[dict]] = {s.name: [] for s in chosen}
        for _ in range(args.passes):
            for server in chosen:
                r = running[server.name]
                if args.quiet_wait > 0:
                    harness.wait_for_quiet(args.quiet_wait, threshold=1.15)  # wrk is one core
                load = os.getloadavg()[0]
                one = wrk(r.port, args.duration, r.proc.pid)
                one["loadavg"] = load
                passes[server.name].append(one)
                log(f"{server.name:20s} pass {len(passes[server.name])}: {one['rps']:9.0f} req/s")
        out = {}
        for server in chosen:
            ps = passes[server.name]
            errors: dict[str, int] = {}
            for p in ps:
                for k, v in p["errors"].items():
                    errors[k] = errors.get(k, 0) + v
            cell = {
                "rps": statistics.median(p["rps"] for p in ps),
                "p50_us": statistics.median(p["latency_us"]["p50"] for p in ps),
                "p99_us": statistics.median(p["latency_us"]["p99"] for p in ps),
                "server_cpu": statistics.median(p["server_cpu"] for p in ps),
                "per_cpu": statistics.median(
                    p["rps"] / p["server_cpu"] if p["server_cpu"] else 0.0 for p in ps
                ),
                "loadavg": statistics.median(p["loadavg"] for p in ps),
                "errors": errors,
                "passes": ps,
            }
            out[server.name] = cell
            log(
                f"{server.name:20s} {cell['rps']:9.0f} req/s  p50 {cell['p50_us'] / 1000:6.2f} ms"
                f"  p99 {cell['p99_us'] / 1000:6.2f} ms  server CPU {100 * cell['server_cpu']:.0f}%"
            )
        return out
    finally:
        for name, r in running.items():
            r.stop()
            log(f"{name}: stopped pid {r.proc.pid}")


def ratio(results: dict) -> float | None:
    base = results["servers"].get("cyclone2-redis")
    peer = results["servers"].get(PEER)
    if not base or not peer or not peer["rps"]:
        return None
    return base["rps"] / peer["rps"]


def render(results: dict) -> str:
    """The Redis section of docs/benchmarks.md (Markdown, ending in a newline)."""
    meta = results["meta"]
    lines = [
        MARKER,
        "",
        "One Redis `GET` per request, its value (`Hello, world`) as the response body, over",
        "keep-alive HTTP/1.1 with 64 wrk connections; every server reads the same key of the",
        "same Redis. Produced by `uv run python bench/redis.py` on",
        f"{meta['date']} ({meta['passes']} passes of {meta['duration_s']:g} s each, taken in turn",
        "across the servers so that the shared machine's other load falls on all of them; medians;",
        f"servers on CPU {harness.SERVER_CPU}, wrk on CPU {harness.CLIENT_CPU}, Redis unpinned).",
        "",
        "| server | req/s | p50 ms | p99 ms | server CPU | req per server CPU-s | passes (req/s) |"
        " load avg | wrk errors |",
        "|---|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for name, cell in results["servers"].items():
        errors = {k: v for k, v in cell["errors"].items() if v}
        each = ", ".join(f"{p['rps']:,.0f}" for p in cell["passes"])
        lines.append(
            f"| {results['labels'][name]} | {cell['rps']:,.0f} | {cell['p50_us'] / 1000:.2f} | "
            f"{cell['p99_us'] / 1000:.2f} | {100 * cell['server_cpu']:.0f}% | "
            f"{cell.get('per_cpu', 0):,.0f} | {each} | {cell.get('loadavg', 0):.1f} | "
            f"{errors or 'none'} |"
        )
    r = ratio(results)
    if r is not None:
        met = "met" if r >= TARGET else "not met"
        lines += ["", f"cyclone 2 + cyclone-ext-redis: {r:.2f}x aiohttp + redis.asyncio"
                  f" (target ≥ {TARGET}x: {met})."]  # fmt: skip
    lines += ["", "Servers:", ""]
    lines += [f"- {results['labels'][n]}: {note}" for n, note in results["notes"].items()]
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()), ""]
    return "\n".join(lines)


def write_docs(results: dict) -> None:
    """Put the Redis section into docs/benchmarks.md (replacing an older one)."""
    text = harness.DOCS.read_text() if harness.DOCS.exists() else ""
    section = render(results)
    start = text.find("\n" + MARKER)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    harness.DOCS.write_text(text)
    log(f"wrote {harness.DOCS}")


def _versions(chosen: list[Server]) -> dict[str, str]:
    wanted = {"twisted", "txredisapi", "aiohttp", "tornado", "redis"}
    found = {"python": harness.python_version(harness.REPO_PYTHON)}
    for server in chosen:
        for line in harness.freeze(server):
            name, _, version = line.partition("==")
            if name.lower() in wanted:
                found[f"{name.lower()} ({server.name})"] = version
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=5.0, help="seconds per pass (5)")
    p.add_argument("--passes", type=int, default=3, help="measured passes (3)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (2)")
    p.add_argument("--quiet-wait", type=float, default=30.0, help="wait for a quiet machine (30)")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/15", help="the Redis to read")
    p.add_argument("--only", help="server names, comma-separated")
    p.add_argument("--quick", action="store_true", help="1 pass of 2 s, 1 s warm-up")
    p.add_argument("--write-docs", action="store_true", help="write docs even for --quick")
    p.add_argument("--report", metavar="FILE", help="render docs from a results file, no run")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.report:
        write_docs(json.loads(Path(args.report).read_text()))
        return 0
    if args.quick:
        args.duration, args.passes, args.warmup = 2.0, 1, 1.0
    chosen = servers(args.redis)
    if args.only:
        names = set(args.only.split(","))
        chosen = [s for s in chosen if s.name in names]
    db = args.redis.rstrip("/").rsplit("/", 1)[-1]
    host, _, port = args.redis.split("://", 1)[1].split("/", 1)[0].rpartition(":")
    subprocess.run(
        ["redis-cli", "-h", host, "-p", port, "-n", db, "SET", KEY, VALUE],
        check=True, capture_output=True, env={**os.environ},
    )  # fmt: skip

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    results: dict = {"servers": {}, "labels": {}, "notes": {}}
    try:
        results["servers"] = bench_all(chosen, args)
        for server in chosen:
            results["labels"][server.name] = server.label
            results["notes"][server.name] = server.note
    except BenchError as e:
        log(f"FAILED: {e}")
        return 1
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130
    results["meta"] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
        "duration_s": args.duration,
        "passes": args.passes,
        "machine": harness.machine(),
        "versions": _versions(chosen),
        "revision": harness.git_revision(),
    }
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(results, indent=1) + "\n"
    if args.quick or args.only:
        (RESULTS / f"redis-{stamp}-partial.raw").write_text(text)
    else:
        (RESULTS / f"redis-{stamp}.json").write_text(text)
        LATEST.write_text(text)
    if not (args.quick or args.only) or args.write_docs:
        write_docs(results)
    r = ratio(results)
    if r is not None:
        log(f"cyclone 2 + cyclone-ext-redis is {r:.2f}x aiohttp + redis.asyncio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
