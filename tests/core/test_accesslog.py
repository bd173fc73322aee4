"""The access log: buffered, written in batches, complete and in order at a clean stop.

With ``access_log_file`` cyclone writes the lines itself; by default they stay
twisted.logger events (``test_web_output`` checks their fields). Either way a
request's line is recorded as it ends and written at the next flush (every
``access_log_flush_interval`` seconds), and a clean stop writes what is left.
"""

from __future__ import annotations

import http.client
import io
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from client import captured_events, fetch
from servers import accepts_connections, free_port, server_process
from waiting import wait_until

from cyclone import _accesslog
from cyclone._accesslog import AccessLog
from cyclone.web import Application, HTTPError, RequestHandler

LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} \[cyclone\.access#(info|warn|error)\] "
    r"(\d{3}) (\S+) (\S+) \((\S+)\) (\d+\.\d\d)ms$"
)


class Numbered(RequestHandler):
    def get(self, n: str) -> None:
        code = int(self.get_argument("code", "200"))
        if code >= 400:
            raise HTTPError(code)
        self.write(n)


def _lines(path) -> list[re.Match[str]]:
    if not path.exists():
        return []
    text = path.read_text()
    matches = [LINE.match(line) for line in text.splitlines()]
    assert all(matches), text
    return matches  # type: ignore[return-value]


def test_lines_reach_the_file_within_the_interval_while_serving(serve, tmp_path):
    log_path = tmp_path / "access.log"
    app = Application(
        [(r"/n/(\d+)", Numbered)], access_log_file=str(log_path), access_log_flush_interval=0.05
    )
    port = serve(app)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for n in range(5):
        fetch(port, f"/n/{n}", conn=conn)
    fetch(port, "/n/5?code=404", conn=conn)
    fetch(port, "/n/6?code=503", conn=conn)
    conn.close()
    # No stop: the timer writes them.
    wait_until(lambda: len(_lines(log_path)) >= 7)
    lines = _lines(log_path)
    assert [m.group(4) for m in lines] == [
        *(f"/n/{n}" for n in range(5)),
        "/n/5?code=404",
        "/n/6?code=503",
    ]
    assert [m.group(2) for m in lines] == ["200"] * 5 + ["404", "503"]
    assert [m.group(1) for m in lines] == ["info"] * 5 + ["warn", "error"]
    assert {m.group(3) for m in lines} == {"GET"}
    assert {m.group(5) for m in lines} == {"127.0.0.1"}


def test_events_keep_their_fields_and_the_time_the_response_ended(serve):
    app = Application([(r"/n/(\d+)", Numbered)], access_log_flush_interval=0.05)
    port = serve(app)
    with captured_events("cyclone.access") as events:
        before = time.time()
        fetch(port, "/n/1")
        fetch(port, "/n/2?code=404")
        wait_until(lambda: len(events) >= 2)
    assert [(e["status"], e["uri"]) for e in events] == [(200, "/n/1"), (404, "/n/2?code=404")]
    assert events[0]["access_line"].startswith("200 GET /n/1 (127.0.0.1) ")
    assert events[0]["log_level"].name == "info"
    assert events[1]["log_level"].name == "warn"
    assert before <= events[0]["log_time"] <= events[1]["log_time"]


def test_interval_zero_writes_each_line_as_its_request_ends(serve, tmp_path):
    log_path = tmp_path / "access.log"
    app = Application(
        [(r"/n/(\d+)", Numbered)], access_log_file=str(log_path), access_log_flush_interval=0
    )
    port = serve(app)
    fetch(port, "/n/1")
    wait_until(lambda: len(_lines(log_path)) == 1)
    assert app.access_log is not None and app.access_log.buffered == 0


def test_a_full_buffer_is_written_without_waiting(monkeypatch):
    monkeypatch.setattr(_accesslog, "MAX_BUFFERED", 5)
    out = io.BytesIO()
    log = AccessLog(out, flush_interval=60)
    try:
        for n in range(7):
            log.record(200, "GET", f"/{n}", "10.0.0.1", 0.001, 1_700_000_000.0)
        written = out.getvalue().decode().splitlines()
        assert [line.split()[4] for line in written] == [f"/{n}" for n in range(5)]
        assert log.buffered == 2
        log.flush()
        written = out.getvalue().decode().splitlines()
        assert [line.split()[4] for line in written] == [f"/{n}" for n in range(7)]
        assert written[0].endswith("] 200 GET /0 (10.0.0.1) 1.00ms")
    finally:
        log.close()


def test_the_flush_interval_is_bounded_and_typed():
    with pytest.raises(ValueError, match="access_log_flush_interval"):
        Application([], access_log_flush_interval=61)
    with pytest.raises(ValueError, match="access_log_flush_interval"):
        Application([], access_log_flush_interval=-1)
    with pytest.raises(TypeError, match="access_log_flush_interval"):
        Application([], access_log_flush_interval="1")


def test_log_function_replaces_the_buffered_log():
    app = Application([], log_function=lambda handler: None)
    assert app.access_log is None


APP = textwrap.dedent(
    """
    from twisted.internet import reactor, task
    import cyclone.web


    class Numbered(cyclone.web.RequestHandler):
        def get(self, n):
            self.write(n)


    class Slow(cyclone.web.RequestHandler):
        async def get(self):
            open("slow-started", "w").close()
            await task.deferLater(reactor, 1.0, lambda: None)
            self.write("slow done")


    Application = cyclone.web.Application(
        [(r"/n/(\\d+)", Numbered), (r"/slow", Slow)],
        access_log_file="access.log",
        access_log_flush_interval=60,  # longer than the test: only the stop writes
    )
    """
)


def test_a_clean_stop_writes_every_line_in_order(tmp_path):
    (tmp_path / "accesslog_app.py").write_text(APP)
    port = free_port()
    log_path = tmp_path / "access.log"
    command = [sys.executable, "-m", "cyclone", "run", "-r", "accesslog_app.Application"]
    with server_process(
        [*command, "-p", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as proc:
        wait_until(lambda: accepts_connections(port) or proc.poll() is not None, timeout=15)
        assert proc.poll() is None, proc.stdout.read().decode()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for n in range(200):
            assert fetch(port, f"/n/{n}", conn=conn).body == str(n).encode()
        conn.close()
        slow = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        slow.request("GET", "/slow")
        wait_until(lambda: (tmp_path / "slow-started").exists(), timeout=10)
        assert _lines(log_path) == []  # still buffered
        proc.send_signal(signal.SIGTERM)
        # The request in flight finishes after the port closed, and is logged too.
        assert slow.getresponse().read() == b"slow done"
        slow.close()
        assert proc.wait(timeout=15) == 0
    lines = _lines(log_path)
    assert [m.group(4) for m in lines] == [*(f"/n/{n}" for n in range(200)), "/slow"]
    assert {m.group(2) for m in lines} == {"200"}
