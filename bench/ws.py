"""WebSocket benchmark: echo messages/s and broadcast fan-out, cyclone 2 against Tornado 6.6.

Usage::

    uv run python bench/run.py --ws [--quick] [--only NAME[,NAME...]] [--passes 3]
                                    [--duration 10] [--warmup 2] [--connections 16]
                                    [--subscribers 1000] [--broadcasts 200] [--size 64]
                                    [--no-cross-check] [--write-docs] [--report FILE]

(``uv run python bench/ws.py ...`` is the same.) One server at a time, pinned
to core 0 (``taskset -c 0``), the load generator ``bench/ws_client.py`` pinned
to core 1, on 127.0.0.1 only. Tornado runs from ``bench/.envs/tornado``, the
environment the HTTP harness makes (its ``ensure_env``); cyclone 2 from the
repository's ``.venv``. For each server: the echo scenario with the lean
client (warm-up, then ``--passes`` passes), the same with the ``websockets``
library's client as a cross-check (shorter passes; ``--no-cross-check`` skips
it), then the fan-out scenario; the server is stopped by its PID afterwards,
also on errors and Ctrl-C.

A full run writes ``bench/results/ws-latest.json``, a dated
``bench/results/ws-STAMP.json`` and the WebSocket section of
``docs/benchmarks.md``; partial runs (``--only``, ``--quick``) write
``bench/results/ws-STAMP-partial.raw`` and leave the docs alone unless
``--write-docs`` is given.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
import report
from harness import RESULTS, BenchError, Running, Server, log

CLIENT = harness.BENCH / "ws_client.py"
LATEST = RESULTS / "ws-latest.json"

WS_SERVERS = [
    Server(
        "cyclone2",
        "cyclone 2 (Hub)",
        "cyclone2_ws_app.py",
        note="this repository's .venv; broadcasts through the in-process Hub "
        "(HubMixin.subscribe on /sub, Hub.publish per message)",
    ),
    Server(
        "cyclone2-set",
        "cyclone 2 (plain set)",
        "cyclone2_ws_app.py",
        args=["--plain-set"],
        note="same app with --plain-set: the publisher loops over a set of open handlers "
        "and calls write_message on each, as the Tornado app does",
    ),
    Server(
        "tornado",
        "Tornado 6.6",
        "tornado_ws_app.py",
        install=harness.BY_NAME["tornado"].install,
        note="bench/.envs/tornado (the HTTP harness's env), default asyncio loop; "
        "broadcasts loop over a set of open handlers",
    ),
]
BY_NAME = {s.name: s for s in WS_SERVERS}
BASELINE = "cyclone2"
PEER = "tornado"


def client_argv(
    scenario: str, port: int, pid: int | None, args: argparse.Namespace, **kw: str | float
) -> list[str]:
    argv = [
        "taskset",
        "-c",
        harness.CLIENT_CPU,
        str(harness.REPO_PYTHON),
        str(CLIENT),
        scenario,
        "--port",
        str(port),
        "--size",
        str(args.size),
        "--passes",
        str(kw.get("passes", args.passes)),
        "--quiet-wait",
        f"{args.quiet_wait:g}",
    ]
    if pid is not None:
        argv += ["--server-pid", str(pid)]
    if scenario == "echo":
        argv += [
            "--connections",
            str(args.connections),
            "--duration",
            f"{kw.get('duration', args.duration):g}",
            "--warmup",
            f"{args.warmup:g}",
            "--client",
            str(kw.get("client", "lean")),
        ]
    else:
        argv += [
            "--subscribers",
            str(args.subscribers),
            "--broadcasts",
            str(args.broadcasts),
            "--singles",
            str(args.singles),
            "--warmup-broadcasts",
            str(args.warmup_broadcasts),
        ]
    return argv


def run_client(argv: list[str], budget: float) -> dict:
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=budget,
        env=harness._clean_env(),
        cwd=harness.ROOT,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("WS_JSON "):
            return json.loads(line[len("WS_JSON ") :])
    raise BenchError(
        f"ws_client failed ({proc.returncode}): {proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    )


def bench_server(server: Server, args: argparse.Namespace) -> dict:
    harness.ensure_env(server)
    RESULTS.mkdir(exist_ok=True)
    port = harness.free_port()
    running = Running(server, port, RESULTS / f"ws-server-{server.name}.log.raw")
    log(f"{server.name}: started pid {running.proc.pid} on 127.0.0.1:{port}")
    out: dict = {}
    try:
        running.wait_ready()
        pid = running.proc.pid
        echo_budget = args.warmup + args.passes * (args.duration + args.quiet_wait + 5) + 60
        scenarios = [("echo", client_argv("echo", port, pid, args), echo_budget)]
        if args.cross_check:
            d = min(args.duration, 5.0)
            argv = client_argv("echo", port, pid, args, client="websockets", duration=d)
            scenarios.append(("echo_websockets", argv, args.warmup + args.passes * (d + 5) + 60))
        fan_budget = args.passes * (args.quiet_wait + 60) + 120
        scenarios.append(("fanout", client_argv("fanout", port, pid, args), fan_budget))
        for key, argv, budget in scenarios:
            result = run_client(argv, budget)
            if running.proc.poll() is not None:
                raise BenchError(f"{server.name} died during {key}")
            out[key] = result
            out.setdefault("client_argv", {})[key] = argv
            unit = "deliveries/s" if key == "fanout" else "messages/s"
            log(
                f"{server.name:13s} {key:16s} {result['rate']:9.0f} {unit:12s} "
                f"p50 {result['p50_us'] / 1000:6.2f} ms  p99 {result['p99_us'] / 1000:6.2f} ms  "
                f"CPU server {100 * result['server_cpu']:3.0f}% "
                f"client {100 * result['client_cpu']:3.0f}% "
                f"other {100 * result['other_cpu']:3.0f}%"
            )
        out["argv"] = [str(a) for a in running.argv]
        out["loadavg_after"] = list(os.getloadavg())
        return out
    finally:
        running.stop()
        log(f"{server.name}: stopped pid {running.proc.pid}")


def metadata(args: argparse.Namespace, servers: list[Server]) -> dict:
    envs = harness.environments(servers)
    client_env = Server("client", "client", "")
    return {
        **harness.machine(),
        "cyclone_revision": harness.git_revision(),
        "client_websockets": next(
            (line for line in harness.freeze(client_env) if line.startswith("websockets")), "?"
        ),
        "settings": {
            "duration_s": args.duration,
            "passes": args.passes,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "size": args.size,
            "subscribers": args.subscribers,
            "broadcasts": args.broadcasts,
            "singles": args.singles,
            "warmup_broadcasts": args.warmup_broadcasts,
            "cross_check": args.cross_check,
            "quiet_wait_s": args.quiet_wait,
            "server_cpu": harness.SERVER_CPU,
            "client_cpu": harness.CLIENT_CPU,
        },
        "command": "uv run python bench/run.py --ws " + " ".join(args.raw_argv),
        "envs": envs,
    }


def write_docs(results: dict) -> None:
    """Replace (or append) the WebSocket section of docs/benchmarks.md."""
    text = harness.DOCS.read_text() if harness.DOCS.exists() else "# Benchmarks\n"
    text = report.strip_ws_section(text)
    harness.DOCS.write_text(text.rstrip() + "\n\n" + report.render_ws(results))
    log(f"wrote the WebSocket section of {harness.DOCS}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0, help="echo seconds per pass (10)")
    p.add_argument("--passes", type=int, default=3, help="measured passes per scenario (3)")
    p.add_argument("--warmup", type=float, default=2.0, help="echo warm-up seconds (2)")
    p.add_argument("--connections", type=int, default=16, help="echo connections (16)")
    p.add_argument("--size", type=int, default=64, help="message bytes (64)")
    p.add_argument("--subscribers", type=int, default=1000, help="fan-out subscribers (1000)")
    p.add_argument("--broadcasts", type=int, default=200, help="messages per burst (200)")
    p.add_argument("--singles", type=int, default=100, help="timed single broadcasts (100)")
    p.add_argument("--warmup-broadcasts", type=int, default=50)
    p.add_argument("--quiet-wait", type=float, default=30.0, help="see run.py (30; 0: never)")
    p.add_argument("--no-cross-check", dest="cross_check", action="store_false")
    p.add_argument("--only", default="", help="names: " + ", ".join(BY_NAME))
    p.add_argument("--quick", action="store_true", help="smoke run: 1 short pass, 200 subscribers")
    p.add_argument("--write-docs", action="store_true", help="write docs even for partial runs")
    p.add_argument("--report", metavar="FILE", help="render the docs section from a results file")
    args = p.parse_args(argv)
    args.raw_argv = argv
    if args.quick:
        args.duration, args.passes, args.warmup = 1.0, 1, 0.5
        args.subscribers, args.broadcasts, args.singles = 200, 50, 10
        args.warmup_broadcasts, args.quiet_wait = 5, 0.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.report:
        write_docs(json.loads(Path(args.report).read_text()))
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BY_NAME)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown server(s) {unknown}; known: {list(BY_NAME)}")
    servers = [BY_NAME[n] for n in names]

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    partial = bool(args.only) or args.quick
    results: dict = {"servers": {}, "labels": {}, "notes": {}}
    try:
        for server in servers:
            harness.ensure_env(server)
        results["meta"] = metadata(args, servers)
        for server in servers:
            results["servers"][server.name] = bench_server(server, args)
            results["labels"][server.name] = server.label
            results["notes"][server.name] = server.note
    except BenchError as e:
        log(f"FAILED: {e}")
        return 1
    except (KeyboardInterrupt, subprocess.TimeoutExpired) as e:
        log(f"stopped ({type(e).__name__}); servers stopped")
        return 130
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(results, indent=1) + "\n"
    if partial:
        path = RESULTS / f"ws-{stamp}-partial.raw"
    else:
        path = RESULTS / f"ws-{stamp}.json"
        LATEST.write_text(text)
    path.write_text(text)
    log(f"wrote {path}")
    if not partial or args.write_docs:
        write_docs(results)
    print(report.ws_summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
