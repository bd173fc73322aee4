"""The chat demo: a WebSocket chat room and an SSE live-stats page, on the broadcast hub.

Run it with ``uv run python demos/chat/app.py`` and open http://127.0.0.1:8888/
(the room) and http://127.0.0.1:8888/stats (connected users, messages per
minute). With ``--hub redis://127.0.0.1:6379/0``, several processes on different
ports share one room: ``python demos/chat/app.py --port 8889 --hub redis://...``.

Everything said in the room is published on the hub's ``chat`` channel, as
``{"kind": "join" | "leave" | "say", "name": ..., "text": ...}``; every room
connection and every process's statistics listen to that channel.
"""

from __future__ import annotations

import argparse
import collections
import time
from typing import Any

from twisted.internet.task import LoopingCall

import cyclone.web
from cyclone_ext_realtime import HubMixin, SSEHandler, WebSocketHandler
from demos.look import STATIC_PATH

CHANNEL = "chat"
MAX_NAME = 32
MAX_TEXT = 1000

ROOM_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>cyclone chat</title>
<link rel="stylesheet" href="/static/demo.css"></head>
<body>
<h1>cyclone chat</h1>
<p><a href="/stats">live statistics</a></p>
<ul id="log"></ul>
<form id="say"><input id="name" placeholder="your name" value="guest">
<input id="text" placeholder="say something" autofocus><button>send</button></form>
<script>
let ws = null;
const log = document.getElementById("log");
function show(line) {
  const li = document.createElement("li");
  li.textContent = line;
  log.appendChild(li);
}
document.getElementById("say").onsubmit = (event) => {
  event.preventDefault();
  const text = document.getElementById("text");
  if (ws === null) {
    const name = encodeURIComponent(document.getElementById("name").value);
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/room?name=" + name);
    ws.onmessage = (m) => {
      const e = JSON.parse(m.data);
      show(e.kind === "say" ? e.name + ": " + e.text : e.name + " " + e.kind + "s");
    };
    ws.onopen = () => { if (text.value) { ws.send(text.value); text.value = ""; } };
    ws.onclose = () => { show("(disconnected)"); ws = null; };
  } else if (text.value) {
    ws.send(text.value);
    text.value = "";
  }
};
</script></body></html>
"""

STATS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>cyclone chat: statistics</title>
<link rel="stylesheet" href="/static/demo.css"></head>
<body>
<h1>Live statistics</h1>
<p>Connected users: <b id="users">?</b> (<span id="names"></span>)</p>
<p>Messages in the last minute: <b id="rate">?</b></p>
<script>
const source = new EventSource("/stats/events");
source.addEventListener("stats", (e) => {
  const stats = JSON.parse(e.data);
  document.getElementById("users").textContent = stats.users;
  document.getElementById("names").textContent = stats.names.join(", ");
  document.getElementById("rate").textContent = stats.messages_per_minute;
});
</script></body></html>
"""


class ChatStats:
    """Who is in the room and how busy it is, as seen from the hub's ``chat`` channel."""

    def __init__(self) -> None:
        self.connections: collections.Counter[str] = collections.Counter()
        self.said: collections.deque[float] = collections.deque()

    def on_chat(self, event: dict[str, Any]) -> None:
        kind, name = event.get("kind"), event.get("name", "")
        if kind == "join":
            self.connections[name] += 1
        elif kind == "leave":
            self.connections[name] -= 1
            if self.connections[name] <= 0:
                del self.connections[name]
        elif kind == "say":
            self.said.append(time.monotonic())

    def snapshot(self) -> dict[str, Any]:
        """``{"users", "names", "messages_per_minute"}`` right now."""
        cutoff = time.monotonic() - 60.0
        while self.said and self.said[0] < cutoff:
            self.said.popleft()
        return {
            "users": sum(self.connections.values()),
            "names": sorted(self.connections),
            "messages_per_minute": len(self.said),
        }


class RoomPage(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(ROOM_PAGE)


class StatsPage(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(STATS_PAGE)


class RoomHandler(HubMixin, WebSocketHandler):
    """One chatter: what they say goes to the hub; what the hub carries comes back."""

    def open(self) -> Any:
        self.name = self.get_argument("name", "guest")[:MAX_NAME] or "guest"
        self.subscribe(CHANNEL)
        return self.publish(CHANNEL, {"kind": "join", "name": self.name})

    def on_message(self, message: str | bytes) -> Any:
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        text = message.strip()[:MAX_TEXT]
        if text:
            return self.publish(CHANNEL, {"kind": "say", "name": self.name, "text": text})
        return None

    def on_close(self) -> None:
        super().on_close()
        if hasattr(self, "name"):
            self.publish(CHANNEL, {"kind": "leave", "name": self.name})


class StatsEvents(SSEHandler):
    """The statistics as ``stats`` events: on open, on every chat event, and periodically."""

    def on_open(self) -> None:
        self.stats: ChatStats = self.settings.chat_stats
        self.subscribe(CHANNEL, lambda _: self.send_stats())
        self.ticker = LoopingCall(self.send_stats)
        self.ticker.start(self.settings.stats_interval)

    def send_stats(self) -> Any:
        return self.send_event(self.stats.snapshot(), event="stats")

    def on_close(self) -> None:
        if self.ticker.running:
            self.ticker.stop()


def _hub_service(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return url if scheme.endswith("+hub") else f"{scheme}+hub{sep}{rest}"


def Application(hub: str = "memory://", stats_interval: float = 5.0) -> cyclone.web.Application:
    """The chat application on the hub at ``hub`` (``memory://`` or ``redis://...``)."""
    stats = ChatStats()
    app = cyclone.web.Application(
        [
            (r"/", RoomPage),
            (r"/stats", StatsPage),
            (r"/room", RoomHandler),
            (r"/stats/events", StatsEvents),
        ],
        services={"hub": _hub_service(hub)},
        static_path=STATIC_PATH,
        chat_stats=stats,
        stats_interval=stats_interval,
    )
    # Subscribed before any connection: statistics are up to date when handlers read them.
    app.settings.hub.subscribe(CHANNEL, stats.on_chat)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--hub", default="memory://", help="memory:// or redis://host:port/db")
    args = parser.parse_args(argv)
    from twisted.internet import reactor

    reactor.listenTCP(args.port, Application(args.hub), interface="127.0.0.1")
    print(f"chat on http://127.0.0.1:{args.port}/ (hub: {args.hub})")
    reactor.run()


if __name__ == "__main__":
    main()
