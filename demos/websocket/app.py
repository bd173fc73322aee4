"""websocket: a chat room on ``WebSocketHandler`` alone (no hub: one process, one set).

    uv run python demos/websocket/app.py

Open http://127.0.0.1:8888/ in two windows. Every message a client sends goes
to everyone in the room as ``{"name": ..., "text": ...}``; joins and leaves are
announced. (``demos/chat`` is the same room on the broadcast hub, which also
spans processes.)
"""

from __future__ import annotations

import json
from typing import Any

import cyclone.web
from cyclone_ext_realtime import WebSocketHandler
from demos.look import STATIC_PATH, page

PAGE = page(
    "WebSocket chat",
    '<form id="say"><input id="name" value="guest" size="10">'
    '<input id="text" placeholder="say something" autofocus><button>send</button></form>'
    '<ul class="log" id="log"></ul>',
    head="""<script>
addEventListener("load", () => {
  const log = document.getElementById("log");
  let ws = null;
  function show(line) {
    const li = document.createElement("li");
    li.textContent = line;
    log.prepend(li);
  }
  function connect() {
    const name = encodeURIComponent(document.getElementById("name").value);
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/ws?name=" + name);
    ws.onmessage = (m) => {
      const e = JSON.parse(m.data);
      show(e.text === undefined ? e.name + " " + e.event : e.name + ": " + e.text);
    };
    ws.onclose = () => { show("(disconnected)"); ws = null; };
    return new Promise((resolve) => { ws.onopen = resolve; });
  }
  document.getElementById("say").onsubmit = async (event) => {
    event.preventDefault();
    const text = document.getElementById("text");
    if (ws === null) await connect();
    if (text.value) ws.send(text.value);
    text.value = "";
  };
});
</script>
""",
)


class Room:
    """Who is connected, and sending to all of them."""

    def __init__(self) -> None:
        self.members: set[ChatSocket] = set()

    def broadcast(self, message: dict[str, Any]) -> None:
        text = json.dumps(message)
        for member in list(self.members):
            member.write_message(text)


class PageHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(PAGE)


class ChatSocket(WebSocketHandler):
    def open(self) -> None:
        self.name = (self.get_argument("name", "guest").strip() or "guest")[:32]
        self.room: Room = self.settings.room
        self.room.members.add(self)
        self.room.broadcast({"event": "joined", "name": self.name})

    def on_message(self, message: str | bytes) -> None:
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        if text.strip():
            self.room.broadcast({"name": self.name, "text": text.strip()[:1000]})

    def on_close(self) -> None:
        room = getattr(self, "room", None)
        if room is not None and self in room.members:
            room.members.discard(self)
            room.broadcast({"event": "left", "name": self.name})


def Application() -> cyclone.web.Application:
    """The page at ``/`` and the room at ``/ws?name=``."""
    return cyclone.web.Application(
        [(r"/", PageHandler), (r"/ws", ChatSocket)], static_path=STATIC_PATH, room=Room()
    )


if __name__ == "__main__":
    from twisted.internet import reactor

    reactor.listenTCP(8888, Application(), interface="127.0.0.1")
    print("http://127.0.0.1:8888/")
    reactor.run()
