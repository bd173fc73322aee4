"""RPC benchmark: echo calls/s over XML-RPC and JSON-RPC, cyclone 2 against its peers.

Usage::

    uv run python bench/rpc.py [--quick] [--duration 5] [--passes 3] [--warmup 2]
                               [--quiet-wait 30] [--write-docs] [--report FILE]

XML-RPC echo: cyclone 2's ``XmlrpcRequestHandler`` against
``twisted.web.xmlrpc.XMLRPC``; JSON-RPC 2.0 echo: cyclone 2's
``JsonrpcRequestHandler`` against a JSON-RPC handler written for aiohttp
(``bench/apps/aiohttp_jsonrpc_app.py``). One server at a time, pinned to CPU 0;
wrk (``bench/wrk/rpc_post.lua``: one POST body, keep-alive, 64 connections) on
CPU 1; 127.0.0.1 only. Peers run from the environments the HTTP harness makes
(``bench/.envs/twistedweb``, ``bench/.envs/aiohttp``); cyclone 2 from the
repository's ``.venv``. Every server's answer is checked before it is measured.

A full run writes ``bench/results/rpc-latest.json``, a dated copy, and the RPC
section of ``docs/benchmarks.md``; ``--quick`` writes a ``.raw`` file and leaves
the docs alone unless ``--write-docs`` is given.
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
import xmlrpc.client
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
from harness import RESULTS, BenchError, Running, Server, log

LUA = harness.BENCH / "wrk" / "rpc_post.lua"
LATEST = RESULTS / "rpc-latest.json"
MARKER = "## RPC benchmark"
NEXT_MARKER = "## WebSocket benchmark"
TARGET = 1.5  # the goal against twisted.web.xmlrpc

XML_BODY = xmlrpc.client.dumps(("Hello, world",), "echo")
JSON_BODY = json.dumps({"jsonrpc": "2.0", "method": "echo", "params": ["Hello, world"], "id": 1})


def _check_xml(body: bytes) -> bool:
    try:
        return xmlrpc.client.loads(body)[0] == ("Hello, world",)
    except Exception:
        return False


def _check_json(body: bytes) -> bool:
    try:
        return json.loads(body) == {"jsonrpc": "2.0", "result": "Hello, world", "id": 1}
    except ValueError:
        return False


# scenario -> (path, body, content type, check)
SCENARIOS = {
    "xmlrpc": ("/RPC2", XML_BODY, "text/xml", _check_xml),
    "jsonrpc": ("/jsonrpc", JSON_BODY, "application/json", _check_json),
}
PEERS = {"xmlrpc": "twistedweb-xmlrpc", "jsonrpc": "aiohttp-jsonrpc"}

RPC_SERVERS = [
    (
        Server(
            "cyclone2",
            "cyclone 2 (cyclone-ext-rpc)",
            "cyclone2_rpc_app.py",
            note="this repository's .venv; XmlrpcRequestHandler and JsonrpcRequestHandler, "
            "access log off",
        ),
        ("xmlrpc", "jsonrpc"),
    ),
    (
        Server(
            "twistedweb",  # the HTTP harness's environment of the same name and packages
            "twisted.web.xmlrpc",
            "twistedweb_xmlrpc_app.py",
            install=[["twisted"]],
            note="twisted.web.xmlrpc.XMLRPC resource, Site.log replaced by a no-op",
        ),
        ("xmlrpc",),
    ),
    (
        Server(
            "aiohttp",
            "aiohttp (hand-written JSON-RPC handler)",
            "aiohttp_jsonrpc_app.py",
            install=[["aiohttp"]],
            note="web.run_app, default asyncio loop, access_log=None; single calls only",
        ),
        ("jsonrpc",),
    ),
]


def _key(server: Server) -> str:
    return {"twistedweb": "twistedweb-xmlrpc", "aiohttp": "aiohttp-jsonrpc"}.get(
        server.name, server.name
    )


def verify(port: int, scenario: str) -> None:
    path, body, content_type, check = SCENARIOS[scenario]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", path, body=body.encode(), headers={"Content-Type": content_type})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    if response.status != 200 or not check(data):
        raise BenchError(f"{scenario} on port {port} answered {response.status} {data[:200]!r}")


def wrk(port: int, scenario: str, duration: float, pid: int | None = None) -> dict:
    path, body, content_type, _check = SCENARIOS[scenario]
    argv = [
        "taskset", "-c", harness.CLIENT_CPU, "wrk", "-t1", f"-c{harness.CONNECTIONS}",
        f"-d{duration:g}s", "--latency", "-s", str(LUA), f"http://127.0.0.1:{port}{path}",
    ]  # fmt: skip
    env = {
        **os.environ,
        "BENCH_BODY": body,
        "BENCH_CONTENT_TYPE": content_type,
        "BENCH_REPORT_LUA": str(harness.LUA),
    }
    busy0, server0 = harness._busy_cpu_seconds(), harness._process_cpu_seconds(pid)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, env=env)
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
            # what everything but the server used, wrk included (about one core)
            data["others_cpu"] = max(0.0, busy - server_cpu) / seconds if seconds else 0.0
            return data
    raise BenchError(f"no BENCH_JSON line in wrk output:\n{proc.stdout}\n{proc.stderr}")


def bench(server: Server, scenarios: tuple[str, ...], args: argparse.Namespace) -> dict:
    harness.ensure_env(server)
    port = harness.free_port()
    RESULTS.mkdir(exist_ok=True)
    running = Running(server, port, RESULTS / f"server-rpc-{server.name}.log.raw")
    log(f"{server.name}: started pid {running.proc.pid} on 127.0.0.1:{port}")
    out: dict = {}
    try:
        running.wait_ready()
        for scenario in scenarios:
            verify(port, scenario)
            if args.warmup > 0:
                wrk(port, scenario, args.warmup)
            passes = []
            for _ in range(args.passes):
                if args.quiet_wait > 0:
                    harness.wait_for_quiet(args.quiet_wait)
                passes.append(wrk(port, scenario, args.duration, running.proc.pid))
            errors: dict[str, int] = {}
            for p in passes:
                for k, v in p["errors"].items():
                    errors[k] = errors.get(k, 0) + v
            cell = {
                "rps": statistics.median(p["rps"] for p in passes),
                "p50_us": statistics.median(p["latency_us"]["p50"] for p in passes),
                "p99_us": statistics.median(p["latency_us"]["p99"] for p in passes),
                "server_cpu": statistics.median(p["server_cpu"] for p in passes),
                "errors": errors,
                "passes": passes,
            }
            out[scenario] = cell
            log(
                f"{server.name:12s} {scenario:8s} {cell['rps']:9.0f} calls/s  "
                f"p50 {cell['p50_us'] / 1000:6.2f} ms  p99 {cell['p99_us'] / 1000:6.2f} ms  "
                f"server CPU {100 * cell['server_cpu']:.0f}%"
            )
        return out
    finally:
        running.stop()
        log(f"{server.name}: stopped pid {running.proc.pid}")


# -- the section of docs/benchmarks.md --------------------------------------------------


def _per_cpu(cell: dict) -> float:
    """Calls per second of the server's own CPU time (less sensitive to a busy machine)."""
    return cell["rps"] / cell["server_cpu"] if cell["server_cpu"] else 0.0


