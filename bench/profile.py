"""Profile cyclone 2's hot path: the cyclone 2 bench app under cProfile, loaded by wrk.

Usage::

    uv run python bench/profile.py [--path /] [--duration 10] [--close] [--top 30]
                                   [--sort tottime] [--save FILE]

The server runs pinned to core 0 (``BENCH_PROFILE=FILE`` makes the app run its
reactor under cProfile), wrk loads it from core 1 for ``--duration`` seconds,
then the server is stopped by its PID and the functions with the most self
time are printed, with how often each ran per request. cProfile slows the
server down several times; the split between functions is what it is good for.
"""

from __future__ import annotations

import argparse
import io
import os
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--path", default="/", help="URL path wrk requests (/)")
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--close", action="store_true", help="send Connection: close")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--sort", default="tottime", help="pstats sort key (tottime)")
    p.add_argument("--access-log", action="store_true", help="profile the access-log variant")
    p.add_argument("--save", help="keep the raw cProfile file here")
    args = p.parse_args()

    server = run.BY_NAME["cyclone2-accesslog" if args.access_log else "cyclone2"]
    run.ensure_env(server)
    fd, stats_path = tempfile.mkstemp(prefix="cyclone2-profile-", suffix=".pstats")
    os.close(fd)
    if args.save:
        stats_path = str(Path(args.save).resolve())
    run.RESULTS.mkdir(exist_ok=True)
    running = run.Running(
        server,
        run.free_port(),
        run.RESULTS / "server-profile.log.raw",
        extra_env={"BENCH_PROFILE": stats_path},
    )
    try:
        running.wait_ready()
        run.verify(running)
        result = run.run_wrk(running.port, args.path, args.duration, args.close)
    finally:
        running.stop()
    requests = result["requests"] + 6  # the six verification requests
    print(
        f"wrk: {result['rps']:.0f} req/s under cProfile, {result['requests']} requests, "
        f"p50 {result['latency_us']['p50'] / 1000:.2f} ms, errors {result['errors']}"
    )
    stats = pstats.Stats(stats_path)
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())
    print(f"top {args.top} by {args.sort}, calls per request ({requests} requests):")
    rows = []
    for (filename, line, func), (_cc, ncalls, tt, ct, _callers) in stats.stats.items():
        rows.append((tt, ct, ncalls, f"{_short(filename)}:{line}({func})"))
    key = 1 if args.sort.startswith("cum") else 0
    rows.sort(key=lambda r: r[key], reverse=True)
    total = sum(r[0] for r in rows)
    print(f"{'self %':>7s} {'self us/req':>11s} {'cum us/req':>10s} {'calls/req':>9s}  function")
    for tt, ct, ncalls, name in rows[: args.top]:
        print(
            f"{100 * tt / total:6.1f}% {1e6 * tt / requests:11.2f} {1e6 * ct / requests:10.2f} "
            f"{ncalls / requests:9.2f}  {name}"
        )
    if not args.save:
        os.unlink(stats_path)
    return 0


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/work/main/", "/lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


if __name__ == "__main__":
    sys.exit(main())
