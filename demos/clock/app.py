"""clock: long polling with ``@cyclone.web.asynchronous`` (cyclone 1.x's clock broadcaster).

    uv run python demos/clock/app.py        # or: uv run cyclone run -r demos.clock.app.Application

Open http://127.0.0.1:8888/: the page asks ``/clock`` for the time, and the
request stays open until the clock ticks; then every waiting request gets the
same tick and the page asks again. The clock only ticks while someone waits.
"""

from __future__ import annotations

import time
from typing import Any

from twisted.internet.task import LoopingCall

import cyclone.web
from demos.look import STATIC_PATH, page

PAGE = page(
    "Long-polling clock",
    '<p class="big" id="time">…</p>'
    '<p class="muted">Each tick answers every request that was waiting for it.</p>',
    head="""<script>
async function poll() {
  for (;;) {
    try {
      const tick = await (await fetch("/clock")).json();
      document.getElementById("time").textContent = tick.time;
    } catch (e) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
addEventListener("load", poll);
</script>
""",
)


class Clock:
    """The requests waiting for the next tick, and the ticker that answers them."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.waiting: set[cyclone.web.RequestHandler] = set()
        self.ticks = 0
        self.ticker = LoopingCall(self.tick)

    def wait(self, handler: cyclone.web.RequestHandler) -> None:
        self.waiting.add(handler)
        # A client that goes away is forgotten: nothing is written to a closed connection.
        handler.notifyFinish().addBoth(lambda _: self.waiting.discard(handler))
        if not self.ticker.running:
            self.ticker.start(self.interval, now=False)

    def tick(self) -> None:
        if not self.waiting:
            self.ticker.stop()  # nobody waited for this tick: sleep until someone asks
            return
        self.ticks += 1
        now = {"time": time.strftime("%H:%M:%S"), "tick": self.ticks}
        answered, self.waiting = self.waiting, set()
        for handler in answered:
            handler.finish(now)


class PageHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(PAGE)


class ClockHandler(cyclone.web.RequestHandler):
    @cyclone.web.asynchronous
    def get(self) -> Any:
        self.set_header("Cache-Control", "no-store")
        self.settings.clock.wait(self)


def Application(interval: float = 1.0) -> cyclone.web.Application:
    """The page at ``/`` and the long-polled ``/clock``, ticking every ``interval`` seconds."""
    return cyclone.web.Application(
        [(r"/", PageHandler), (r"/clock", ClockHandler)],
        static_path=STATIC_PATH,
        clock=Clock(interval),
    )


if __name__ == "__main__":
    from twisted.internet import reactor

    reactor.listenTCP(8888, Application(), interface="127.0.0.1")
    print("http://127.0.0.1:8888/")
    reactor.run()
