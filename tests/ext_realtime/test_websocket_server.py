"""WebSocketHandler through real clients: the ``websockets`` library and raw sockets.

Each handler reports what happens to it on a ``queue.Queue``, read by the test
thread; messages cross a real TCP (or TLS) connection.
"""

from __future__ import annotations

import http.client
import queue
import ssl
from typing import Any

import pytest
from twisted.internet import defer, reactor
from twisted.internet import ssl as twisted_ssl
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from wsraw import EchoHandler, frame

from cyclone import plugins
from cyclone.testing import call
from cyclone.web import Application, authenticated
from cyclone_ext_realtime import WebSocketHandler

pytestmark = pytest.mark.timeout(30)


class Recorder(WebSocketHandler):
    """Records its life on ``events`` (a queue given by the URL spec)."""

    def initialize(self, events: queue.Queue[Any], compression: Any = None) -> None:
        self.events = events
        self.compression = compression

    def get_compression_options(self) -> Any:
        return self.compression

    def prepare(self) -> None:
        self.events.put(("prepare", self.get_cookie("session")))

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.events.put(("open", args, kwargs))

    def on_message(self, message: str | bytes) -> None:
        self.events.put(("message", message))
        if message == "close me":
            self.close(4001, "as you wish")
        elif message == "ping me":
            self.ping(b"hello")
        else:
            self.write_message(message, binary=isinstance(message, bytes))

    def on_ping(self, data: bytes) -> None:
        self.events.put(("ping", data))

    def on_pong(self, data: bytes) -> None:
        self.events.put(("pong", data))

    def on_close(self) -> None:
        self.events.put(("close", self.close_code, self.close_reason))


def next_event(events: queue.Queue[Any], kind: str) -> Any:
    while True:
        event = events.get(timeout=5)
        if event[0] == kind:
            return event


def recorder_app(**settings: Any) -> tuple[Application, queue.Queue[Any]]:
    events: queue.Queue[Any] = queue.Queue()
    app = Application(
        [
            (r"/ws/(\w+)", Recorder, {"events": events}),
            (r"/deflate", Recorder, {"events": events, "compression": {}}),
        ],
        **settings,
    )
    return app, events


def test_path_args_prepare_and_cookies_reach_the_handler(serve):
    app, events = recorder_app()
    port = serve(app)
    with connect(f"ws://127.0.0.1:{port}/ws/room1", additional_headers={"Cookie": "session=s1"}):
        assert next_event(events, "prepare") == ("prepare", "s1")
        assert next_event(events, "open") == ("open", ("room1",), {})


class SessionSocket(WebSocketHandler):
    def set_default_headers(self) -> None:
        self.set_header("X-Frame-Options", "DENY")

    def prepare(self) -> None:
        self.set_cookie("session", "fresh", httponly=True)

    def on_message(self, message: str | bytes) -> None:
        self.write_message(message)


def test_headers_and_cookies_set_before_the_upgrade_travel_with_the_101(serve):
    port = serve(Application([(r"/ws", SessionSocket)]))
    with connect(f"ws://127.0.0.1:{port}/ws") as ws:
        headers = ws.response.headers
        assert ws.response.status_code == 101
        assert headers["Set-Cookie"] == "session=fresh; Path=/; HttpOnly"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Connection"] == "Upgrade"
        assert "Content-Type" not in headers and "Content-Length" not in headers
        ws.send("still a websocket")
        assert ws.recv() == "still a websocket"


def test_text_binary_fragmented_and_large_messages_round_trip(serve):
    app, events = recorder_app()
    port = serve(app)
    big = bytes(range(256)) * 4096  # 1 MiB
    with connect(f"ws://127.0.0.1:{port}/ws/x", max_size=None, compression=None) as ws:
        ws.send("héllo")
        assert ws.recv() == "héllo"
        ws.send(b"\x00\xff")
        assert ws.recv() == b"\x00\xff"
        ws.send(["frag", "men", "ted"])  # one message in three frames
        assert ws.recv() == "fragmented"
        ws.send([b"a", b"b"])
        assert ws.recv() == b"ab"
        ws.send(big)
        assert ws.recv() == big
        ws.send("x" * (1 << 20))
        assert ws.recv() == "x" * (1 << 20)
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
    assert next_event(events, "message") == ("message", "héllo")
    assert next_event(events, "message") == ("message", b"\x00\xff")
    assert next_event(events, "message") == ("message", "fragmented")


