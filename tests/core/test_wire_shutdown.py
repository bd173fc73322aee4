"""Graceful shutdown and clients that go away.

When the last listening port stops, idle keep-alive connections are closed by
the server while a request in flight still gets its whole response; ``drained()``
fires when the last connection is gone. A client that disconnects mid-request
triggers ``on_connection_close`` (and only then).
"""

from __future__ import annotations

import pytest
from twisted.internet import reactor, task
from waiting import wait_until
from wire import Client

import cyclone.web
from cyclone.testing import call, listen_tcp

H = "Host: example.com\r\n"
EVENTS: list[str] = []


class SlowHandler(cyclone.web.RequestHandler):
    async def get(self):
        EVENTS.append(f"started {self.request.uri}")
        await task.deferLater(reactor, float(self.get_argument("d", "0.3")), lambda: None)
        self.write("slow done")

    def on_connection_close(self):
        EVENTS.append(f"closed {self.request.uri}")

    def on_finish(self):
        EVENTS.append(f"finished {self.request.uri}")


class FastHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write("fast")

    def on_connection_close(self):
        EVENTS.append("closed fast")


def make_app(**settings):
    return cyclone.web.Application([(r"/slow", SlowHandler), (r"/fast", FastHandler)], **settings)


@pytest.fixture(autouse=True)
def clear_events():
    EVENTS.clear()


def test_stop_listening_closes_idle_connections_and_finishes_inflight(serve):
    app = make_app()
    port = listen_tcp(app)
    number = port.getHost().port
    with Client(number) as idle, Client(number) as busy:
        idle.send(f"GET /fast HTTP/1.1\r\n{H}\r\n".encode())
        assert idle.response().body == b"fast"
        busy.send(f"GET /slow HTTP/1.1\r\n{H}\r\n".encode())
        wait_until(lambda: "started /slow" in EVENTS)
        call(port.stopListening)
        assert idle.is_closed(timeout=1)
        response = busy.response()
        assert (response.status, response.body) == (200, b"slow done")
        assert response.header("Connection") == "close"
        assert busy.is_closed(timeout=1)
    assert call(app.drained) is None
    assert not app.connections


def test_new_requests_on_a_draining_connection_are_not_read(serve):
    app = make_app()
    port = listen_tcp(app)
    with Client(port.getHost().port) as client:
        client.send(f"GET /slow?d=0.2 HTTP/1.1\r\n{H}\r\n".encode())
        wait_until(lambda: "started /slow?d=0.2" in EVENTS)
        call(port.stopListening)
        client.send(f"GET /fast HTTP/1.1\r\n{H}\r\n".encode())
        first = client.response()
        assert first.body == b"slow done"
        assert client.is_closed()  # the request sent after the stop is not answered


def test_drained_fires_when_the_last_connection_closes(serve):
    app = make_app()
    port = listen_tcp(app)
    with Client(port.getHost().port) as client:
        client.send(f"GET /fast HTTP/1.1\r\n{H}\r\n".encode())
        client.response()
        drained = []
        call(lambda: app.drained().addCallback(drained.append) and None)
        assert drained == []
        client.close()
        wait_until(lambda: drained == [None])
    call(port.stopListening)


def test_drained_with_timeout_aborts_stuck_connections(serve):
    app = make_app()
    port = listen_tcp(app)
    with Client(port.getHost().port) as client:
        client.send(f"GET /slow?d=5 HTTP/1.1\r\n{H}\r\n".encode())
        wait_until(lambda: "started /slow?d=5" in EVENTS)
        call(port.stopListening)
        call(app.drained, 0.1)
        assert client.is_closed(timeout=1)
        assert client.buf == b""
    wait_until(lambda: "closed /slow?d=5" in EVENTS)


def test_client_disconnect_mid_request_runs_on_connection_close(serve):
    port = serve(make_app())
    with Client(port) as client:
        client.send(f"GET /slow?d=0.2 HTTP/1.1\r\n{H}\r\n".encode())
        wait_until(lambda: "started /slow?d=0.2" in EVENTS)
    wait_until(lambda: "closed /slow?d=0.2" in EVENTS)


def test_on_connection_close_does_not_run_after_a_normal_finish(serve):
    app = make_app()
    port = serve(app)
    with Client(port) as client:
        client.send(f"GET /slow?d=0.01 HTTP/1.1\r\n{H}\r\nGET /fast HTTP/1.1\r\n{H}\r\n".encode())
        assert [r.body for r in client.responses(2)] == [b"slow done", b"fast"]
    wait_until(lambda: "finished /slow?d=0.01" in EVENTS)
    # A wrongly-wired close callback would run when the server handles the
    # disconnect: wait until it has, then let that reactor turn end.
    wait_until(lambda: not app.connections)
    call(lambda: None)
    assert EVENTS == ["started /slow?d=0.01", "finished /slow?d=0.01"]


@pytest.mark.parametrize(
    "extra",
    [b"X", f"GET /fast HTTP/1.1\r\n{H}\r\n".encode()],
    ids=["stray-byte", "pipelined-request"],
)
def test_bytes_after_a_final_request_do_not_defeat_the_lingering_close(serve, extra):
    # After the response to a "Connection: close" request the server discards what
    # follows until the peer's FIN; it must see that FIN and let go of the socket at
    # once instead of holding the descriptor for the whole close grace.
    app = make_app(close_grace=30.0)
    port = listen_tcp(app)
    try:
        with Client(port.getHost().port) as client:
            client.send(f"GET /fast HTTP/1.1\r\n{H}Connection: close\r\n\r\n".encode() + extra)
            response = client.response()
            assert (response.status, response.body) == (200, b"fast")
            assert client.is_closed(timeout=2)
            wait_until(lambda: len(app.connections) == 1, timeout=2)
            client.shutdown_write()
            wait_until(lambda: not app.connections, timeout=3)
    finally:
        call(port.stopListening)


def test_a_half_closed_idle_peer_gets_only_the_short_grace_at_shutdown(serve):
    app = make_app(close_grace=30.0, idle_close_grace=0.3)
    port = listen_tcp(app)
    with Client(port.getHost().port) as client:
        client.send(f"GET /fast HTTP/1.1\r\n{H}\r\n".encode())
        assert client.response().body == b"fast"
        call(port.stopListening)
        # The client never closes its side; the server aborts after idle_close_grace,
        # well before close_grace (30 s) would.
        wait_until(lambda: not app.connections, timeout=3)
        assert client.is_closed(timeout=1)
