"""hello under twistd and helloworld under ``cyclone run``: real processes, real clients."""

from __future__ import annotations

import json
import signal
import urllib.request

from demo_support import CYCLONE, TWISTD
from servers import free_port


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def test_hello_is_served_by_twistd(demo_process):
    port = free_port()
    server = demo_process(
        [TWISTD, "-n", "--pidfile=", "cyclone", "-r", "demos.hello.app.application",
         "-p", str(port)],
        port,
    )  # fmt: skip
    assert get(f"http://127.0.0.1:{port}/")[2] == b"Hello, world"
    # twistd stops cleanly, then reports the signal that stopped it as its exit status.
    assert server.stop(signal.SIGTERM) == -signal.SIGTERM, server.output()
    assert "Server Shut Down." in server.output()
    assert "GET /" in server.output()


def test_helloworld_is_served_by_cyclone_run(demo_process):
    port = free_port()
    server = demo_process(
        [*CYCLONE, "run", "-r", "demos.helloworld.app.Application", "-p", str(port)], port
    )
    base = f"http://127.0.0.1:{port}"
    status, kind, body = get(base + "/")
    assert status == 200 and kind.startswith("text/html")
    assert b'href="/static/demo.css"' in body and b'action="/hello"' in body
    assert get(base + "/static/demo.css")[1].startswith("text/css")
    assert json.loads(get(base + "/hello?name=you")[2]) == {"greeting": "Hello, you"}
    assert json.loads(get(base + "/hello")[2]) == {"greeting": "Hello, world"}
    assert server.stop(signal.SIGINT) == 0, server.output()
