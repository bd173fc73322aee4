"""Tornado 6.6 WebSocket server for the WebSocket benchmark (bench/ws.py).

Usage: python tornado_ws_app.py PORT

- ``/echo``: every message is written back (the Future ``write_message``
  returns is ignored, as the cyclone app ignores its Deferred).
- ``/sub``: a subscriber; it only receives broadcasts.
- ``/pub``: the publisher. ``count`` is answered with the number of
  subscribers; ``burst M SIZE START`` broadcasts M text messages of SIZE
  bytes, numbered from START (8 digits, a space, padding), in one loop over a
  set of the open ``/sub`` handlers.
"""

from __future__ import annotations

import asyncio
import resource
import sys

import tornado.web
import tornado.websocket

SUBSCRIBERS: set[tornado.websocket.WebSocketHandler] = set()


def payload(seq: int, size: int) -> str:
    head = f"{seq:08d} "
    return head + "x" * max(0, size - len(head))


class EchoHandler(tornado.websocket.WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


class Subscriber(tornado.websocket.WebSocketHandler):
    def open(self) -> None:
        SUBSCRIBERS.add(self)

    def on_close(self) -> None:
        SUBSCRIBERS.discard(self)


class Publisher(tornado.websocket.WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        words = (message.decode() if isinstance(message, bytes) else message).split()
        if words == ["count"]:
            self.write_message(str(len(SUBSCRIBERS)))
        elif len(words) == 4 and words[0] == "burst":
            count, size, start = (int(w) for w in words[1:])
            for seq in range(start, start + count):
                text = payload(seq, size)
                for handler in list(SUBSCRIBERS):
                    try:
                        handler.write_message(text)
                    except tornado.websocket.WebSocketClosedError:
                        SUBSCRIBERS.discard(handler)
        else:
            self.close(1003, "unknown command")


def raise_fd_limit(want: int = 4096) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


async def serve(port: int) -> None:
    app = tornado.web.Application(
        [(r"/echo", EchoHandler), (r"/sub", Subscriber), (r"/pub", Publisher)],
        log_function=lambda handler: None,
    )
    app.listen(port, address="127.0.0.1", backlog=1024)
    await asyncio.Event().wait()


if __name__ == "__main__":
    raise_fd_limit()
    asyncio.run(serve(int(sys.argv[1])))
