"""The direct socket write (cyclone._fastwrite): its feature test and its fallback.

The fallback (plain ``transport.write``) is run against a real socket twice:
turned off by the switch, and chosen by the feature test itself when a field it
needs is missing (as it would be under a Twisted release that renamed one).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from twisted.internet import reactor, task
from wire import Client

import cyclone.web
from cyclone import _fastwrite

H = "Host: example.com\r\n"
PATTERN = bytes(range(256))


def direct(handler: cyclone.web.RequestHandler) -> str:
    conn = handler.request.connection
    return "no" if conn._write == conn.transport.write else "yes"


class BodyHandler(cyclone.web.RequestHandler):
    def get(self):
        self.set_header("X-Direct", direct(self))
        self.set_header("Content-Type", "application/octet-stream")
        self.write(PATTERN * int(self.get_argument("k", "1")))

    head = get


class StreamHandler(cyclone.web.RequestHandler):
    async def get(self):
        self.set_header("X-Direct", direct(self))
        self.write("first,")
        await self.flush()
        await task.deferLater(reactor, 0.01, lambda: None)
        self.write("last")


def make_app():
    return cyclone.web.Application([(r"/body", BodyHandler), (r"/stream", StreamHandler)])


class FakeTransport:
    """A transport with a socket but none of Twisted's private buffer fields."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.socket = object()

    def write(self, data: bytes) -> None:
        self.written.append(data)


def test_a_transport_without_the_fields_gets_plain_transport_write():
    transport = FakeTransport()
    assert not _fastwrite.has_direct_path(transport)
    write = _fastwrite.writer_for(transport)
    assert write == transport.write
    write(b"abc")
    assert transport.written == [b"abc"]


@pytest.mark.parametrize(("value", "enabled"), [("0", False), ("off", False), ("1", True)])
def test_the_environment_switch(value, enabled):
    env = {**os.environ, "CYCLONE_FASTWRITE": value}
    out = subprocess.run(
        [sys.executable, "-c", "import cyclone._fastwrite as f; print(f.enabled)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == str(enabled)


@pytest.fixture(params=["direct", "switched-off", "field-missing"])
def mode(request, monkeypatch):
    if request.param == "switched-off":
        monkeypatch.setattr(_fastwrite, "enabled", False)
    elif request.param == "field-missing":
        fields = (*_fastwrite._FIELDS, ("_aFieldTwistedRenamed", int))
        monkeypatch.setattr(_fastwrite, "_FIELDS", fields)
    else:
        monkeypatch.setattr(_fastwrite, "enabled", True)
    return request.param


def test_responses_are_the_same_through_either_path(serve, mode):
    port = serve(make_app())
    big = 16 * 1024  # 4 MiB: more than the kernel takes at once
    with Client(port) as client:
        client.send(
            (
                f"GET /body HTTP/1.1\r\n{H}\r\n"
                f"GET /body?k={big} HTTP/1.1\r\n{H}\r\n"
                f"HEAD /body?k=3 HTTP/1.1\r\n{H}\r\n"
                f"GET /stream HTTP/1.1\r\n{H}\r\n"
                f"GET /body?k=2 HTTP/1.1\r\n{H}Connection: close\r\n\r\n"
            ).encode()
        )
        small = client.response()
        large = client.response()
        head = client.response(head=True)
        stream = client.response()
        last = client.response()
        assert client.is_closed()
    expected = "yes" if mode == "direct" else "no"
    for response in (small, large, head, stream, last):
        assert response.status == 200
        assert response.header("X-Direct") == expected
    assert small.body == PATTERN
    assert small.header("Content-Length") == "256"
    assert large.header("Content-Length") == str(256 * big)
    assert large.body == PATTERN * big
    assert head.header("Content-Length") == "768" and head.body == b""
    assert stream.chunked and stream.body == b"first,last"
    assert last.body == PATTERN * 2 and last.header("Connection") == "close"


def test_http10_close_delimited_through_the_fallback(serve, monkeypatch):
    monkeypatch.setattr(_fastwrite, "enabled", False)
    port = serve(make_app())
    with Client(port) as client:
        client.send(b"GET /stream HTTP/1.0\r\n\r\n")
        data = client.read_all()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close" in head and b"Transfer-Encoding" not in head
    assert b"X-Direct: no" in head
    assert body == b"first,last"
