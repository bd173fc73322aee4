"""delayed: ``yield sleep(5)`` in a handler, without blocking anyone else.

    uv run python demos/delayed/app.py [--delay 5]

``curl http://127.0.0.1:8888/`` answers after the delay; run several curls at
once and they all answer together, after one delay: while a request sleeps the
reactor serves the others. ``/await`` is the same with ``async def``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Generator
from typing import Any

from twisted.internet import defer, reactor, task

import cyclone.web


def sleep(seconds: float) -> defer.Deferred[None]:
    """A Deferred that fires after ``seconds`` (cyclone 1.x demos called it ``sleep``)."""
    return task.deferLater(reactor, seconds, lambda: None)


class DelayedHandler(cyclone.web.RequestHandler):
    @defer.inlineCallbacks
    def get(self) -> Generator[defer.Deferred[Any], Any, None]:
        started = time.monotonic()
        yield sleep(self.settings.delay)
        self.write({"slept": round(time.monotonic() - started, 3), "style": "inlineCallbacks"})


class AwaitHandler(cyclone.web.RequestHandler):
    async def get(self) -> None:
        started = time.monotonic()
        await sleep(self.settings.delay)
        self.write({"slept": round(time.monotonic() - started, 3), "style": "async def"})


def Application(delay: float = 5.0) -> cyclone.web.Application:
    """``/`` and ``/await`` answer after ``delay`` seconds."""
    return cyclone.web.Application([(r"/", DelayedHandler), (r"/await", AwaitHandler)], delay=delay)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--delay", type=float, default=5.0)
    args = parser.parse_args()
    reactor.listenTCP(args.port, Application(args.delay), interface="127.0.0.1")
    print(f"http://127.0.0.1:{args.port}/ answers after {args.delay}s")
    reactor.run()
