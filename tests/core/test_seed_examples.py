"""The seed examples of cyclone 1.x, unchanged, served over real sockets.

Each handler below is written the way cyclone 1.x applications were; the tests
only check what a client sees.
"""

import json
import socket
import threading
import time

from client import curl, fetch, read_until, read_until_closed
from twisted.internet import defer, reactor, task
from waiting import wait_until

import cyclone.web
from cyclone.testing import call

# -- hello world ----------------------------------------------------------------------


class MainHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write("Hello, world")


def test_hello_world(serve):
    port = serve(cyclone.web.Application([(r"/", MainHandler)]))
    resp = fetch(port, "/")
    assert (resp.status, resp.body) == (200, b"Hello, world")
    out = curl(f"http://127.0.0.1:{port}/").stdout
    assert out == b"Hello, world"


# -- inlineCallbacks with a callLater-based sleep ----------------------------------------


class SleepHandler(cyclone.web.RequestHandler):
    @defer.inlineCallbacks
    def get(self):
        started = time.monotonic()
        yield task.deferLater(reactor, 0.05, lambda: None)
        self.write("slept %.2f" % (time.monotonic() - started))


def test_inline_callbacks_sleep(serve):
    port = serve(cyclone.web.Application([(r"/sleep", SleepHandler)]))
    resp = fetch(port, "/sleep")
    assert resp.status == 200
    assert float(resp.body.split()[1]) >= 0.04


def test_sleeping_requests_do_not_block_each_other(serve):
    port = serve(cyclone.web.Application([(r"/sleep", SleepHandler)]))
    results = []
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda: results.append(fetch(port, "/sleep").status))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [200] * 8
    assert time.monotonic() - started < 0.05 * 8


# -- the clock broadcaster (long polling) -----------------------------------------------


class ClockHandler(cyclone.web.RequestHandler):
    def initialize(self, clock):
        self.clock = clock

    @cyclone.web.asynchronous
    def get(self):
        self.clock.waiters.append(self)
        self.notifyFinish().addCallback(self._gone)

    def _gone(self, _):
        if self in self.clock.waiters:
            self.clock.waiters.remove(self)


class Clock:
    """A LoopingCall that answers every waiting client with the time."""

    def __init__(self):
        self.waiters = []
        self.ticks = 0
        self.loop = task.LoopingCall(self.tick)

    def tick(self):
        self.ticks += 1
        waiters, self.waiters = self.waiters, []
        for handler in waiters:
            handler.write(f"tick {self.ticks} at {time.time()}\n")
            handler.finish()


def test_clock_broadcaster(serve):
    clock = Clock()
    port = serve(cyclone.web.Application([(r"/clock", ClockHandler, {"clock": clock})]))
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
    try:
        for sock in socks:
            sock.sendall(b"GET /clock HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: len(clock.waiters) == 3)
        # start() returns a Deferred that fires only when the loop stops: do not wait on it.
        call(lambda: clock.loop.start(0.02, now=False) and None)
        replies = [read_until(sock, b"\n", timeout=5) for sock in socks]
        call(clock.loop.stop)
    finally:
        for sock in socks:
            sock.close()
    for reply in replies:
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert body.startswith(b"tick 1 at ")
    assert clock.waiters == []


def test_clock_forgets_clients_that_leave(serve):
    clock = Clock()
    port = serve(cyclone.web.Application([(r"/clock", ClockHandler, {"clock": clock})]))
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /clock HTTP/1.1\r\nHost: x\r\n\r\n")
    wait_until(lambda: len(clock.waiters) == 1)
    sock.close()
    wait_until(lambda: len(clock.waiters) == 0)


# -- no_keep_alive ----------------------------------------------------------------------


class NoKeepAliveHandler(cyclone.web.RequestHandler):
    no_keep_alive = True

    def get(self):
        self.write("closing after this")


def test_no_keep_alive(serve):
    port = serve(cyclone.web.Application([(r"/", NoKeepAliveHandler)]))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_until_closed(sock)
    assert b"Connection: close" in data
    assert data.endswith(b"closing after this")


# -- the request object -------------------------------------------------------------


class RequestDumpHandler(cyclone.web.RequestHandler):
    def get(self):
        self.dump()

    def post(self):
        self.dump()

    def dump(self):
        self.set_header("Content-Type", "application/json")
        self.set_header("X-Seed", "yes")
        self.write(
            json.dumps(
                {
                    "user_agent": self.request.headers.get("User-Agent"),
                    "query": self.request.query,
                    "body": self.request.body.decode(),
                    "protocol": self.request.protocol,
                    "remote_ip": self.request.remote_ip,
                    "method": self.request.method,
                    "uri": self.request.uri,
                    "version": self.request.version,
                }
            )
        )


def test_request_attributes(serve):
    port = serve(cyclone.web.Application([(r"/dump", RequestDumpHandler)]))
    resp = fetch(
        port,
        "/dump?name=cyclone",
        method="POST",
        body=b"raw body",
        headers={"User-Agent": "seed-test/1.0", "Content-Type": "text/plain"},
    )
    assert resp.headers["X-Seed"] == "yes"
    assert resp.headers["Content-Type"] == "application/json"
    assert json.loads(resp.body) == {
        "user_agent": "seed-test/1.0",
        "query": "name=cyclone",
        "body": "raw body",
        "protocol": "http",
        "remote_ip": "127.0.0.1",
        "method": "POST",
        "uri": "/dump?name=cyclone",
        "version": "HTTP/1.1",
    }


def test_request_attributes_over_http_1_0_with_curl(serve):
    port = serve(cyclone.web.Application([(r"/dump", RequestDumpHandler)]))
    out = curl("-0", "-A", "curl-seed", f"http://127.0.0.1:{port}/dump?a=b").stdout
    data = json.loads(out)
    assert data["version"] == "HTTP/1.0"
    assert data["user_agent"] == "curl-seed"
    assert data["query"] == "a=b"


# -- file uploads -----------------------------------------------------------------------


class UploadHandler(cyclone.web.RequestHandler):
    def post(self):
        files = []
        for field, items in sorted(self.request.files.items()):
            for f in items:
                files.append(
                    {
                        "field": field,
                        "filename": f.filename,
                        "content_type": f.content_type,
                        "size": len(f.body),
                        "head": f.body[:16].decode("latin-1"),
                    }
                )
        self.write({"files": files, "title": self.get_argument("title", None)})


def test_file_uploads_with_curl(serve, tmp_path):
    port = serve(cyclone.web.Application([(r"/upload", UploadHandler)]))
    text = tmp_path / "notes.txt"
    text.write_text("hello upload\n")
    blob = tmp_path / "data.bin"
    blob.write_bytes(bytes(range(256)) * 400)
    out = curl(
        "-F",
        f"doc=@{text};type=text/plain",
        "-F",
        f"blob=@{blob}",
        "-F",
        "title=two files",
        f"http://127.0.0.1:{port}/upload",
    ).stdout
    data = json.loads(out)
    assert data["title"] == "two files"
    blob_info, doc_info = data["files"]
    assert doc_info == {
        "field": "doc",
        "filename": "notes.txt",
        "content_type": "text/plain",
        "size": 13,
        "head": "hello upload\n",
    }
    assert blob_info["filename"] == "data.bin"
    assert blob_info["content_type"] == "application/octet-stream"
    assert blob_info["size"] == 256 * 400
    assert blob_info["head"] == bytes(range(16)).decode("latin-1")
