"""The websocket chat (with the ``websockets`` client) and the SSE counter (raw HTTP/1.0)."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

from waiting import wait_until
from websockets.sync.client import connect

from demos.sse.app import Application as SSE
from demos.websocket.app import Application as WebSocketChat


def test_the_room_relays_to_everyone(serve):
    app = WebSocketChat()
    port = serve(app)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
        assert "new WebSocket" in r.read().decode()
    url = f"ws://127.0.0.1:{port}/ws"
    with connect(url + "?name=alice") as alice:
        assert json.loads(alice.recv(timeout=5)) == {"event": "joined", "name": "alice"}
        with connect(url + "?name=bob") as bob:
            assert json.loads(bob.recv(timeout=5)) == {"event": "joined", "name": "bob"}
            assert json.loads(alice.recv(timeout=5)) == {"event": "joined", "name": "bob"}
            bob.send("  hi alice  ")
            said = {"name": "bob", "text": "hi alice"}
            assert json.loads(alice.recv(timeout=5)) == said
            assert json.loads(bob.recv(timeout=5)) == said
            bob.send("   ")  # blank lines are not relayed
            alice.send("hi bob")
            said = {"name": "alice", "text": "hi bob"}
            assert json.loads(bob.recv(timeout=5)) == said
            assert json.loads(alice.recv(timeout=5)) == said
        assert json.loads(alice.recv(timeout=5)) == {"event": "left", "name": "bob"}
    wait_until(lambda: not app.settings.room.members)


class EventStream:
    """A raw ``GET /events`` over HTTP/1.0 (no chunked framing), read event by event."""

    def __init__(self, port: int, last_event_id: int | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        extra = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id is not None else ""
        self.sock.sendall(f"GET /events HTTP/1.0\r\n{extra}\r\n".encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(65536)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        assert b"text/event-stream" in head

    def next_event(self) -> dict[str, str]:
        deadline = time.monotonic() + 5
        while True:
            block, sep, rest = self.buffer.partition(b"\n\n")
            if sep:
                self.buffer = rest
                fields = dict(line.split(": ", 1) for line in block.decode().split("\n"))
                if "data" in fields:  # skip comments (heartbeats)
                    return fields
                continue
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            assert chunk, "the stream ended"
            self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def test_events_carry_ids_and_a_reconnect_resumes(serve):
    app = SSE(interval=0.1)
    port = serve(app)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
        assert 'new EventSource("/events")' in r.read().decode()
    stream = EventStream(port)
    events = [stream.next_event() for _ in range(3)]
    assert [e["event"] for e in events] == ["tick"] * 3
    ids = [int(e["id"]) for e in events]
    assert ids == list(range(ids[0], ids[0] + 3))
    assert json.loads(events[0]["data"])["n"] == ids[0]
    other = EventStream(port)  # keeps the counter going while the first client is away
    stream.close()
    # The client went away after ids[0]; it comes back and gets what it missed first.
    wait_until(lambda: app.settings.counter.count >= ids[-1] + 2)
    again = EventStream(port, last_event_id=ids[0])
    resumed = [int(again.next_event()["id"]) for _ in range(4)]
    assert resumed == list(range(ids[0] + 1, ids[0] + 5))
    again.close()
    other.close()
    wait_until(lambda: not app.settings.counter.ticker.running, message="ticking for nobody")
