"""sse: Server-Sent Events from a ticking counter, resumable with ``Last-Event-ID``.

    uv run python demos/sse/app.py

Open http://127.0.0.1:8888/ (the browser's ``EventSource``), or
``curl -N http://127.0.0.1:8888/events``. Every second the counter sends an
event with an ``id``; the last 100 are kept, so a client that reconnects with
``Last-Event-ID: 42`` (browsers do it by themselves) first gets what it missed.
"""

from __future__ import annotations

import collections
import time
from typing import Any

from twisted.internet.task import LoopingCall

import cyclone.web
from cyclone_ext_realtime import SSEHandler
from demos.look import STATIC_PATH, page

PAGE = page(
    "Server-Sent Events",
    '<p>Tick <b class="big" id="n">…</b> at <span id="at"></span></p>'
    '<ul class="log" id="log"></ul>',
    head="""<script>
addEventListener("load", () => {
  const source = new EventSource("/events");
  source.addEventListener("tick", (e) => {
    const tick = JSON.parse(e.data);
    document.getElementById("n").textContent = e.lastEventId;
    document.getElementById("at").textContent = tick.time;
  });
});
</script>
""",
)


class Counter:
    """Sends a ``tick`` event to every open stream each ``interval`` seconds, keeps the last 100."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.streams: set[EventsHandler] = set()
        self.history: collections.deque[tuple[int, dict[str, Any]]] = collections.deque(maxlen=100)
        self.count = 0
        self.ticker = LoopingCall(self.tick)

    def join(self, stream: EventsHandler) -> None:
        self.streams.add(stream)
        if not self.ticker.running:
            self.ticker.start(self.interval, now=False)

    def leave(self, stream: EventsHandler) -> None:
        self.streams.discard(stream)
        if not self.streams and self.ticker.running:
            self.ticker.stop()  # nobody listens: stop counting

    def tick(self) -> None:
        self.count += 1
        data = {"n": self.count, "time": time.strftime("%H:%M:%S")}
        self.history.append((self.count, data))
        for stream in list(self.streams):
            stream.send_event(data, event="tick", id=self.count)

    def since(self, last: int) -> list[tuple[int, dict[str, Any]]]:
        return [(n, data) for n, data in self.history if n > last]


class PageHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(PAGE)


class EventsHandler(SSEHandler):
    def on_open(self) -> None:
        counter: Counter = self.settings.counter
        try:
            last = int(self.last_event_id or "")
        except ValueError:
            last = None
        if last is not None:
            for n, data in counter.since(last):
                self.send_event(data, event="tick", id=n)
        counter.join(self)

    def on_close(self) -> None:
        self.settings.counter.leave(self)


def Application(interval: float = 1.0) -> cyclone.web.Application:
    """The page at ``/`` and the stream at ``/events``."""
    return cyclone.web.Application(
        [(r"/", PageHandler), (r"/events", EventsHandler)],
        static_path=STATIC_PATH,
        counter=Counter(interval),
    )


if __name__ == "__main__":
    from twisted.internet import reactor

    reactor.listenTCP(8888, Application(), interface="127.0.0.1")
    print("http://127.0.0.1:8888/")
    reactor.run()
