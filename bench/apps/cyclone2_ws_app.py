"""cyclone 2 WebSocket server for the WebSocket benchmark (bench/ws.py).

Usage: python cyclone2_ws_app.py PORT [--plain-set]

- ``/echo``: every message is written back (the Deferred ``write_message``
  returns is ignored, as the Tornado app ignores its Future).
- ``/sub``: a subscriber; it only receives broadcasts.
- ``/pub``: the publisher. ``count`` is answered with the number of
  subscribers; ``burst M SIZE START`` broadcasts M text messages of SIZE
  bytes, numbered from START (8 digits, a space, padding), in one loop.

Broadcasts go through the in-process :class:`Hub` (``HubMixin.subscribe`` on
``/sub``, ``Hub.publish`` per message). With ``--plain-set`` they bypass the
hub: the publisher loops over a set of open ``/sub`` handlers and calls
``write_message`` on each, which is what the Tornado app does.

If the environment variable ``BENCH_PROFILE`` names a file, the server runs
under cProfile and dumps its statistics there when it is stopped.
"""

from __future__ import annotations

import resource
import sys

from _runner import run_reactor
from cyclone_ext_realtime.hub import Hub, HubMixin
from cyclone_ext_realtime.websocket import WebSocketClosedError, WebSocketHandler
from twisted.internet import reactor

import cyclone.web

CHANNEL = "bench"
HUB = Hub()
PLAIN: set[WebSocketHandler] = set()


def payload(seq: int, size: int) -> str:
    head = f"{seq:08d} "
    return head + "x" * max(0, size - len(head))


class EchoHandler(WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


class HubSubscriber(HubMixin, WebSocketHandler):
    def open(self) -> None:
        self.subscribe(CHANNEL)


class PlainSubscriber(WebSocketHandler):
    def open(self) -> None:
        PLAIN.add(self)

    def on_close(self) -> None:
        PLAIN.discard(self)


class Publisher(WebSocketHandler):
    plain = False

    def on_message(self, message: str | bytes) -> None:
        words = (message.decode() if isinstance(message, bytes) else message).split()
        if words == ["count"]:
            n = len(PLAIN) if self.plain else HUB.subscriber_count(CHANNEL)
            self.write_message(str(n))
        elif len(words) == 4 and words[0] == "burst":
            count, size, start = (int(w) for w in words[1:])
            for seq in range(start, start + count):
                text = payload(seq, size)
                if self.plain:
                    for handler in list(PLAIN):
                        try:
                            handler.write_message(text)
                        except WebSocketClosedError:
                            PLAIN.discard(handler)
                else:
                    HUB.publish(CHANNEL, text)
        else:
            self.close(1003, "unknown command")


def make_app(plain: bool) -> cyclone.web.Application:
    publisher = type("PlainPublisher", (Publisher,), {"plain": True}) if plain else Publisher
    return cyclone.web.Application(
        [
            (r"/echo", EchoHandler),
            (r"/sub", PlainSubscriber if plain else HubSubscriber),
            (r"/pub", publisher),
        ],
        log_function=lambda handler: None,
        hub=HUB,
    )


def raise_fd_limit(want: int = 4096) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def main() -> None:
    port = int(sys.argv[1])
    raise_fd_limit()
    app = make_app("--plain-set" in sys.argv)
    reactor.listenTCP(port, app, backlog=1024, interface="127.0.0.1")
    run_reactor()


if __name__ == "__main__":
    main()