def ratio(results: dict, scenario: str, per_cpu: bool = False) -> float | None:
    base = results["servers"].get("cyclone2", {}).get(scenario)
    peer = results["servers"].get(PEERS[scenario], {}).get(scenario)
    if not base or not peer:
        return None
    value = _per_cpu if per_cpu else (lambda cell: cell["rps"])
    return value(base) / value(peer) if value(peer) else None


def render(results: dict) -> str:
    """The RPC section of docs/benchmarks.md (Markdown, ending in a newline)."""
    meta = results["meta"]
    lines = [
        MARKER,
        "",
        "Echo calls per second over keep-alive HTTP/1.1: one method that returns its",
        'argument (`"Hello, world"`), the same request body again and again, 64',
        "connections. XML-RPC: cyclone 2's `XmlrpcRequestHandler` against",
        "`twisted.web.xmlrpc.XMLRPC`. JSON-RPC 2.0: cyclone 2's `JsonrpcRequestHandler`",
        "(which also validates the request object, binds the arguments to the method's",
        "signature and supports batches) against a small hand-written aiohttp handler",
        "(`bench/apps/aiohttp_jsonrpc_app.py`, single calls only). Every answer is",
        "checked before a server is measured. Produced by `uv run python bench/rpc.py`",
        f"on {meta['date']} ({meta['passes']} passes of {meta['duration_s']:g} s, medians;"
        f" server on CPU {harness.SERVER_CPU}, wrk on CPU {harness.CLIENT_CPU}).",
        "",
        "| server | protocol | calls/s | p50 ms | p99 ms | server CPU | calls per CPU-second "
        "| wrk errors |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, server in results["servers"].items():
        for scenario, cell in server.items():
            errors = {k: v for k, v in cell["errors"].items() if v}
            lines.append(
                f"| {results['labels'][name]} | {scenario} | {cell['rps']:,.0f} | "
                f"{cell['p50_us'] / 1000:.2f} | {cell['p99_us'] / 1000:.2f} | "
                f"{100 * cell['server_cpu']:.0f}% | {_per_cpu(cell):,.0f} | {errors or 'none'} |"
            )
    lines += [
        "",
        "Ratios: cyclone 2's calls/s divided by the peer's, and (in brackets) the same for",
        "calls per second of the server's own CPU time, which depends less on what else",
        "the machine was doing during the run:",
        "",
    ]
    for scenario, peer in PEERS.items():
        r, rc = ratio(results, scenario), ratio(results, scenario, per_cpu=True)
        if r is None:
            continue
        goal = f" (target ≥ {TARGET}x: {'met' if r >= TARGET else 'not met'})"
        per_cpu = f" [{rc:.2f}x per CPU-second]" if rc is not None else ""
        lines.append(
            f"- {scenario}: {r:.2f}x {results['labels'][peer]}{per_cpu}"
            + (goal if scenario == "xmlrpc" else "")
        )
    load = meta.get("machine", {}).get("loadavg_start")
    if load:
        lines += [
            "",
            f"Load average when the run started: {', '.join(f'{x:.2f}' for x in load)} on "
            f"{meta['machine'].get('cores', '?')} cores. Above about 1 (other processes"
            " competing for the server's core) the calls/s are low and noisy; compare the",
            "ratios, best the per-CPU-second ones, rather than the absolute numbers.",
        ]
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()), ""]
    return "\n".join(lines)


