"""Size limits and timeouts, with small settings so that every test is quick.

A limit is proved by the client's view: the status code (431, 413, 408), the
``Connection: close`` header and the server closing; a timeout by the server
closing within a bound, and not before.
"""

from __future__ import annotations

import time

import pytest
from wire import Client, exchange

import cyclone.web

H = "Host: example.com\r\n"


class EchoHandler(cyclone.web.RequestHandler):
    def post(self):
        self.write({"size": len(self.request.body)})

    get = post


LIMITS = {
    "max_header_size": 2048,
    "max_headers": 20,
    "max_body_size": 4096,
    "idle_connection_timeout": 0.3,
    "header_timeout": 0.3,
    "body_timeout": 0.3,
}


@pytest.fixture
def port(serve):
    return serve(cyclone.web.Application([(r"/.*", EchoHandler)], **LIMITS))


def assert_refused(port, data, status):
    responses, closed = exchange(port, data)
    assert [r.status for r in responses] == [status]
    assert responses[0].header("Connection") == "close"
    assert closed


# -- sizes ----------------------------------------------------------------------------


def test_long_request_line_gets_431(port):
    assert_refused(port, f"GET /{'a' * 3000} HTTP/1.1\r\n{H}\r\n".encode(), 431)


def test_large_header_gets_431(port):
    assert_refused(port, f"GET / HTTP/1.1\r\n{H}X-Big: {'a' * 3000}\r\n\r\n".encode(), 431)


def test_many_small_headers_over_the_size_get_431(port):
    lines = "".join(f"X-{i}: {'v' * 150}\r\n" for i in range(15))
    assert_refused(port, f"GET / HTTP/1.1\r\n{H}{lines}\r\n".encode(), 431)


def test_header_size_limit_applies_while_the_head_trickles_in(port):
    with Client(port) as client:
        client.send(f"GET / HTTP/1.1\r\n{H}X-Big: ".encode())
        for _ in range(10):
            try:
                client.send(b"a" * 400)
            except (BrokenPipeError, ConnectionResetError):
                break
        response = client.response()
    assert response.status == 431


def test_header_just_under_the_limit_is_accepted(port):
    responses, _ = exchange(
        port, f"GET / HTTP/1.1\r\n{H}X-Big: {'a' * 1800}\r\nConnection: close\r\n\r\n".encode()
    )
    assert [r.status for r in responses] == [200]


def test_too_many_headers_get_431(port):
    lines = "".join(f"X-{i}: v\r\n" for i in range(25))
    assert_refused(port, f"GET / HTTP/1.1\r\n{H}{lines}\r\n".encode(), 431)


def test_too_many_trailers_get_431(port):
    trailers = "".join(f"T-{i}: v\r\n" for i in range(25))
    data = f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n{trailers}\r\n"
    assert_refused(port, data.encode(), 431)


def test_declared_body_over_the_limit_gets_413_before_it_is_sent(port):
    with Client(port) as client:
        client.send(f"POST / HTTP/1.1\r\n{H}Content-Length: 5000\r\n\r\n".encode())
        response = client.response()
        assert response.status == 413
        assert client.is_closed()


def test_chunked_body_over_the_limit_gets_413(port):
    body = b"".join(b"400\r\n" + b"x" * 1024 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n"
    assert_refused(
        port, f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n".encode() + body, 413
    )


def test_body_at_the_limit_is_accepted(port):
    responses, _ = exchange(
        port,
        f"POST / HTTP/1.1\r\n{H}Content-Length: 4096\r\nConnection: close\r\n\r\n".encode()
        + b"x" * 4096,
    )
    assert [r.body for r in responses] == [b'{"size":4096}']


# -- timeouts -------------------------------------------------------------------------


def test_idle_keep_alive_connection_is_closed(port):
    with Client(port) as client:
        client.send(f"GET / HTTP/1.1\r\n{H}\r\n".encode())
        assert client.response().status == 200
        start = time.monotonic()
        assert client.is_closed(timeout=2)
        # not before the idle timeout (0.3 s), and silently: no need to watch it stay open
        assert 0.2 < time.monotonic() - start < 1.5
        assert client.buf == b""  # closed silently, no 408 for an idle connection


def test_connection_that_never_sends_is_closed(port):
    with Client(port) as client:
        assert client.is_closed(timeout=2)
        assert client.buf == b""


def test_slow_headers_get_408_then_close(port):
    with Client(port) as client:
        start = time.monotonic()
        client.send(b"GET / HTTP/1.1\r\nHost: ex")
        # keep trickling: activity must not extend the header deadline (the sleeps
        # pace this slow client on purpose; nothing is inferred from them)
        for _ in range(4):
            time.sleep(0.1)
            try:
                client.send(b"a")
            except (BrokenPipeError, ConnectionResetError):
                break
        response = client.response()
        assert response.status == 408
        assert client.is_closed()
        assert time.monotonic() - start < 1.5


def test_slow_body_gets_408_then_close(port):
    with Client(port) as client:
        client.send(f"POST / HTTP/1.1\r\n{H}Content-Length: 100\r\n\r\nabc".encode())
        start = time.monotonic()
        response = client.response()
        assert response.status == 408
        assert client.is_closed()
        assert 0.2 < time.monotonic() - start < 1.5


def test_slow_handler_is_not_timed_out(serve):
    class Slow(cyclone.web.RequestHandler):
        async def get(self):
            from twisted.internet import reactor, task

            await task.deferLater(reactor, 0.6, lambda: None)
            self.write("done")

    port = serve(cyclone.web.Application([(r"/", Slow)], **LIMITS))
    with Client(port) as client:
        client.send(f"GET / HTTP/1.1\r\n{H}\r\n".encode())
        response = client.response()
        assert (response.status, response.body) == (200, b"done")


def test_request_we_stopped_reading_is_not_timed_out(serve):
    class Slow(cyclone.web.RequestHandler):
        async def get(self):
            from twisted.internet import reactor, task

            await task.deferLater(reactor, float(self.get_argument("d", "0")), lambda: None)
            self.write(self.request.path)

    settings = {"max_pipelined_requests": 1, "header_timeout": 0.15}
    port = serve(cyclone.web.Application([(r"/.*", Slow)], **settings))
    # The third request straddles the server's 4 KiB read slice: its head is half
    # parsed when the pipelining cap stops the reading, while the first handler sleeps.
    pad = "q" * 3900
    data = (
        f"GET /1?d=0.5 HTTP/1.1\r\n{H}\r\nGET /2 HTTP/1.1\r\n{H}X-Pad: {pad}\r\n\r\n"
        f"GET /3 HTTP/1.1\r\n{H}X-Pad: {'p' * 1000}\r\nConnection: close\r\n\r\n"
    )
    assert data.index("GET /3") < 4096 < len(data)
    responses, closed = exchange(port, data.encode(), timeout=5)
    assert [(r.status, r.body) for r in responses] == [(200, b"/1"), (200, b"/2"), (200, b"/3")]
    assert closed
