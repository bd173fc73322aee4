"""Asynchronous handlers: Deferreds, inlineCallbacks, coroutines, @asynchronous, disconnects."""

import socket
import threading

import pytest
from client import fetch, read_until, wait_until
from twisted.internet import defer, reactor, task

from cyclone.testing import call
from cyclone.web import Application, HTTPError, RequestHandler, asynchronous


def later(value=None, delay=0.01):
    """A Deferred that fires with ``value`` after ``delay`` seconds of reactor time."""
    return task.deferLater(reactor, delay, lambda: value)


def later_fail(exc, delay=0.01):
    def boom():
        raise exc

    return task.deferLater(reactor, delay, boom)


class PlainReturnHandler(RequestHandler):
    def get(self):
        self.write("plain")
        return 42  # a plain value is ignored


class DeferredHandler(RequestHandler):
    def get(self):
        d = later("from deferred")
        d.addCallback(self.write)
        return d


class InlineCallbacksHandler(RequestHandler):
    @defer.inlineCallbacks
    def get(self):
        first = yield later("a")
        second = yield later("b")
        self.write(first + second)


class CoroutineHandler(RequestHandler):
    async def get(self):
        value = await later("awaited")
        self.write(value)


class BareGeneratorHandler(RequestHandler):
    def get(self):
        value = yield later("generator")
        self.write(value)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/plain", b"plain"),
        ("/deferred", b"from deferred"),
        ("/inline", b"ab"),
        ("/coroutine", b"awaited"),
        ("/generator", b"generator"),
    ],
)
def test_every_kind_of_method_finishes_the_request(serve, path, body):
    port = serve(
        Application(
            [
                (r"/plain", PlainReturnHandler),
                (r"/deferred", DeferredHandler),
                (r"/inline", InlineCallbacksHandler),
                (r"/coroutine", CoroutineHandler),
                (r"/generator", BareGeneratorHandler),
            ]
        )
    )
    resp = fetch(port, path)
    assert (resp.status, resp.body) == (200, body)
    assert resp.headers["Content-Length"] == str(len(body))


class FailingHandler(RequestHandler):
    def get(self, kind):
        if kind == "deferred":
            return later_fail(RuntimeError("secret deferred failure"))
        if kind == "deferred-http":
            return later_fail(HTTPError(409, reason="Deferred Conflict"))
        if kind == "inline":
            return self._inline()
        if kind == "coroutine":
            return self._coroutine()
        if kind == "coroutine-http":
            return self._coroutine_http()
        raise AssertionError(kind)

    @defer.inlineCallbacks
    def _inline(self):
        yield later()
        raise ValueError("secret inline failure")

    async def _coroutine(self):
        await later()
        raise KeyError("secret coroutine failure")

    async def _coroutine_http(self):
        await later()
        raise HTTPError(402)


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("deferred", 500, "Internal Server Error"),
        ("deferred-http", 409, "Deferred Conflict"),
        ("inline", 500, "Internal Server Error"),
        ("coroutine", 500, "Internal Server Error"),
        ("coroutine-http", 402, "Payment Required"),
    ],
)
def test_async_errors_become_error_pages(serve, kind, status, reason):
    port = serve(Application([(r"/(\S+)", FailingHandler)]))
    resp = fetch(port, f"/{kind}")
    assert (resp.status, resp.reason) == (status, reason)
    assert b"secret" not in resp.body


# -- prepare --------------------------------------------------------------------------


class AsyncPrepareHandler(RequestHandler):
    async def prepare(self):
        self.note = await later("prepared")
        if self.get_argument("stop", None):
            self.finish("finished in prepare")
        elif self.get_argument("fail", None):
            raise HTTPError(401)

    def get(self):
        self.write(self.note)


class DeferredPrepareHandler(RequestHandler):
    def prepare(self):
        d = later("deferred-prepared")
        d.addCallback(lambda v: setattr(self, "note", v))
        return d

    async def get(self):
        self.write(self.note + "+" + await later("method"))


