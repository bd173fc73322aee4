"""The showcase demo: cyclone 2's core in one small app.

Run it with ``uv run python demos/showcase/app.py`` (or
``uv run cyclone run -r demos.showcase.app.Application``) and open
http://127.0.0.1:8888/.
"""

from __future__ import annotations

import sys
import time

from twisted.internet import defer, reactor, task

import cyclone.web
from cyclone.escape import xhtml_escape

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>cyclone 2 showcase</title>
<style>body{{font-family:sans-serif;max-width:46em;margin:2em auto}}code{{background:#eee}}</style>
</head><body>
<h1>cyclone 2 showcase</h1>
<p>Tornado's web API, served by a Twisted protocol.</p>
<ul>
<li><a href="/hello">/hello</a> — plain text</li>
<li><a href="/json">/json</a> — a dict written as JSON</li>
<li><a href="{user_url}">{user_url}</a> — a routed path (<code>reverse_url</code>)</li>
<li><a href="/sleep">/sleep</a> — <code>@inlineCallbacks</code> and <code>deferLater</code></li>
<li><a href="/async">/async</a> — <code>async def</code> awaiting a Deferred</li>
<li><a href="/stream">/stream</a> — a response flushed in chunks</li>
<li><a href="/clock">/clock</a> — long polling: waits for the next tick of a shared clock</li>
<li><a href="/upload">/upload</a> — a multipart file upload</li>
<li><a href="/boom">/boom</a> — an uncaught error (a traceback page with <code>--debug</code>)</li>
</ul>
<p>Your address: <code>{remote_ip}</code>, protocol <code>{protocol}</code>,
user agent <code>{agent}</code>.</p>
</body></html>
"""


class IndexHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(
            PAGE.format(
                user_url=self.reverse_url("user", 42),
                remote_ip=xhtml_escape(self.request.remote_ip),
                protocol=xhtml_escape(self.request.protocol),
                agent=xhtml_escape(self.request.headers.get("User-Agent", "?")),
            )
        )


class HelloHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.write("Hello, world\n")


class JSONHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write({"message": "Hello, world", "query": self.request.query})


class UserHandler(cyclone.web.RequestHandler):
    def get(self, user_id: str) -> None:
        self.write({"user": int(user_id)})


class SleepHandler(cyclone.web.RequestHandler):
    @defer.inlineCallbacks
    def get(self):
        started = time.monotonic()
        yield task.deferLater(reactor, 0.2, lambda: None)
        self.write({"slept": round(time.monotonic() - started, 3)})


class AsyncHandler(cyclone.web.RequestHandler):
    async def get(self) -> None:
        value = await task.deferLater(reactor, 0.05, lambda: "computed later")
        self.write({"value": value})


class StreamHandler(cyclone.web.RequestHandler):
    async def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        for i in range(5):
            self.write(f"chunk {i}\n")
            await self.flush()
            await task.deferLater(reactor, 0.05, lambda: None)


class Clock:
    """Ticks once a second and answers every waiting long-poll request."""

    def __init__(self, interval: float = 1.0) -> None:
        self.waiting: set[ClockHandler] = set()
        self.loop = task.LoopingCall(self.tick)
        self.interval = interval

    def start(self) -> None:
        if not self.loop.running:
            self.loop.start(self.interval, now=False)

    def tick(self) -> None:
        now = time.strftime("%H:%M:%S")
        waiting, self.waiting = self.waiting, set()
        for handler in waiting:
            handler.finish({"time": now})


class ClockHandler(cyclone.web.RequestHandler):
    def initialize(self, clock: Clock) -> None:
        self.clock = clock

    @cyclone.web.asynchronous
    def get(self) -> None:
        self.clock.start()
        self.clock.waiting.add(self)
        self.notifyFinish().addCallback(lambda _: self.clock.waiting.discard(self))


UPLOAD_FORM = """<!DOCTYPE html><html><body>
<form method="post" enctype="multipart/form-data">
<input type="file" name="file"> <input name="note" placeholder="a note">
<button>Upload</button></form></body></html>"""


class UploadHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(UPLOAD_FORM)

    def post(self) -> None:
        files = [
            {"filename": f.filename, "content_type": f.content_type, "size": len(f.body)}
            for f in self.request.files.get("file", [])
        ]
        self.write({"files": files, "note": self.get_body_argument("note", "")})


class BoomHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        raise RuntimeError("the showcase fails on purpose here")


def Application(debug: bool = False, clock_interval: float = 1.0) -> cyclone.web.Application:
    """Build the showcase application."""
    clock = Clock(clock_interval)
    return cyclone.web.Application(
        [
            (r"/", IndexHandler),
            (r"/hello", HelloHandler),
            (r"/json", JSONHandler),
            cyclone.web.url(r"/user/([0-9]+)", UserHandler, name="user"),
            (r"/sleep", SleepHandler),
            (r"/async", AsyncHandler),
            (r"/stream", StreamHandler),
            (r"/clock", ClockHandler, {"clock": clock}),
            (r"/upload", UploadHandler),
            (r"/boom", BoomHandler),
        ],
        compress_response=True,
        debug=debug,
    )


def main(argv: list[str]) -> None:
    from twisted.logger import globalLogBeginner, textFileLogObserver

    port = int(argv[argv.index("--port") + 1]) if "--port" in argv else 8888
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stdout)])
    reactor.listenTCP(port, Application(debug="--debug" in argv), interface="127.0.0.1")
    print(f"cyclone showcase on http://127.0.0.1:{port}/  (Ctrl-C stops it)")
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1:])