def write_docs(results: dict) -> None:
    """Put the RPC section into docs/benchmarks.md, before the WebSocket section."""
    text = harness.DOCS.read_text() if harness.DOCS.exists() else ""
    section = render(results)
    start = text.find("\n" + MARKER)
    if start >= 0:
        end = text.find("\n" + NEXT_MARKER, start + 1)
        text = text[: start + 1] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    else:
        end = text.find("\n" + NEXT_MARKER)
        if end >= 0:
            text = text[: end + 1] + section + "\n" + text[end + 1 :]
        else:
            text = text.rstrip() + "\n\n" + section
    harness.DOCS.write_text(text)
    log(f"wrote {harness.DOCS}")


def _versions(servers: list[Server]) -> dict[str, str]:
    wanted = {"cyclone2": ["twisted"], "twistedweb": ["twisted"], "aiohttp": ["aiohttp"]}
    found = {"python": harness.python_version(harness.REPO_PYTHON)}
    for server in servers:
        for line in harness.freeze(server):
            name, _, version = line.partition("==")
            if name.lower() in wanted.get(server.name, []):
                found[f"{name.lower()} ({server.name})"] = version
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=5.0, help="seconds per pass (5)")
    p.add_argument("--passes", type=int, default=3, help="measured passes (3)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (2)")
    p.add_argument("--quiet-wait", type=float, default=30.0, help="wait for a quiet machine (30)")
    p.add_argument("--quick", action="store_true", help="1 pass of 2 s, 1 s warm-up")
    p.add_argument("--write-docs", action="store_true", help="write docs even for --quick")
    p.add_argument("--report", metavar="FILE", help="render docs from a results file, no run")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if args.report:
        write_docs(json.loads(Path(args.report).read_text()))
        return 0
    if args.quick:
        args.duration, args.passes, args.warmup = 2.0, 1, 1.0

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    servers = [server for server, _ in RPC_SERVERS]
    results: dict = {"servers": {}, "labels": {}, "notes": {}}
    try:
        for server, scenarios in RPC_SERVERS:
            key = _key(server)
            results["servers"][key] = bench(server, scenarios, args)
            results["labels"][key] = server.label
            results["notes"][key] = server.note
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
        "versions": _versions(servers),
        "revision": harness.git_revision(),
    }
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(results, indent=1) + "\n"
    if args.quick:
        (RESULTS / f"rpc-{stamp}-partial.raw").write_text(text)
    else:
        (RESULTS / f"rpc-{stamp}.json").write_text(text)
        LATEST.write_text(text)
    if not args.quick or args.write_docs:
        write_docs(results)
    for scenario in PEERS:
        r = ratio(results, scenario)
        if r is not None:
            log(f"{scenario}: cyclone 2 is {r:.2f}x {results['labels'][PEERS[scenario]]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
