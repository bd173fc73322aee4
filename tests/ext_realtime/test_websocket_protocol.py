"""The server against broken, hostile, dead and slow peers, with frames crafted by hand."""

from __future__ import annotations

import queue
import struct
import time
import zlib
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from wsraw import EchoHandler, frame

from cyclone.web import Application
from cyclone_ext_realtime import WebSocketClosedError, WebSocketHandler

pytestmark = pytest.mark.timeout(30)

TEXT, BINARY, CONT, CLOSE, PING = 1, 2, 0, 8, 9


class Watcher(EchoHandler):
    """An echo handler that reports its close on the ``events`` queue."""

    def initialize(self, events: queue.Queue[Any], compression: Any = None) -> None:
        super().initialize(compression)
        self.events = events

    def on_close(self) -> None:
        self.events.put(("close", self.close_code))


@pytest.fixture
def echo(serve):
    """``echo(**settings) -> (port, events)`` for a Watcher at ``/`` (``/deflate`` compresses)."""

    def start(**settings: Any) -> tuple[int, queue.Queue[Any]]:
        events: queue.Queue[Any] = queue.Queue()
        app = Application(
            [
                (r"/", Watcher, {"events": events}),
                (r"/deflate", Watcher, {"events": events, "compression": {}}),
            ],
            **settings,
        )
        return serve(app), events

    return start


@pytest.mark.parametrize(
    ("name", "frames", "code"),
    [
        ("invalid UTF-8 in text", [frame(TEXT, b"ok \xff\xfe")], 1007),
        ("bad UTF-8 in a close reason", [frame(CLOSE, struct.pack("!H", 1000) + b"\xff")], 1007),
        ("close code 999", [frame(CLOSE, struct.pack("!H", 999))], 1002),
        ("close code 1005 sent on the wire", [frame(CLOSE, struct.pack("!H", 1005))], 1002),
        ("reserved close code 1016", [frame(CLOSE, struct.pack("!H", 1016))], 1002),
        ("close code 5000", [frame(CLOSE, struct.pack("!H", 5000))], 1002),
        ("close frame of one byte", [frame(CLOSE, b"\x03")], 1002),
        ("unmasked frame", [frame(TEXT, b"hi", mask=False)], 1002),
        ("RSV1 without an extension", [frame(TEXT, b"hi", rsv=4)], 1002),
        ("RSV2", [frame(BINARY, b"hi", rsv=2)], 1002),
        ("RSV3 on a ping", [frame(PING, b"hi", rsv=1)], 1002),
        ("orphan continuation", [frame(CONT, b"lost")], 1002),
        ("text inside a fragmented message", [frame(TEXT, b"a", False), frame(TEXT, b"b")], 1002),
        ("reserved opcode 3", [frame(3, b"")], 1002),
        ("reserved control opcode 11", [frame(11, b"")], 1002),
        ("ping of 126 bytes", [frame(PING, bytes(126))], 1002),
        ("fragmented ping", [frame(PING, b"a", fin=False)], 1002),
    ],
)  # fmt: skip
def test_protocol_errors_are_answered_with_their_close_code(echo, raw_clients, name, frames, code):
    port, events = echo()
    client = raw_clients(port)
    assert client.status == 101
    client.send(b"".join(frames))
    assert client.read_close() == code, name
    assert client.closed_by_server()
    assert events.get(timeout=5) == ("close", None)  # a failed connection has no peer close


def test_invalid_utf8_is_found_in_the_first_fragment(echo, raw_clients):
    port, _ = echo()
    client = raw_clients(port)
    client.send(frame(TEXT, b"fine \xc3\x28", fin=False))  # the message never finishes
    assert client.read_close() == 1007


def test_a_utf8_character_split_across_fragments_is_fine(echo, raw_clients):
    port, _ = echo()
    client = raw_clients(port)
    client.send(frame(TEXT, b"caf\xc3", fin=False) + frame(PING, b"p") + frame(CONT, b"\xa9"))
    assert client.read_frame() == (10, b"p", True)  # the ping is answered mid-message
    assert client.read_frame() == (TEXT, "café".encode(), True)


def test_message_size_limit_closes_with_1009(echo, raw_clients):
    port, events = echo(websocket_max_message_size=1000)
    client = raw_clients(port)
    client.send(frame(BINARY, bytes(1000)))
    assert client.read_frame() == (BINARY, bytes(1000), True)  # at the limit: fine
    client.send(frame(BINARY, bytes(1001)))
    assert client.read_close() == 1009
    assert events.get(timeout=5) == ("close", None)


def test_message_size_limit_applies_as_fragments_arrive(echo, raw_clients):
    port, _ = echo(websocket_max_message_size=10_000)
    client = raw_clients(port)
    client.send(frame(TEXT, b"x" * 4000, fin=False))
    client.send(frame(CONT, b"x" * 4000, fin=False))
    client.send(frame(CONT, b"x" * 4000, fin=False))
    # the message is not finished: the server refused it while it was arriving
    assert client.read_close() == 1009