def test_compression_is_negotiated_only_when_the_handler_enables_it(serve):
    app, _ = recorder_app()
    port = serve(app)
    message = "compress me " * 10000
    with connect(f"ws://127.0.0.1:{port}/deflate", max_size=None) as ws:
        assert ws.response.headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
        for _ in range(3):  # context takeover across messages
            ws.send(message)
            assert ws.recv() == message
        ws.send(bytes(1 << 20))
        assert ws.recv() == bytes(1 << 20)
    with connect(f"ws://127.0.0.1:{port}/ws/x") as ws:  # the client offers, the handler declines
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
        ws.send(message)
        assert ws.recv() == message


def test_ping_and_pong_both_ways(serve):
    app, events = recorder_app()
    port = serve(app)
    with connect(f"ws://127.0.0.1:{port}/ws/x") as ws:
        ws.ping(b"from client").wait(5)  # the server answered with a pong
        assert next_event(events, "ping") == ("ping", b"from client")
        ws.send("ping me")
        assert next_event(events, "pong") == ("pong", b"hello")  # websockets answered


def test_client_closes_with_code_and_reason(serve):
    app, events = recorder_app()
    port = serve(app)
    with connect(f"ws://127.0.0.1:{port}/ws/x") as ws:
        ws.close(4000, "bye now")
    assert next_event(events, "close") == ("close", 4000, "bye now")


def test_client_closes_without_a_code(serve, raw_clients):
    app, events = recorder_app()
    port = serve(app)
    client = raw_clients(port, "/ws/x")
    client.send(frame(8))  # an empty close frame
    assert client.read_close() is None  # echoed empty
    assert client.closed_by_server()
    assert next_event(events, "close") == ("close", None, None)


def test_server_closes_with_code_and_reason(serve):
    app, events = recorder_app()
    port = serve(app)
    with connect(f"ws://127.0.0.1:{port}/ws/x") as ws:
        ws.send("close me")
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
    assert info.value.rcvd.code == 4001
    assert info.value.rcvd.reason == "as you wish"
    # the client echoed the close: that is what the handler sees as the peer's close
    assert next_event(events, "close") == ("close", 4001, "as you wish")


def test_abrupt_disconnect_calls_on_close_without_a_code(serve, raw_clients):
    app, events = recorder_app()
    port = serve(app)
    client = raw_clients(port, "/ws/x")
    assert client.status == 101
    next_event(events, "open")
    client.close()
    assert next_event(events, "close") == ("close", None, None)


def test_plain_get_is_refused_with_400(serve):
    app, _ = recorder_app()
    port = serve(app)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/ws/x")
    response = conn.getresponse()
    assert response.status == 400
    assert b'Can "Upgrade" only to "WebSocket"' in response.read()


def test_wrong_version_is_refused_with_426(serve, raw_clients):
    app, _ = recorder_app()
    port = serve(app)
    client = raw_clients(port, "/ws/x", {"Sec-WebSocket-Version": "8"})
    # the header is added twice (13 then 8): not version 13
    assert client.status == 426
    assert b"sec-websocket-version: 13" in client.head.lower()


def test_cross_origin_is_refused_with_403_unless_check_origin_allows_it(serve):
    class AnyOrigin(EchoHandler):
        def check_origin(self, origin: str) -> bool:
            return origin == "https://friend.example"

    app = Application([(r"/echo", EchoHandler), (r"/any", AnyOrigin)])
    port = serve(app)
    with pytest.raises(InvalidStatus) as info:
        connect(f"ws://127.0.0.1:{port}/echo", origin="https://evil.example")
    assert info.value.response.status_code == 403
    with connect(f"ws://127.0.0.1:{port}/echo", origin=f"http://127.0.0.1:{port}") as ws:
        ws.send("same origin")
        assert ws.recv() == "same origin"
    with connect(f"ws://127.0.0.1:{port}/any", origin="https://friend.example") as ws:
        ws.send("friend")
        assert ws.recv() == "friend"


def test_authenticated_redirects_before_the_upgrade(serve, raw_clients):
    class Private(EchoHandler):
        def get_current_user(self) -> str | None:
            return self.get_cookie("user")

        @authenticated
        def get(self, *args: Any, **kwargs: Any) -> None:
            super().get(*args, **kwargs)

    app = Application([(r"/private", Private)], login_url="/login")
    port = serve(app)
    refused = raw_clients(port, "/private")
    assert refused.status == 302
    assert b"Location: /login?next=%2Fprivate" in refused.head
    assert refused.closed_by_server()  # an upgrade request answered in HTTP ends the connection
    with connect(f"ws://127.0.0.1:{port}/private", additional_headers={"Cookie": "user=ann"}) as ws:
        ws.send("in")
        assert ws.recv() == "in"


