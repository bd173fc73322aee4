"""Message framing over real sockets: keep-alive, pipelining, 100-continue, chunked, HEAD.

Each test asserts what a client sees: the status lines in order, the framing
headers, the body bytes, and whether the server kept or closed the connection.
"""

from __future__ import annotations

import json
import socket
import threading

import pytest
from twisted.internet import reactor, task
from waiting import wait_until
from wire import Client, exchange

import cyclone.web
from cyclone.httpserver import HTTPOutputError, HTTPServer
from cyclone.testing import call

H = "Host: example.com\r\n"


class EchoHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write(
            {
                "uri": self.request.uri,
                "version": self.request.version,
                "body": self.request.body.decode("latin-1"),
            }
        )

    post = put = head = get


class SlowHandler(cyclone.web.RequestHandler):
    async def get(self):
        delay = float(self.get_argument("d", "0.05"))
        await task.deferLater(reactor, delay, lambda: None)
        self.write({"uri": self.request.uri})


class FlushHandler(cyclone.web.RequestHandler):
    async def get(self):
        self.write("first,")
        await self.flush()
        await task.deferLater(reactor, 0.01, lambda: None)
        self.write("second,")
        await self.flush()
        self.write("last")


class StatusHandler(cyclone.web.RequestHandler):
    def get(self, code):
        self.set_status(int(code))


def answers_a_marker(client: Client) -> bool:
    """The connection is still open and nothing came unasked: a marker request on
    it is answered, and its response is the first thing the server sends."""
    if client.buf or client.eof:
        return False
    client.send(f"GET /marker HTTP/1.1\r\n{H}\r\n".encode())
    response = client.response()
    return (
        response.status == 200
        and json.loads(response.body)["uri"] == "/marker"
        and response.header("Connection") is None
    )


@pytest.fixture
def port(serve):
    return serve(
        cyclone.web.Application(
            [
                (r"/slow", SlowHandler),
                (r"/flush", FlushHandler),
                (r"/status/(\d+)", StatusHandler),
                (r"/.*", EchoHandler),
            ],
            max_body_size=1000,
        )
    )


# -- keep-alive -----------------------------------------------------------------------


def test_http11_keeps_the_connection_open_by_default(port):
    with Client(port) as client:
        for i in range(3):
            client.send(f"GET /{i} HTTP/1.1\r\n{H}\r\n".encode())
            response = client.response()
            assert response.status == 200
            assert json.loads(response.body)["uri"] == f"/{i}"
            assert response.header("Connection") is None
        assert answers_a_marker(client)


def test_http11_connection_close_is_honoured(port):
    with Client(port) as client:
        client.send(f"GET / HTTP/1.1\r\n{H}Connection: close\r\n\r\n".encode())
        response = client.response()
        assert response.status == 200
        assert response.header("Connection") == "close"
        assert client.is_closed()


def test_http10_closes_by_default(port):
    with Client(port) as client:
        client.send(b"GET / HTTP/1.0\r\n\r\n")
        response = client.response()
        assert response.status == 200
        assert response.header("Connection") == "close"
        assert json.loads(response.body)["version"] == "HTTP/1.0"
        assert client.is_closed()


def test_http10_keep_alive_is_honoured_and_announced(port):
    with Client(port) as client:
        for i in range(2):
            client.send(f"GET /{i} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".encode())
            response = client.response()
            assert response.status == 200
            assert response.header("Connection") == "keep-alive"
            assert response.header("Content-Length") is not None
        client.send(b"GET /last HTTP/1.0\r\n\r\n")
        assert client.response().header("Connection") == "close"
        assert client.is_closed()


@pytest.mark.parametrize(
    "first",
    [f"GET /a HTTP/1.1\r\n{H}Connection: close\r\n\r\n", "GET /a HTTP/1.0\r\n\r\n"],
    ids=["http11-connection-close", "http10"],
)
def test_nothing_after_a_final_request_is_answered(port, first):
    responses, closed = exchange(port, (first + f"GET /b HTTP/1.1\r\n{H}\r\n").encode())
    assert [json.loads(r.body)["uri"] for r in responses] == ["/a"]
    assert closed


