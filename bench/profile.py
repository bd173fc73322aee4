"""Profile cyclone 2's hot path: the cyclone 2 bench app loaded by wrk.

Usage::

    uv run python bench/profile.py [--path /] [--duration 10] [--close] [--top 30]
                                   [--access-log] [--py-spy] [--save FILE]

The server runs pinned to core 0 and wrk loads it from core 1 (the same
commands as ``bench/run.py``); the server is stopped by its PID afterwards.

Default, cProfile: ``BENCH_PROFILE=FILE`` makes the app run its reactor under
cProfile. Every function is listed with its self time and how often it ran per
request. cProfile slows the server down several times and inflates small
functions; use it for call counts and the split between functions.

``--py-spy``: the server runs at full speed while py-spy (installed by this
script into ``bench/.envs/tools``) samples it from core 1; functions are listed
by the share of samples in which they are the innermost frame (self) or on the
stack at all (inclusive).
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import run

TOOLS = harness.Server("tools", "profiling tools", "", install=[["py-spy"]])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--path", default="/", help="URL path wrk requests (/)")
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--close", action="store_true", help="send Connection: close")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--access-log", action="store_true", help="profile the access-log variant")
    p.add_argument("--py-spy", action="store_true", help="sample with py-spy instead of cProfile")
    p.add_argument("--save", help="keep the raw profile (pstats or py-spy raw) here")
    args = p.parse_args()

    server = harness.BY_NAME["cyclone2-accesslog" if args.access_log else "cyclone2"]
    harness.ensure_env(server)
    if args.py_spy:
        harness.ensure_env(TOOLS)
    fd, out_path = tempfile.mkstemp(prefix="cyclone2-profile-")
    os.close(fd)
    if args.save:
        out_path = str(Path(args.save).resolve())
    harness.RESULTS.mkdir(exist_ok=True)
    extra_env = {} if args.py_spy else {"BENCH_PROFILE": out_path}
    running = harness.Running(
        server, harness.free_port(), harness.RESULTS / "server-profile.log.raw", extra_env=extra_env
    )
    spy = None
    try:
        running.wait_ready()
        run.verify(running)
        if args.py_spy:
            spy = subprocess.Popen(
                [
                    "taskset",
                    "-c",
                    harness.CLIENT_CPU,
                    str(TOOLS.python.parent / "py-spy"),
                    "record",
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--rate",
                    "250",
                    "--duration",
                    f"{max(1, int(args.duration) - 1)}",
                    "--pid",
                    str(running.proc.pid),
                    "--output",
                    out_path,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        result = run.run_wrk(running.port, args.path, args.duration, args.close)
        if spy is not None:
            spy.wait(timeout=60)
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
            spy.wait()
        running.stop()
    tool = "py-spy sampling" if args.py_spy else "cProfile"
    print(
        f"wrk: {result['rps']:.0f} req/s under {tool}, {result['requests']} requests, "
        f"p50 {result['latency_us']['p50'] / 1000:.2f} ms, errors {result['errors']}"
    )
    if args.py_spy:
        print_py_spy(out_path, args.top)
    else:
        print_cprofile(out_path, args.top, result["requests"] + 6)  # + the verify requests
    if not args.save:
        os.unlink(out_path)
    return 0


def print_cprofile(path: str, top: int, requests: int) -> None:
    stats = pstats.Stats(path)
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("tottime").print_stats(top)
    print(out.getvalue())
    rows = []
    for (filename, line, func), (_cc, ncalls, tt, ct, _callers) in stats.stats.items():
        rows.append((tt, ct, ncalls, f"{_short(filename)}:{line}({func})"))
    rows.sort(key=lambda r: r[0], reverse=True)
    total = sum(r[0] for r in rows)
    print(f"top {top} by self time ({requests} requests):")
    print(f"{'self %':>7s} {'self us/req':>11s} {'cum us/req':>10s} {'calls/req':>9s}  function")
    for tt, ct, ncalls, name in rows[:top]:
        print(
            f"{100 * tt / total:6.1f}% {1e6 * tt / requests:11.2f} {1e6 * ct / requests:10.2f} "
            f"{ncalls / requests:9.2f}  {name}"
        )


def print_py_spy(path: str, top: int) -> None:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # the first frame is the thread; "func (path:line)" is counted per function
        frames = [_short(f).rsplit(":", 1)[0] + ")" for f in stack.split(";")[1:]]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    print(f"{total} samples; top {top} by self (innermost frame):")
    print(f"{'self %':>7s} {'incl %':>7s}  function")
    for name, count in own.most_common(top):
        print(f"{100 * count / total:6.1f}% {100 * inclusive[name] / total:6.1f}%  {name}")
    print(f"\ntop {top} by inclusive share:")
    for name, count in inclusive.most_common(top):
        print(f"{100 * own[name] / total:6.1f}% {100 * count / total:6.1f}%  {name}")


def _short(name: str) -> str:
    for marker in ("/site-packages/", "/work/main/", "/lib/python3.11/"):
        if marker in name:
            head, _, tail = name.partition(marker)
            # py-spy frames look like "function (path:line)"
            prefix = head.rsplit("(", 1)[0] + "(" if "(" in head else ""
            return prefix + tail
    return name


if __name__ == "__main__":
    sys.exit(main())
