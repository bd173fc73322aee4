"""Output as a client sees it: gzip, debug traceback pages, the access log."""

import gzip
import socket
import zlib

import pytest
from client import captured_events, curl, fetch, read_until, wait_until

from cyclone.testing import call
from cyclone.web import Application, HTTPError, RequestHandler, asynchronous

BIG_TEXT = "cyclone compresses repetitive text very well. " * 200


class TextHandler(RequestHandler):
    def get(self, kind):
        if kind == "big":
            self.write(BIG_TEXT)
        elif kind == "small":
            self.write("tiny")
        elif kind == "json":
            self.write({"items": [BIG_TEXT]})
        elif kind == "png":
            self.set_header("Content-Type", "image/png")
            self.write(b"\x89PNG" + bytes(4000))
        elif kind == "vary":
            self.set_header("Vary", "Cookie")
            self.write(BIG_TEXT)
        elif kind == "encoded":
            self.set_header("Content-Encoding", "br")
            self.write(BIG_TEXT)
        elif kind == "range":
            self.set_status(206)
            self.set_header("Content-Range", f"bytes 0-{len(BIG_TEXT) - 1}/{len(BIG_TEXT) * 2}")
            self.write(BIG_TEXT)


def _gzip_app(**settings):
    return Application([(r"/(\w+)", TextHandler)], **settings)


@pytest.mark.parametrize("setting", ["compress_response", "gzip"])
def test_gzip_when_accepted_and_worth_it(serve, setting):
    port = serve(_gzip_app(**{setting: True}))
    resp = fetch(port, "/big", headers={"Accept-Encoding": "gzip, deflate"})
    assert resp.headers["Content-Encoding"] == "gzip"
    assert resp.headers["Vary"] == "Accept-Encoding"
    assert int(resp.headers["Content-Length"]) == len(resp.body) < len(BIG_TEXT)
    assert gzip.decompress(resp.body).decode() == BIG_TEXT
    assert resp.headers["Etag"].startswith('W/"')