# -- pipelining -----------------------------------------------------------------------


def test_pipelined_requests_are_answered_in_order_behind_a_slow_one(port):
    data = (
        f"GET /slow?d=0.2 HTTP/1.1\r\n{H}\r\n"
        f"GET /fast HTTP/1.1\r\n{H}\r\n"
        f"GET /slow?d=0.01 HTTP/1.1\r\n{H}\r\n"
        f"POST /post HTTP/1.1\r\n{H}Content-Length: 3\r\n\r\nabc"
        f"GET /end HTTP/1.1\r\n{H}Connection: close\r\n\r\n"
    )
    responses, closed = exchange(port, data.encode())
    uris = [json.loads(r.body)["uri"] for r in responses]
    assert uris == ["/slow?d=0.2", "/fast", "/slow?d=0.01", "/post", "/end"]
    assert json.loads(responses[3].body)["body"] == "abc"
    assert closed


EVENTS: list[str] = []


class LoggingHandler(cyclone.web.RequestHandler):
    async def get(self, delay):
        EVENTS.append(f"get {self.request.path}")
        await task.deferLater(reactor, float(delay), lambda: None)

    def on_finish(self):
        EVENTS.append(f"on_finish {self.request.path}")


def test_next_pipelined_request_starts_after_on_finish(serve):
    EVENTS.clear()
    port = serve(cyclone.web.Application([(r"/log/(.*)", LoggingHandler)]))
    responses, _ = exchange(
        port,
        f"GET /log/0.05 HTTP/1.1\r\n{H}\r\nGET /log/0 HTTP/1.1\r\n{H}\r\n"
        f"GET /log/0.01 HTTP/1.1\r\n{H}Connection: close\r\n\r\n".encode(),
    )
    assert [r.status for r in responses] == [200, 200, 200]
    wait_until(lambda: len(EVENTS) == 6)
    assert EVENTS == [
        "get /log/0.05",
        "on_finish /log/0.05",
        "get /log/0",
        "on_finish /log/0",
        "get /log/0.01",
        "on_finish /log/0.01",
    ]


class GatedHandler(cyclone.web.RequestHandler):
    """Answers only once the test opens the gate; records the connection's queue length."""

    gate: list = []
    max_queue = [0]

    def get(self):
        conn = self.request.connection
        GatedHandler.max_queue[0] = max(GatedHandler.max_queue[0], len(conn._queue))
        self._auto_finish = False
        if GatedHandler.gate:
            self.finish(self.request.uri)
        else:
            GatedHandler.waiting.append(self)

    waiting: list = []


def test_pipelining_cap_pauses_reading_and_answers_everything_in_order(serve):
    cap = 4
    GatedHandler.gate.clear()
    GatedHandler.waiting.clear()
    GatedHandler.max_queue[0] = 0
    port = serve(cyclone.web.Application([(r"/.*", GatedHandler)], max_pipelined_requests=cap))
    padding = "x" * 1000  # about four requests per 4 KiB slice
    count = 600
    data = b"".join(
        f"GET /{i} HTTP/1.1\r\n{H}X-Pad: {padding}\r\n\r\n".encode() for i in range(count)
    )
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
    sock.connect(("127.0.0.1", port))
    with Client(sock=sock, timeout=10) as client:
        sender = threading.Thread(target=client.send, args=(data,))
        sender.start()
        wait_until(lambda: GatedHandler.waiting)

        def server_side():
            conn = GatedHandler.waiting[0].request.connection
            return len(conn._queue), len(conn._pending), conn._reading_paused

        assert list(GatedHandler.waiting[0].application.connections) == [
            GatedHandler.waiting[0].request.connection
        ]
        wait_until(lambda: server_side()[2])
        queued, pending, _ = server_side()
        assert queued <= cap + 5
        # Reading stopped: what the server holds is bounded by one socket read.
        assert pending <= 70 * 1024
        # Positive signal: requests on other connections are answered (a 400 from
        # the wire, no handler), so the server's reactor has turned since it paused.
        for _ in range(3):
            with Client(port) as marker:
                marker.send(b"GET /marker HTTP/1.1\r\n\r\n")  # no Host: 400
                assert marker.response().status == 400
        assert sender.is_alive()  # the client cannot push the rest in
        assert server_side()[:2] == (queued, pending)
        GatedHandler.gate.append(True)
        call(lambda: [h.finish(h.request.uri) for h in GatedHandler.waiting])
        responses = client.responses(count)
        sender.join(5)
    assert [r.body.decode() for r in responses] == [f"/{i}" for i in range(count)]
    assert GatedHandler.max_queue[0] <= cap + 5