def test_message_size_limit_applies_inside_a_huge_frame(echo, raw_clients):
    port, _ = echo(websocket_max_message_size=10_000)
    client = raw_clients(port)
    head = frame(BINARY, bytes(20_000), length=1 << 30)  # announces 1 GiB, sends 20 kB
    client.send(head)
    assert client.read_close() == 1009


def test_message_size_limit_is_checked_after_decompression(echo):
    port, _ = echo(websocket_max_message_size=1 << 20)
    with connect(f"ws://127.0.0.1:{port}/deflate", max_size=None) as ws:
        assert "permessage-deflate" in ws.response.headers["Sec-WebSocket-Extensions"]
        ws.send(bytes(1 << 20))  # at the limit, about 1 kB on the wire
        assert ws.recv() == bytes(1 << 20)
        ws.send(bytes((1 << 20) + 1))
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd.code == 1009


def test_a_deflate_bomb_in_one_frame_is_stopped_while_inflating(echo, raw_clients):
    port, _ = echo(websocket_max_message_size=1 << 20)
    client = raw_clients(port, "/deflate", {"Sec-WebSocket-Extensions": "permessage-deflate"})
    assert b"permessage-deflate" in client.head
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(bytes(1 << 30)) + compressor.flush(zlib.Z_SYNC_FLUSH)[:-4]
    assert len(bomb) < 1_100_000  # 1 GiB of zeros
    started = time.monotonic()
    client.send(frame(BINARY, bomb, rsv=4))
    assert client.read_close() == 1009
    assert time.monotonic() - started < 5


def test_a_peer_that_stops_answering_pings_is_dropped(echo, raw_clients):
    port, events = echo(websocket_ping_interval=0.2, websocket_ping_timeout=0.3)
    client = raw_clients(port)
    assert client.read_frame()[0] == PING
    started = time.monotonic()
    # never answer: the server gives up and aborts
    assert client.closed_by_server(timeout=5)
    assert time.monotonic() - started < 2
    assert events.get(timeout=5) == ("close", None)


def test_a_peer_that_answers_pings_stays(echo, raw_clients):
    port, events = echo(websocket_ping_interval=0.1, websocket_ping_timeout=0.2)
    client = raw_clients(port)
    deadline = time.monotonic() + 1.0
    pings = 0
    while time.monotonic() < deadline:
        opcode, payload, _ = client.read_frame()
        assert opcode == PING
        pings += 1
        client.send(frame(10, payload))
    assert pings >= 5
    client.send(frame(TEXT, b"still here"))
    while (reply := client.read_frame())[0] == PING:
        pass
    assert reply == (TEXT, b"still here", True)
    assert events.empty()


class Flood(WebSocketHandler):
    """Writes 1 MiB messages; ``polite`` awaits each write, otherwise it ignores back-pressure."""

    def initialize(self, events: queue.Queue[Any], polite: bool) -> None:
        self.events = events
        self.polite = polite

    async def open(self) -> None:
        chunk = bytes(1 << 20)
        written = 0
        try:
            for _ in range(64):
                d = self.write_message(chunk, binary=True)
                written += 1
                if self.polite:
                    await d
        except WebSocketClosedError:
            pass
        self.events.put(("written", written))

    def on_close(self) -> None:
        self.events.put(("close", self.close_code))


def test_a_reader_that_does_not_read_is_closed_when_the_buffer_limit_is_passed(serve, raw_clients):
    events: queue.Queue[Any] = queue.Queue()
    app = Application(
        [(r"/", Flood, {"events": events, "polite": False})],
        websocket_write_buffer_limit=2 << 20,
        websocket_close_timeout=0.5,
    )
    client = raw_clients(serve(app))
    assert client.status == 101
    kind, written = events.get(timeout=5)
    assert kind == "written"
    assert written <= 4  # 64 KiB in Twisted's buffer, then 2 MiB while paused
    # the peer never reads its close frame either: aborted after the close timeout
    assert events.get(timeout=5) == ("close", None)


def test_back_pressure_follows_a_slow_reader_without_closing(serve, raw_clients):
    events: queue.Queue[Any] = queue.Queue()
    app = Application(
        [(r"/", Flood, {"events": events, "polite": True})],
        websocket_write_buffer_limit=2 << 20,
    )
    client = raw_clients(serve(app))
    received = 0
    for _ in range(64):
        time.sleep(0.002)  # a slow reader on purpose: it paces the client, proves nothing
        opcode, payload, fin = client.read_frame()
        assert (opcode, len(payload), fin) == (BINARY, 1 << 20, True)
        received += 1
    assert received == 64
    assert events.get(timeout=5) == ("written", 64)
    assert events.empty()
