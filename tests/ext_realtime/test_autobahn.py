"""Conformance: the Autobahn test cases, run by kosoku, against the server and the client.

Cases 1-7, 9 and 10 (framing, pings, reserved bits, opcodes, fragmentation,
UTF-8, closing, limits and performance, misc) run in every test run, about
15 s each side. Cases 12 and 13 (permessage-deflate) take minutes: they run
when ``CYCLONE_AUTOBAHN_ALL=1``. ``CYCLONE_AUTOBAHN_OUT=DIR`` keeps kosoku's
reports there. A case FAILED fails the test; NON-STRICT and INFORMATIONAL
are counted in the summary the test prints.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from servers import accepts_connections, free_port
from waiting import wait_until

from cyclone.testing import call
from cyclone.web import Application
from cyclone_ext_realtime import WebSocketHandler, websocket_connect

KOSOKU = str(Path(sys.executable).with_name("kosoku"))
AGENT = "cyclone"

CORE: dict[str, Any] = {"include": [], "exclude": ["12.*", "13.*"], "compression": {}}
# Autobahn's server asks for client_no_context_takeover (13.2, 13.5, 13.6) only from
# clients that offered it, and otherwise declines (UNIMPLEMENTED): offer it.
COMPRESSION: dict[str, Any] = {
    "include": ["12.*", "13.*"],
    "exclude": [],
    "compression": {"no_context_takeover": True},
}
SELECTIONS = [
    pytest.param(CORE, id="cases-1-10", marks=pytest.mark.timeout(300)),
    pytest.param(
        COMPRESSION,
        id="cases-12-13",
        marks=[
            pytest.mark.slow,
            pytest.mark.timeout(1800),
            pytest.mark.skipif(
                os.environ.get("CYCLONE_AUTOBAHN_ALL") != "1",
                reason="compression cases take minutes: set CYCLONE_AUTOBAHN_ALL=1",
            ),
        ],
    ),
]


class Echo(WebSocketHandler):
    def get_compression_options(self) -> dict[str, Any]:
        return {}

    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


def kosoku_args(selection: dict[str, Any], out: Path, port: int) -> list[str]:
    args = []
    for case in selection["include"]:
        args += ["-i", case]
    for case in selection["exclude"]:
        args += ["-x", case]
    return [*args, "-o", str(out), f"127.0.0.1:{port}"]


def outdir(tmp_path: Path, name: str) -> Path:
    base = os.environ.get("CYCLONE_AUTOBAHN_OUT")
    return Path(base) / name if base else tmp_path / name


def summarize(index: Path) -> tuple[dict[str, collections.Counter[str]], list[str]]:
    """Behaviour counts per case group (``"9"``, ``"12"``…) and the cases that FAILED."""
    (cases,) = json.loads(index.read_text()).values()
    groups: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    failed = []
    for case, result in cases.items():
        groups[case.split(".")[0]][result["behavior"]] += 1
        if "FAILED" in (result["behavior"], result["behaviorClose"]):
            failed.append(case)
    return groups, failed


def report(side: str, groups: dict[str, collections.Counter[str]], seconds: float) -> None:
    print(f"\nAutobahn {side}: {seconds:.1f}s")
    for group in sorted(groups, key=int):
        print(f"  {group:>2}.*: {dict(sorted(groups[group].items()))}")


@pytest.mark.parametrize("selection", SELECTIONS)
def test_server(serve, tmp_path, selection):
    port = serve(Application([(r"/", Echo)], websocket_max_message_size=32 << 20))
    out = outdir(tmp_path, "server")
    started = time.monotonic()
    run = subprocess.run(
        [KOSOKU, "-m", "fuzzingclient", "-p", "2", *kosoku_args(selection, out, port)],
        capture_output=True,
        text=True,
        timeout=1700,
    )
    groups, failed = summarize(out / "index.json")
    report("server", groups, time.monotonic() - started)
    assert not failed
    assert run.returncode == 0, run.stdout + run.stderr


async def echo_every_case(base: str, compression: dict[str, Any]) -> None:
    """The Autobahn client loop: echo every message of every case, then ask for reports."""
    conn = await websocket_connect(f"{base}/getCaseCount")
    count = int(await conn.read_message())  # type: ignore[arg-type]
    await conn.closed()
    for case in range(1, count + 1):
        conn = await websocket_connect(
            f"{base}/runCase?case={case}&agent={AGENT}",
            compression=compression,
            max_message_size=32 << 20,
        )
        while (message := await conn.read_message()) is not None:
            try:
                await conn.write_message(message, binary=isinstance(message, bytes))
            except Exception:
                break
        await conn.closed()
    conn = await websocket_connect(f"{base}/updateReports?agent={AGENT}")
    await conn.closed()


@pytest.mark.parametrize("selection", SELECTIONS)
def test_client(tmp_path, selection):
    port = free_port()
    out = outdir(tmp_path, "client")
    server = subprocess.Popen(
        [KOSOKU, "-m", "fuzzingserver", *kosoku_args(selection, out, port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: accepts_connections(port), 20, "kosoku did not start")
        started = time.monotonic()
        call(echo_every_case, f"ws://127.0.0.1:{port}", selection["compression"])
        server.wait(timeout=60)  # kosoku writes its reports and exits after updateReports
        groups, failed = summarize(out / "index.json")
        report("client", groups, time.monotonic() - started)
        assert not failed
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