def test_select_subprotocol(serve):
    class Chat(EchoHandler):
        def select_subprotocol(self, subprotocols: list[str]) -> str | None:
            return "chat.v2" if "chat.v2" in subprotocols else None

        def open(self) -> None:
            self.write_message(self.selected_subprotocol or "none")

    app = Application([(r"/chat", Chat)])
    port = serve(app)
    with connect(f"ws://127.0.0.1:{port}/chat", subprotocols=["chat.v1", "chat.v2"]) as ws:
        assert ws.subprotocol == "chat.v2"
        assert ws.recv() == "chat.v2"
    with connect(f"ws://127.0.0.1:{port}/chat") as ws:
        assert ws.subprotocol is None
        assert ws.recv() == "none"


def test_async_open_and_on_message_keep_messages_in_order(serve):
    class Slow(WebSocketHandler):
        async def open(self) -> None:
            await deferLater(0.05)
            self.write_message("opened")

        async def on_message(self, message: str | bytes) -> None:
            # the first message waits longest: order must hold anyway
            await deferLater(0.05 if message == "0" else 0.001)
            await self.write_message(f"done {message}")

    app = Application([(r"/slow", Slow)])
    port = serve(app)
    with connect(f"ws://127.0.0.1:{port}/slow") as ws:
        for i in range(5):
            ws.send(str(i))
        assert [ws.recv() for _ in range(6)] == ["opened"] + [f"done {i}" for i in range(5)]


def deferLater(seconds: float) -> defer.Deferred[None]:
    from twisted.internet.task import deferLater as later

    return later(reactor, seconds, lambda: None)


def test_cyclone_1x_names(serve):
    events: queue.Queue[Any] = queue.Queue()

    class Old(WebSocketHandler):
        def connectionMade(self, *args: Any) -> None:
            events.put(("made", args))

        def messageReceived(self, message: str | bytes) -> None:
            self.sendMessage(f"got {message}")

        def connectionLost(self, reason: Any) -> None:
            events.put(("lost", reason is not None))

    app = Application([(r"/old/(\d+)", Old)])
    port = serve(app)
    with connect(f"ws://127.0.0.1:{port}/old/7") as ws:
        ws.send("x")
        assert ws.recv() == "got x"
    assert next_event(events, "made") == ("made", ("7",))
    assert next_event(events, "lost") == ("lost", True)


def test_write_message_sends_dicts_as_json_and_binary_on_request(serve):
    class Writer(WebSocketHandler):
        def open(self) -> None:
            self.write_message({"a": 1})
            self.write_message("bin", binary=True)
            self.write_message(b"text bytes")

    app = Application([(r"/w", Writer)])
    port = serve(app)
    with connect(f"ws://127.0.0.1:{port}/w") as ws:
        assert ws.recv() == '{"a": 1}'
        assert ws.recv() == b"bin"
        assert ws.recv() == "text bytes"


def test_tls(serve, certificate):
    key, cert = certificate
    app = Application([(r"/echo", EchoHandler, {"compression": {}})])
    factory = twisted_ssl.DefaultOpenSSLContextFactory(key, cert)
    port = call(reactor.listenSSL, 0, app, factory, interface="127.0.0.1")
    try:
        context = ssl.create_default_context(cafile=cert)
        with connect(f"wss://127.0.0.1:{port.getHost().port}/echo", ssl=context) as ws:
            ws.send("secure")
            assert ws.recv() == "secure"
            ws.send(bytes(300_000))
            assert ws.recv() == bytes(300_000)
    finally:
        call(port.stopListening)


def test_handshake_bytes_pipelined_with_the_first_frame(serve, raw_clients):
    app = Application([(r"/echo", EchoHandler)])
    port = serve(app)
    client = raw_clients(port, "/echo", early=frame(1, b"early") + frame(1, b"bird"))
    assert client.read_frame() == (1, b"early", True)
    assert client.read_frame() == (1, b"bird", True)


def test_registered_in_the_realtime_group_and_old_import_path():
    import cyclone.websocket

    assert plugins.load("cyclone.realtime", "websocket") is WebSocketHandler
    assert cyclone.websocket.WebSocketHandler is WebSocketHandler


def test_on_finish_runs_and_the_access_log_shows_101(serve):
    statuses: queue.Queue[int] = queue.Queue()
    app = Application(
        [(r"/echo", EchoHandler)], log_function=lambda h: statuses.put(h.get_status())
    )
    port = serve(app)
    with connect(f"ws://127.0.0.1:{port}/echo") as ws:
        ws.send("x")
        ws.recv()
    assert statuses.get(timeout=5) == 101
