"""SSEHandler over real sockets: headers, event framing, life cycle, heartbeats, back-pressure."""

from __future__ import annotations

import http.client
import subprocess
import sys

import pytest
from cyclone_ext_realtime.hub import Hub
from cyclone_ext_realtime.sse import format_event
from sse_stream import SSEStream
from twisted.internet import defer
from waiting import wait_until

from cyclone import plugins
from cyclone.testing import call
from cyclone.web import Application, HTTPError
from cyclone_ext_realtime import SSEHandler


def marker_stream(port: int) -> None:
    """Open, read and close a stream on another connection: a positive signal.

    Its first event arrives only after the server's reactor has run the turns
    that follow what a test did before, so a check made after it sees anything
    those turns would have done (a second on_close, a spurious flush...).
    """
    with SSEStream(port, "/events/marker") as marker:
        assert marker.next_event()["data"] == "hello marker"


class Events(SSEHandler):
    """Sends a fixed set of events, then keeps the stream open."""

    log: list[str] = []

    def on_open(self, name="world"):
        self.log.append(f"open {name} last={self.last_event_id}")
        self.send_event(f"hello {name}")
        self.send_event("line 1\nline 2\r\nline 3\rline 4", event="multi", id="7")
        self.send_event({"a": [1, 2], "b": "x"}, event="json", retry=1500)
        self.sendEvent("old style", event="legacy", eid=8)

    def on_close(self):
        self.log.append("close")


class LegacyNames(SSEHandler):
    """cyclone 1.x names: bind and unbind."""

    log: list[str] = []

    def bind(self):
        self.log.append("bind")
        self.sendEvent("bound")

    def unbind(self):
        self.log.append("unbind")


class FinishesItself(SSEHandler):
    log: list[str] = []

    async def on_open(self):
        await self.send_event("only one")
        self.finish()

    def on_close(self):
        self.log.append("close")

    def on_finish(self):
        self.log.append("finish")


class Refused(SSEHandler):
    def prepare(self):
        raise HTTPError(403)


class Injection(SSEHandler):
    errors: list[str] = []

    def on_open(self):
        for kwargs in ({"event": "a\nretry: 1"}, {"id": "1\r\ndata: x"}, {"id": "a\0b"}):
            try:
                self.send_event("x", **kwargs)
            except ValueError as e:
                self.errors.append(str(e))
        self.send_event("after")


class Subscriber(SSEHandler):
    def on_open(self, channel):
        self.subscribe(channel).ready().addCallback(lambda _: self.send_event("subscribed"))


@pytest.fixture
def app():
    for cls in (Events, LegacyNames, FinishesItself, Injection):
        cls.log = [] if hasattr(cls, "log") else None
    Injection.errors = []
    application = Application(
        [
            (r"/events", Events),
            (r"/events/(\w+)", Events),
            (r"/legacy", LegacyNames),
            (r"/finishes", FinishesItself),
            (r"/refused", Refused),
            (r"/injection", Injection),
            (r"/sub/(\w+)", Subscriber),
        ],
        hub=Hub(),
        compress_response=True,
        sse_heartbeat_interval=0,
    )
    yield application
    # Let the server notice the streams this test closed, so their on_close does
    # not land in the next test's (class-level) log.
    wait_until(lambda: not application.connections, message="a stream is still open")


def test_stream_headers_are_set_and_gzip_leaves_the_stream_alone(serve, app):
    port = serve(app)
    with SSEStream(port, "/events", {"Accept-Encoding": "gzip, deflate"}) as s:
        assert s.status == 200
        assert s.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert s.headers["cache-control"] == "no-cache"
        assert s.headers["x-accel-buffering"] == "no"
        assert s.headers["transfer-encoding"] == "chunked"
        assert s.headers.get("content-encoding", "identity") == "identity"
        assert s.next_block() == ["data: hello world"]


def test_events_are_framed_field_by_field(serve, app):
    port = serve(app)
    with SSEStream(port, "/events/bob") as s:
        assert s.next_block() == ["data: hello bob"]
        assert s.next_block() == [
            "event: multi",
            "id: 7",
            "data: line 1",
            "data: line 2",
            "data: line 3",
            "data: line 4",
        ]
        assert s.next_event() == {"event": "json", "retry": "1500", "data": '{"a":[1,2],"b":"x"}'}
        assert s.next_event() == {"event": "legacy", "id": "8", "data": "old style"}
    assert Events.log[0] == "open bob last=None"


def test_a_field_value_cannot_inject_another_field(serve, app):
    port = serve(app)
    with SSEStream(port, "/injection") as s:
        assert s.next_block() == ["data: after"]
    assert len(Injection.errors) == 3
    assert all("one line" in e or "NUL" in e for e in Injection.errors)


def test_format_event_splits_every_kind_of_line_break():
    assert format_event("a\r\nb\rc\nd") == b"data: a\ndata: b\ndata: c\ndata: d\n\n"
    assert format_event("trailing\n") == b"data: trailing\ndata: \n\n"
    assert format_event(b"caf\xc3\xa9") == "data: café\n\n".encode()
    assert format_event([1, "two"], id=3) == b'id: 3\ndata: [1,"two"]\n\n'
    assert format_event("x", retry=0) == b"retry: 0\ndata: x\n\n"
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError):
            format_event("x", retry=bad)