class InlinePrepareHandler(RequestHandler):
    @defer.inlineCallbacks
    def prepare(self):
        self.note = yield later("inline-prepared")

    def get(self):
        self.write(self.note)


def test_async_prepare_runs_before_the_method(serve):
    port = serve(
        Application(
            [
                (r"/a", AsyncPrepareHandler),
                (r"/d", DeferredPrepareHandler),
                (r"/i", InlinePrepareHandler),
            ]
        )
    )
    assert fetch(port, "/a").body == b"prepared"
    assert fetch(port, "/d").body == b"deferred-prepared+method"
    assert fetch(port, "/i").body == b"inline-prepared"


def test_async_prepare_may_finish_or_fail(serve):
    port = serve(Application([(r"/a", AsyncPrepareHandler)]))
    assert fetch(port, "/a?stop=1").body == b"finished in prepare"
    assert fetch(port, "/a?fail=1").status == 401


# -- current user ---------------------------------------------------------------------


class AsyncUserHandler(RequestHandler):
    async def get_current_user(self):
        return await later(self.request.headers.get("X-User"))

    def prepare(self):
        self.seen_in_prepare = self.current_user

    def get(self):
        self.write(f"{self.seen_in_prepare}|{self.current_user}")


class InlineUserHandler(RequestHandler):
    @defer.inlineCallbacks
    def get_current_user(self):
        name = yield later("inline-user")
        return name

    def get(self):
        self.write(str(self.current_user))


class FailingUserHandler(RequestHandler):
    async def get_current_user(self):
        await later()
        raise HTTPError(403)

    def get(self):
        self.write("never")


def test_async_current_user_is_ready_before_prepare(serve):
    port = serve(
        Application(
            [(r"/a", AsyncUserHandler), (r"/i", InlineUserHandler), (r"/f", FailingUserHandler)]
        )
    )
    assert fetch(port, "/a", headers={"X-User": "zoe"}).body == b"zoe|zoe"
    assert fetch(port, "/a").body == b"None|None"
    assert fetch(port, "/i").body == b"inline-user"
    assert fetch(port, "/f").status == 403


# -- @asynchronous --------------------------------------------------------------------


class ManualFinishHandler(RequestHandler):
    @asynchronous
    def get(self):
        self.write("waited ")
        reactor.callLater(0.02, self.finish, "then finished")


class AsyncReturnsHandler(RequestHandler):
    @asynchronous
    async def get(self):
        await later()
        self.write("coroutine returned; ")
        reactor.callLater(0.02, self.finish, "finished later")


class AsyncRaisesHandler(RequestHandler):
    @asynchronous
    def get(self):
        raise HTTPError(503)


def test_asynchronous_waits_for_finish(serve):
    port = serve(
        Application(
            [
                (r"/m", ManualFinishHandler),
                (r"/c", AsyncReturnsHandler),
                (r"/e", AsyncRaisesHandler),
            ]
        )
    )
    assert fetch(port, "/m").body == b"waited then finished"
    assert fetch(port, "/c").body == b"coroutine returned; finished later"
    assert fetch(port, "/e").status == 503


# -- disconnects ----------------------------------------------------------------------


class Recorder:
    """Events recorded in the reactor thread, read from the test thread."""

    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    def add(self, event):
        with self.lock:
            self.events.append(event)

    def snapshot(self):
        with self.lock:
            return list(self.events)


class LongPollHandler(RequestHandler):
    def initialize(self, recorder, waiting):
        self.recorder = recorder
        self.waiting = waiting

    @asynchronous
    def get(self):
        self.recorder.add("get")
        self.waiting.append(self)
        self.notifyFinish().addCallback(lambda _: self.recorder.add("notifyFinish"))

    def on_connection_close(self):
        self.recorder.add("on_connection_close")

    def on_finish(self):
        self.recorder.add("on_finish")


class SlowCoroutineHandler(RequestHandler):
    def initialize(self, recorder, waiting):
        self.recorder = recorder

    async def get(self):
        self.recorder.add("get")
        await later(delay=0.2)
        self.recorder.add("resumed")
        self.write("too late")

    def on_connection_close(self):
        self.recorder.add("on_connection_close")