# -- 100-continue -----------------------------------------------------------------


def test_expect_100_continue_gets_interim_then_final_response(port):
    with Client(port) as client:
        client.send(
            f"POST /e HTTP/1.1\r\n{H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        interim = client.response()
        assert (interim.status, interim.body) == (100, b"")
        client.send(b"hello")
        final = client.response()
        assert final.status == 200
        assert json.loads(final.body)["body"] == "hello"
        assert answers_a_marker(client)


def test_100_continue_waits_for_earlier_pipelined_responses(port):
    with Client(port) as client:
        client.send(
            f"GET /slow?d=0.1 HTTP/1.1\r\n{H}\r\n"
            f"POST /e HTTP/1.1\r\n{H}Content-Length: 2\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        first = client.response()
        assert first.status == 200 and b"/slow" in first.body
        assert client.response().status == 100
        client.send(b"ok")
        assert json.loads(client.response().body)["body"] == "ok"


def test_unknown_expectation_gets_417(port):
    responses, closed = exchange(
        port, f"POST /e HTTP/1.1\r\n{H}Content-Length: 2\r\nExpect: teapot\r\n\r\nok".encode()
    )
    assert [r.status for r in responses] == [417]
    assert closed


def test_too_large_body_with_expect_gets_413_without_100(port):
    with Client(port) as client:
        client.send(
            f"POST /e HTTP/1.1\r\n{H}Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        response = client.response()
        assert response.status == 413
        assert client.is_closed()


def test_expect_in_http10_is_ignored(port):
    responses, _ = exchange(
        port, b"POST /e HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nok"
    )
    assert [r.status for r in responses] == [200]
    assert json.loads(responses[0].body)["body"] == "ok"


# -- chunked request bodies -------------------------------------------------------------


def test_chunked_request_body_is_decoded_across_packets(port):
    chunks = [b"a" * 10, b"b" * 300, b"c" * 500, b"\r\n0\r\n"]
    encoded = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(c), c) for c in chunks)
    encoded += b"0\r\nX-Trailer: yes\r\n\r\n"
    with Client(port) as client:
        client.send(f"POST /c HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n".encode())
        for i in range(0, len(encoded), 7):
            client.send(encoded[i : i + 7])
        response = client.response()
    assert response.status == 200
    assert json.loads(response.body)["body"].encode() == b"".join(chunks)


def test_chunked_request_body_over_the_limit_gets_413(port):
    body = b"800\r\n" + b"x" * 0x800 + b"\r\n0\r\n\r\n"
    responses, closed = exchange(
        port, f"POST /c HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n".encode() + body
    )
    assert [r.status for r in responses] == [413]
    assert closed


def test_declared_body_over_the_limit_gets_413(port):
    responses, closed = exchange(
        port, f"POST /c HTTP/1.1\r\n{H}Content-Length: 1001\r\n\r\n".encode() + b"x" * 1001
    )
    assert [r.status for r in responses] == [413]
    assert closed


# -- response framing ------------------------------------------------------------------


def test_flushed_response_is_chunked_for_http11(port):
    with Client(port) as client:
        client.send(f"GET /flush HTTP/1.1\r\n{H}\r\n".encode())
        response = client.response()
        assert response.chunked
        assert response.header("Content-Length") is None
        assert response.body == b"first,second,last"
        client.send(f"GET /after HTTP/1.1\r\n{H}\r\n".encode())
        assert client.response().status == 200


def test_flushed_response_is_close_delimited_for_http10(port):
    with Client(port) as client:
        client.send(b"GET /flush HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        data = client.read_all()
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head and b"Content-Length" not in head
    assert b"Connection: close" in head
    assert body == b"first,second,last"


def test_head_has_content_length_but_no_body(port):
    with Client(port) as client:
        client.send(f"GET /same HTTP/1.1\r\n{H}\r\n".encode())
        get = client.response()
        client.send(f"HEAD /same HTTP/1.1\r\n{H}\r\nGET /next HTTP/1.1\r\n{H}\r\n".encode())
        head = client.response(head=True)
        assert head.status == 200
        assert head.header("Content-Length") == get.header("Content-Length") != "0"
        # No body bytes leaked: the next response starts right after the head.
        assert client.buf.startswith(b"HTTP/1.1 200") or client.response().status == 200


@pytest.mark.parametrize("code", [204, 304])
def test_handler_204_and_304_have_no_body(port, code):
    with Client(port) as client:
        client.send(f"GET /status/{code} HTTP/1.1\r\n{H}\r\nGET /next HTTP/1.1\r\n{H}\r\n".encode())
        response = client.response()
        assert response.status == code
        assert response.header("Transfer-Encoding") is None
        if code == 204:
            assert response.header("Content-Length") is None
        following = client.response()
        assert following.status == 200 and b"/next" in following.body


class RawServer(HTTPServer):
    """Answers straight through the connection API, bypassing the web layer."""

    errors: list

    def request_callback(self, request):
        conn = request.connection
        path = request.path
        if path.startswith("/code/"):
            code = int(path[6:])
            conn.send_response(request, code, "X", {"Content-Length": "5"}, None, b"hello", True)
        elif path == "/interim":
            conn.send_response(request, 103, "Early Hints", {"Link": "</a>"}, None, b"x", True)
        elif path == "/overflow":
            try:
                conn.send_response(
                    request, 200, "OK", {"Content-Length": "3"}, None, b"toolong", True
                )
            except HTTPOutputError as e:
                self.errors.append(str(e))
        elif path == "/short":
            conn.send_response(request, 200, "OK", {"Content-Length": "10"}, None, b"abc", True)
        else:
            conn.send_response(request, 200, "OK", {}, None, path.encode(), True)


@pytest.fixture
def raw_port(serve):
    server = RawServer()
    server.errors = []
    return serve(server), server


@pytest.mark.parametrize("code", [204, 304, 103])
def test_connection_never_sends_a_body_with_1xx_204_304(raw_port, code):
    port, _ = raw_port
    with Client(port) as client:
        client.send(f"GET /code/{code} HTTP/1.1\r\n{H}\r\nGET /next HTTP/1.1\r\n{H}\r\n".encode())
        response = client.response()
        assert response.status == code
        if code != 304:  # a 304 may announce the length of the representation
            assert response.header("Content-Length") is None
        following = client.response()
        assert (following.status, following.body) == (200, b"/next")


def test_writing_more_than_content_length_aborts(raw_port):
    port, server = raw_port
    with Client(port) as client:
        client.send(f"GET /overflow HTTP/1.1\r\n{H}\r\n".encode())
        data = client.read_all()
    assert b"toolong" not in data
    assert server.errors and "Content-Length" in server.errors[0]


def test_writing_less_than_content_length_closes(raw_port):
    port, _ = raw_port
    with Client(port) as client:
        client.send(f"GET /short HTTP/1.1\r\n{H}\r\nGET /next HTTP/1.1\r\n{H}\r\n".encode())
        data = client.read_all()
    assert data.endswith(b"\r\n\r\nabc")  # the client sees a truncated body and EOF
    assert b"/next" not in data