def test_last_event_id_reaches_the_handler(serve, app):
    port = serve(app)
    with SSEStream(port, "/events", {"Last-Event-ID": "41"}) as s:
        s.next_block()
    assert Events.log[0] == "open world last=41"


def test_client_leaving_runs_on_close_once(serve, app):
    port = serve(app)
    s = SSEStream(port, "/events")
    s.next_event()
    assert Events.log == ["open world last=None"]
    s.close()
    wait_until(lambda: Events.log == ["open world last=None", "close"])
    marker_stream(port)
    assert Events.log[:3] == ["open world last=None", "close", "open marker last=None"]
    assert Events.log[3:] in ([], ["close"])  # only the marker's own close may follow


def test_cyclone_1x_bind_and_unbind(serve, app):
    port = serve(app)
    s = SSEStream(port, "/legacy")
    assert s.next_event()["data"] == "bound"
    s.close()
    wait_until(lambda: LegacyNames.log == ["bind", "unbind"])


def test_handler_finishing_ends_the_stream_and_runs_on_close(serve, app):
    port = serve(app)
    with SSEStream(port, "/finishes") as s:
        assert s.next_event()["data"] == "only one"
        s.wait_closed()
    wait_until(lambda: FinishesItself.log == ["close", "finish"])
    marker_stream(port)
    assert FinishesItself.log == ["close", "finish"]


def test_prepare_can_refuse_the_stream(serve, app):
    port = serve(app)
    with SSEStream(port, "/refused") as s:
        assert s.status == 403
        assert "event-stream" not in s.headers["content-type"]


def test_heartbeat_comments_keep_the_stream_alive(serve):
    port = serve(Application([(r"/events", Events)], sse_heartbeat_interval=0.05))
    with SSEStream(port, "/events") as s:
        for _ in range(4):
            s.next_block()
        assert s.next_block(timeout=2) == [": keep-alive"]
        assert s.next_block(timeout=2) == [": keep-alive"]


def test_subscriptions_end_with_the_stream(serve, app):
    port = serve(app)
    hub = app.settings.hub
    s = SSEStream(port, "/sub/news")
    assert s.next_event()["data"] == "subscribed"
    assert hub.subscriber_count("news") == 1
    call(hub.publish, "news", {"headline": "it works"})
    assert s.next_event() == {"data": '{"headline":"it works"}'}
    s.close()
    wait_until(lambda: hub.subscriber_count("news") == 0)


class Flood(SSEHandler):
    """Sends EVENTS big events, each as soon as the previous flush says the client can take it."""

    EVENTS = 64
    state: dict[str, int] = {}

    def on_open(self):
        self.state.update(sent=0, waits=0, waiting=0)
        self._more()

    def _more(self, _=None):
        self.state["waiting"] = 0
        while self.state["sent"] < self.EVENTS:
            d = self.send_event("x" * 262144)
            self.state["sent"] += 1
            if not d.called:
                self.state["waits"] += 1
                self.state["waiting"] = 1
                d.addCallback(self._more)
                return


def test_send_event_returns_the_flush_deferred_for_back_pressure(serve):
    port = serve(Application([(r"/flood", Flood)], sse_heartbeat_interval=0))
    s = SSEStream(port, "/flood")
    wait_until(lambda: Flood.state.get("waiting") == 1)
    # Positive signal: requests on other connections are answered, so the
    # server's reactor has turned many times since the handler began waiting.
    for _ in range(3):
        marker = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        marker.request("GET", "/marker")
        assert marker.getresponse().status == 404
        marker.close()
    # The client reads nothing: the handler is still waiting, with most events unsent.
    assert Flood.state["waiting"] == 1
    assert Flood.state["sent"] < Flood.EVENTS
    for _ in range(Flood.EVENTS):
        assert len(s.next_event()["data"]) == 262144
    # The last flush fires once the client has read it all.
    wait_until(lambda: Flood.state["waiting"] == 0 and Flood.state["sent"] == Flood.EVENTS)
    assert Flood.state["waits"] >= 1
    s.close()


def test_http10_clients_get_a_stream_ended_by_closing(serve, app):
    port = serve(app)
    with SSEStream(port, "/events", http10=True) as s:
        assert "transfer-encoding" not in s.headers
        assert s.next_event()["data"] == "hello world"


def test_sse_is_the_realtime_plugin_and_the_old_import_path_works():
    import cyclone.sse

    assert plugins.load(plugins.REALTIME, "sse") is SSEHandler
    assert cyclone.sse.SSEHandler is SSEHandler


def test_cyclone_sse_names_the_extra_when_the_extension_is_missing():
    script = "import sys; sys.modules['cyclone_ext_realtime'] = None; import cyclone.sse"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 1
    assert "pip install 'cyclone[realtime]'" in result.stderr


def test_on_open_errors_after_the_headers_close_the_stream(serve):
    class Broken(SSEHandler):
        def on_open(self):
            raise RuntimeError("on purpose")

    port = serve(Application([(r"/broken", Broken)]))
    with SSEStream(port, "/broken") as s:
        assert s.status == 200
        with pytest.raises(EOFError):
            s.next_block()


def test_send_event_after_the_stream_ended_sends_nothing(serve):
    results = []

    class Late(SSEHandler):
        def on_open(self):
            self.finish()
            results.append(self.send_event("too late"))

    port = serve(Application([(r"/late", Late)]))
    with SSEStream(port, "/late") as s:
        s.wait_closed()
    wait_until(lambda: results)
    assert isinstance(results[0], defer.Deferred) and results[0].called