@pytest.mark.parametrize("path", ["/poll", "/slow"])
def test_on_connection_close_runs_when_the_client_goes_away(serve, path):
    recorder, waiting = Recorder(), []
    kwargs = {"recorder": recorder, "waiting": waiting}
    port = serve(
        Application([(r"/poll", LongPollHandler, kwargs), (r"/slow", SlowCoroutineHandler, kwargs)])
    )
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    wait_until(lambda: "get" in recorder.snapshot())
    sock.close()
    wait_until(lambda: "on_connection_close" in recorder.snapshot())
    if path == "/poll":
        wait_until(lambda: "notifyFinish" in recorder.snapshot())
        # The handler is still there; finishing it now must not blow up.
        call(lambda: waiting[0].finish())
    else:
        wait_until(lambda: "resumed" in recorder.snapshot())
    events = recorder.snapshot()
    assert events.count("on_connection_close") == 1


def test_on_connection_close_does_not_run_on_normal_finish(serve):
    recorder, waiting = Recorder(), []
    port = serve(
        Application([(r"/poll", LongPollHandler, {"recorder": recorder, "waiting": waiting})])
    )
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(b"GET /poll HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: "get" in recorder.snapshot())
        call(lambda: waiting[0].finish("done"))
        data = read_until(sock, b"done")
        assert data.startswith(b"HTTP/1.1 200")
        wait_until(lambda: "notifyFinish" in recorder.snapshot())
    finally:
        sock.close()
    # Closing the idle keep-alive connection afterwards is not a disconnect of this request.
    sock2 = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock2.sendall(b"GET /poll HTTP/1.1\r\nHost: x\r\n\r\n")
    wait_until(lambda: recorder.snapshot().count("get") == 2)
    call(lambda: waiting[1].finish("second"))
    read_until(sock2, b"second")
    sock2.close()
    wait_until(lambda: recorder.snapshot().count("on_finish") == 2)
    assert "on_connection_close" not in recorder.snapshot()


class NotifyHandler(RequestHandler):
    def initialize(self, recorder, waiting):
        self.recorder = recorder

    def get(self):
        d = self.notifyFinish()
        d.addCallback(lambda _: self.recorder.add("finished"))
        self.write("quick")


def test_notify_finish_fires_on_normal_finish(serve):
    recorder = Recorder()
    port = serve(Application([(r"/", NotifyHandler, {"recorder": recorder, "waiting": []})]))
    assert fetch(port, "/").body == b"quick"
    wait_until(lambda: recorder.snapshot() == ["finished"])


class SyncUserBase(RequestHandler):
    def get_current_user(self):
        return "sync-base"

    def get(self):
        self.write(str(self.current_user))


class AsyncUserChild(SyncUserBase):
    async def get_current_user(self):
        return await later("async-child")


def test_async_current_user_in_a_subclass_of_a_sync_one(serve):
    port = serve(Application([(r"/base", SyncUserBase), (r"/child", AsyncUserChild)]))
    # The base class is served (and inspected) first.
    assert fetch(port, "/base").body == b"sync-base"
    assert fetch(port, "/child").body == b"async-child"
    assert fetch(port, "/base").body == b"sync-base"


ORDER: list[str] = []


class SlowThenLogHandler(RequestHandler):
    async def get(self):
        await later()
        self.write("slow")

    def on_finish(self):
        ORDER.append(f"on_finish {self.request.path}")


class FastThenLogHandler(SlowThenLogHandler):
    def get(self):
        ORDER.append("get /fast")
        self.write("fast")


def test_pipelined_requests_finish_in_order(serve):
    from client import raw_request

    ORDER.clear()
    port = serve(Application([(r"/slow", SlowThenLogHandler), (r"/fast", FastThenLogHandler)]))
    data = raw_request(
        port,
        b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    assert data.index(b"slow") < data.index(b"fast")
    wait_until(lambda: len(ORDER) == 3)
    assert ORDER == ["on_finish /slow", "get /fast", "on_finish /fast"]