def test_gzip_json(serve):
    port = serve(_gzip_app(compress_response=True))
    resp = fetch(port, "/json", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip"
    assert BIG_TEXT in gzip.decompress(resp.body).decode()


def test_no_gzip_when_not_accepted(serve):
    port = serve(_gzip_app(compress_response=True))
    resp = fetch(port, "/big")
    assert "Content-Encoding" not in resp.headers
    assert resp.headers["Vary"] == "Accept-Encoding"
    assert resp.body.decode() == BIG_TEXT
    resp = fetch(port, "/big", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in resp.headers


@pytest.mark.parametrize("kind", ["small", "png", "encoded", "range"])
def test_no_gzip_for_small_incompressible_or_encoded_bodies(serve, kind):
    port = serve(_gzip_app(compress_response=True))
    resp = fetch(port, f"/{kind}", headers={"Accept-Encoding": "gzip"})
    assert resp.headers.get("Content-Encoding") in (None, "br")
    assert int(resp.headers["Content-Length"]) == len(resp.body)


def test_vary_is_extended_not_replaced(serve):
    port = serve(_gzip_app(compress_response=True))
    resp = fetch(port, "/vary", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["Vary"] == "Cookie, Accept-Encoding"


def test_no_gzip_setting_means_no_compression(serve):
    port = serve(_gzip_app())
    resp = fetch(port, "/big", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in resp.headers
    assert "Vary" not in resp.headers


def test_gzip_with_curl_compressed(serve):
    port = serve(_gzip_app(compress_response=True))
    out = curl("--compressed", "-D", "-", f"http://127.0.0.1:{port}/big").stdout
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"content-encoding: gzip" in head.lower()
    assert body.decode() == BIG_TEXT


def test_gzip_304_has_no_body(serve):
    port = serve(_gzip_app(compress_response=True))
    first = fetch(port, "/big", headers={"Accept-Encoding": "gzip"})
    again = fetch(
        port, "/big", headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["Etag"]}
    )
    assert again.status == 304
    assert again.body == b""


class StreamHandler(RequestHandler):
    def initialize(self, handlers):
        self.handlers = handlers

    @asynchronous
    async def get(self):
        self.write("first part " * 10)
        await self.flush()
        self.handlers.append(self)


def test_streamed_response_is_gzipped_chunk_by_chunk(serve):
    waiting = []
    port = serve(
        Application([(r"/", StreamHandler, {"handlers": waiting})], compress_response=True)
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        head = read_until(sock, b"\r\n\r\n")
        assert b"Content-Encoding: gzip" in head
        assert b"Transfer-Encoding: chunked" in head
        wait_until(lambda: waiting)
        # The first part can be decompressed before the response ends.
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        data = head.partition(b"\r\n\r\n")[2]
        text = _dechunk_partial(data, decompressor)
        while b"first part" not in text:
            data += sock.recv(65536)
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
            text = _dechunk_partial(data, decompressor)
        assert text == b"first part " * 10
        call(lambda: waiting[0].finish("last part"))
        data += read_until(sock, b"0\r\n\r\n")
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        whole = _dechunk_partial(data, decompressor) + decompressor.flush()
        assert whole == b"first part " * 10 + b"last part"
        assert decompressor.eof


def _dechunk_partial(data, decompressor):
    """Decompress the complete chunks in ``data`` (a chunked body, maybe unfinished)."""
    out = b""
    while data:
        size_line, sep, rest = data.partition(b"\r\n")
        if not sep:
            break
        size = int(size_line, 16)
        if size == 0 or len(rest) < size + 2:
            break
        out += decompressor.decompress(rest[:size])
        data = rest[size + 2 :]
    return out


# -- debug pages ----------------------------------------------------------------------


class CrashHandler(RequestHandler):
    def get(self):
        raise ZeroDivisionError("secret <detail> & more")


class AsyncCrashHandler(RequestHandler):
    async def get(self):
        raise LookupError("secret async detail")


class ForbiddenHandler(RequestHandler):
    def get(self):
        raise HTTPError(403, "secret log message")


def _crash_app(**settings):
    return Application(
        [(r"/", CrashHandler), (r"/async", AsyncCrashHandler), (r"/403", ForbiddenHandler)],
        **settings,
    )


def test_debug_serves_a_traceback_page(serve):
    port = serve(_crash_app(debug=True))
    resp = fetch(port, "/")
    assert resp.status == 500
    assert resp.headers["Content-Type"].startswith("text/html")
    assert b"Traceback" in resp.body
    assert b"ZeroDivisionError" in resp.body
    assert b"secret &lt;detail&gt; &amp; more" in resp.body
    assert b"<detail>" not in resp.body
    resp = fetch(port, "/async")
    assert b"secret async detail" in resp.body


@pytest.mark.parametrize("settings", [{}, {"debug": False}])
def test_without_debug_nothing_leaks(serve, settings):
    port = serve(_crash_app(**settings))
    for path in ("/", "/async", "/403"):
        resp = fetch(port, path)
        assert resp.status in (500, 403)
        assert b"secret" not in resp.body
        assert b"Traceback" not in resp.body
        assert b"Error" not in resp.body.replace(b"Internal Server Error", b"")


def test_serve_traceback_can_be_turned_off_in_debug(serve):
    port = serve(_crash_app(debug=True, serve_traceback=False))
    resp = fetch(port, "/")
    assert resp.status == 500
    assert b"secret" not in resp.body


# -- access log -----------------------------------------------------------------------


class LoggedHandler(RequestHandler):
    def get(self):
        code = int(self.get_argument("code", "200"))
        if code >= 400:
            raise HTTPError(code)
        self.write("logged")


def test_one_access_log_event_per_request(serve):
    port = serve(Application([(r"/log", LoggedHandler)]))
    with captured_events("cyclone.access") as events:
        fetch(port, "/log?x=1")
        fetch(port, "/log?code=404")
        fetch(port, "/missing", method="DELETE")
        wait_until(lambda: len(events) >= 3)
    assert len(events) == 3
    first, second, third = events
    assert (first["status"], first["method"], first["uri"]) == (200, "GET", "/log?x=1")
    assert first["remote_ip"] == "127.0.0.1"
    assert 0 <= first["request_time"] < 5000
    assert (second["status"], second["uri"]) == (404, "/log?code=404")
    assert (third["status"], third["method"], third["uri"]) == (404, "DELETE", "/missing")
    assert first["log_level"].name == "info"
    assert second["log_level"].name == "warn"


def test_server_errors_are_logged_as_errors(serve):
    port = serve(Application([(r"/log", LoggedHandler)]))
    with captured_events("cyclone.access") as events:
        fetch(port, "/log?code=503")
        wait_until(lambda: events)
    assert events[0]["status"] == 503
    assert events[0]["log_level"].name == "error"


def test_log_function_replaces_the_access_log(serve):
    seen = []
    port = serve(
        Application(
            [(r"/log", LoggedHandler)],
            log_function=lambda h: seen.append((h.get_status(), h.request.uri)),
        )
    )
    with captured_events("cyclone.access") as events:
        fetch(port, "/log")
        fetch(port, "/log?code=418")
        wait_until(lambda: len(seen) == 2)
    assert seen == [(200, "/log"), (418, "/log?code=418")]
    assert events == []


def test_uncaught_errors_are_logged_with_traceback(serve):
    port = serve(_crash_app())
    with captured_events("cyclone.web") as events:
        fetch(port, "/")
        fetch(port, "/403")
        wait_until(lambda: len(events) >= 2)
    crash, forbidden = events
    assert crash["log_failure"].type is ZeroDivisionError
    assert "GET / (127.0.0.1)" in crash["summary"]
    assert "log_failure" not in forbidden
    assert forbidden["status"] == 403
    assert forbidden["message"] == "secret log message"


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [
        ("gzip", True),
        ("GZIP", True),
        ("deflate, gzip;q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0, deflate", False),
        ("*;q=0", False),
        ("gzip;q=0, *", False),
        ("deflate, br", False),
        ("notgzip", False),
    ],
)
def test_accept_encoding_q_values(serve, accept, gzipped):
    port = serve(_gzip_app(compress_response=True))
    resp = fetch(port, "/big", headers={"Accept-Encoding": accept})
    assert (resp.headers.get("Content-Encoding") == "gzip") is gzipped
