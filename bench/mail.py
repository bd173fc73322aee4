"""Mail benchmark: 1,000 small messages to a local aiosmtpd, cyclone 2 against aiosmtplib.

Usage::

    uv run python bench/mail.py [--count 1000] [--passes 3] [--quick] [--write-docs]
    uv run python bench/mail.py --report bench/results/mail-latest.json   # docs only

The server (``bench/apps/mail_sink.py``: aiosmtpd, plain SMTP, counting what it
takes) runs pinned to core 0, each client run (``bench/mail_client.py``) to
core 1, on 127.0.0.1 only. Four rows: cyclone 2's ``send_many`` (one connection)
and ``send`` one by one (a connection per message);
aiosmtplib on one ``SMTP`` session (``send_message`` in a loop) and
``aiosmtplib.send`` one by one. aiosmtplib runs from ``bench/.envs/aiosmtplib``,
made with the harness's ``ensure_env``. Before each pass the harness waits for
the machine to be quiet; the rows take turns within each pass, and the median
of the passes is reported.

A full run writes ``bench/results/mail-latest.json`` and the mail section of
``docs/benchmarks.md`` (before the RPC and WebSocket sections); ``--quick``
writes ``bench/results/mail-STAMP-partial.raw`` only, unless ``--write-docs``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

CLIENT = harness.BENCH / "mail_client.py"
MARKER = "## Mail benchmark"
NEXT_MARKERS = ("## RPC benchmark", "## WebSocket benchmark")
PEER = harness.Server("aiosmtplib", "aiosmtplib", "", install=[["aiosmtplib==5.*"]])
ROWS = [
    ("cyclone2-batch", "cyclone 2 `send_many` (one connection)", "cyclone", "batch"),
    ("aiosmtplib-batch", "aiosmtplib, one `SMTP` session", "aiosmtplib", "batch"),
    ("cyclone2-each", "cyclone 2 `send`, one by one", "cyclone", "each"),
    ("aiosmtplib-each", "`aiosmtplib.send`, one by one", "aiosmtplib", "each"),
]
TARGET = 1.0  # send_many against aiosmtplib on one connection


def run_client(client: str, mode: str, port: int, count: int) -> float:
    python = harness.REPO_PYTHON if client == "cyclone" else PEER.python
    argv = ["taskset", "-c", harness.CLIENT_CPU, str(python), str(CLIENT), client, mode]
    out = subprocess.run(
        [*argv, str(port), str(count)], check=True, capture_output=True, text=True, timeout=600
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["messages"] / result["seconds"]


def measure(args: argparse.Namespace) -> dict:
    harness.ensure_env(PEER)
    port = harness.free_port()
    sink = harness.Server("mail-sink", "aiosmtpd", "mail_sink.py")
    log_path = harness.RESULTS / "mail-sink.log.raw"
    running = harness.Running(sink, port, log_path)
    rows: dict[str, dict] = {}
    try:
        running.wait_ready()
        counts = {key: args.count if mode == "batch" else max(50, args.count // 2)
                  for key, _, _, mode in ROWS}  # fmt: skip
        rates: dict[str, list[float]] = {key: [] for key, *_ in ROWS}
        for _, _, client, mode in ROWS:
            run_client(client, mode, port, 100)  # warm-up
        # The rows take turns within each pass, so a busy spell of the machine
        # weighs on both clients rather than on one row.
        for number in range(args.passes):
            for key, _, client, mode in ROWS:
                harness.wait_for_quiet(args.quiet_wait)
                rates[key].append(run_client(client, mode, port, counts[key]))
                harness.log(f"pass {number + 1} {key}: {rates[key][-1]:.0f} messages/s")
        for key, label, _, _ in ROWS:
            rows[key] = {"label": label, "messages": counts[key], "rates": rates[key],
                         "median": statistics.median(rates[key])}  # fmt: skip
    finally:
        running.stop()
    versions = {"python": harness.python_version(harness.REPO_PYTHON)}
    for line in harness.freeze(PEER):
        if line.lower().startswith("aiosmtplib=="):
            versions["aiosmtplib"] = line.partition("==")[2]
    code = "import aiosmtpd, twisted; print(aiosmtpd.__version__, twisted.__version__)"
    repo = subprocess.run(
        [str(harness.REPO_PYTHON), "-c", code], capture_output=True, text=True, check=True
    )
    versions["aiosmtpd"], versions["twisted"] = repo.stdout.split()
    return {
        "meta": {
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "passes": args.passes, "count": args.count, "cpu": harness.cpu_model(),
            "revision": harness.git_revision(), "versions": versions,
        },
        "rows": rows,
    }  # fmt: skip


def render(results: dict) -> str:
    """The mail section of docs/benchmarks.md."""
    meta, rows = results["meta"], results["rows"]
    lines = [
        MARKER,
        "",
        "Small messages (one recipient, a short text body) sent to a local aiosmtpd",
        "(plain SMTP, `bench/apps/mail_sink.py`, on core 0) by one client process on",
        "core 1: cyclone 2's mailer (twisted.mail's ESMTP client) against",
        "[aiosmtplib](https://pypi.org/project/aiosmtplib/). Produced by",
        f"`uv run python bench/mail.py` on {meta['date']} ({meta['passes']} passes, medians;",
        f"{meta['count']} messages per batch pass, half as many one by one; {meta['cpu']}).",
        "",
        "| client | messages/s | passes |",
        "|---|---:|---|",
    ]
    for row in rows.values():
        passes = ", ".join(f"{r:.0f}" for r in row["rates"])
        lines.append(f"| {row['label']} | {row['median']:,.0f} | {passes} |")
    lines += ["", "Ratios (cyclone 2 messages/s divided by aiosmtplib's):", ""]
    for mode, what in (("batch", "one connection"), ("each", "a connection per message")):
        base, peer = rows.get(f"cyclone2-{mode}"), rows.get(f"aiosmtplib-{mode}")
        if base and peer and peer["median"]:
            ratio = base["median"] / peer["median"]
            goal = ""
            if mode == "batch":
                goal = f" (target ≥ {TARGET:.1f}x: {'met' if ratio >= TARGET else 'not met'})"
            lines.append(f"- {what}: {ratio:.2f}x{goal}")
    lines += [
        "",
        "The machine is shared with test suites: the absolute rates move with its load;",
        "the rows take turns within each pass, so read the ratios.",
        "",
        "Both clients wait for each reply before the next command (aiosmtpd offers no",
        "PIPELINING): four round trips per message (MAIL, RCPT, DATA, the data), so on",
        "loopback the server's turn-around and the scheduling of two processes bound",
        "both. A connection per message adds the greeting, EHLO and QUIT to each.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        "",
    ]
    return "\n".join(lines)


def write_docs(results: dict) -> None:
    """Put the mail section into docs/benchmarks.md, before the RPC and WebSocket sections."""
    text = harness.DOCS.read_text() if harness.DOCS.exists() else "# Benchmarks\n"
    section = render(results)
    start = text.find("\n" + MARKER)
    if start >= 0:
        ends = [text.find("\n" + m, start + 1) for m in NEXT_MARKERS]
        ends = [e for e in ends if e >= 0]
        rest = text[min(ends) + 1 :] if ends else ""
        text = text[: start + 1] + section + ("\n" + rest if rest else "")
    else:
        ends = [text.find("\n" + m) for m in NEXT_MARKERS]
        ends = [e for e in ends if e >= 0]
        if ends:
            at = min(ends) + 1
            text = text[:at] + section + "\n" + text[at:]
        else:
            text = text.rstrip() + "\n\n" + section
    harness.DOCS.write_text(text)
    harness.log(f"wrote the mail section of {harness.DOCS}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--count", type=int, default=1000, help="messages per batch pass (1000)")
    p.add_argument("--passes", type=int, default=3, help="measured passes per row (3)")
    p.add_argument("--quiet-wait", type=float, default=30.0, help="see run.py (30; 0: never)")
    p.add_argument("--quick", action="store_true", help="1 pass of 200 messages")
    p.add_argument("--write-docs", action="store_true", help="rewrite the docs after --quick")
    p.add_argument("--report", metavar="FILE", help="only re-render the docs from a results file")
    args = p.parse_args(argv)
    if args.report:
        write_docs(json.loads(Path(args.report).read_text()))
        return
    if args.quick:
        args.passes, args.count, args.quiet_wait = 1, 200, min(args.quiet_wait, 5.0)
    results = measure(args)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = "mail-latest.json" if not args.quick else f"mail-{stamp}-partial.raw"
    (harness.RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")
    if not args.quick or args.write_docs:
        write_docs(results)


if __name__ == "__main__":
    main()
