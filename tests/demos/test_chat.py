"""Smoke test of the chat demo: two WebSocket chatters and a raw SSE reader of the statistics."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

from websockets.sync.client import connect

from demos.chat.app import Application


def read_stats(sock: socket.socket, buffer: bytearray, timeout: float = 5.0) -> dict:
    """The next ``stats`` event from a raw HTTP/1.0 stream (no chunked framing to undo)."""
    deadline = time.monotonic() + timeout
    while True:
        end = buffer.find(b"\n\n")
        if end >= 0:
            block = bytes(buffer[:end]).decode()
            del buffer[: end + 2]
            lines = block.split("\n")
            if "event: stats" in lines:
                return json.loads(next(x[6:] for x in lines if x.startswith("data: ")))
            continue
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = sock.recv(65536)
        assert data, "the stats stream ended"
        buffer.extend(data)


def stats_until(sock, buffer, predicate):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        stats = read_stats(sock, buffer)
        if predicate(stats):
            return stats
    raise AssertionError("the statistics never showed it")


def test_chat_room_and_live_statistics(serve):
    port = serve(Application(stats_interval=0.2))
    base = f"http://127.0.0.1:{port}"
    assert "new WebSocket" in urllib.request.urlopen(base + "/", timeout=5).read().decode()
    assert "new EventSource" in urllib.request.urlopen(base + "/stats", timeout=5).read().decode()

    stream = socket.create_connection(("127.0.0.1", port), timeout=5)
    stream.sendall(b"GET /stats/events HTTP/1.0\r\n\r\n")
    buffer = bytearray()
    head = b""
    while b"\r\n\r\n" not in head:
        head += stream.recv(65536)
    head, _, rest = head.partition(b"\r\n\r\n")
    assert b"text/event-stream" in head
    buffer.extend(rest)
    assert read_stats(stream, buffer) == {"users": 0, "names": [], "messages_per_minute": 0}

    url = f"ws://127.0.0.1:{port}/room"
    with connect(url + "?name=alice") as alice:
        assert json.loads(alice.recv(timeout=5)) == {"kind": "join", "name": "alice"}
        with connect(url + "?name=bob") as bob:
            assert json.loads(bob.recv(timeout=5)) == {"kind": "join", "name": "bob"}
            assert json.loads(alice.recv(timeout=5)) == {"kind": "join", "name": "bob"}
            alice.send("hello bob")
            said = {"kind": "say", "name": "alice", "text": "hello bob"}
            assert json.loads(bob.recv(timeout=5)) == said
            assert json.loads(alice.recv(timeout=5)) == said
            stats = stats_until(stream, buffer, lambda s: s["messages_per_minute"] == 1)
            assert stats == {"users": 2, "names": ["alice", "bob"], "messages_per_minute": 1}
        assert json.loads(alice.recv(timeout=5)) == {"kind": "leave", "name": "bob"}
        stats = stats_until(stream, buffer, lambda s: s["users"] == 1)
        assert stats["names"] == ["alice"]
    stream.close()
