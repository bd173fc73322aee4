"""websocket_connect against cyclone's own server (ws:// and wss://) and against refusals."""

from __future__ import annotations

import queue
from typing import Any

import pytest
from cyclone_ext_realtime.client import WebSocketHandshakeError
from twisted.internet import defer, reactor
from twisted.internet import ssl as twisted_ssl
from twisted.internet.ssl import Certificate, optionsForClientTLS
from wsraw import EchoHandler

from cyclone.testing import call
from cyclone.web import Application
from cyclone_ext_realtime import WebSocketClosedError, WebSocketHandler, websocket_connect

pytestmark = pytest.mark.timeout(30)


class Server(EchoHandler):
    """Echo, plus commands: ``close`` closes 4002, ``headers`` reports request headers."""

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return subprotocols[-1]

    def on_message(self, message: str | bytes) -> None:
        if message == "close":
            self.close(4002, "server says bye")
        elif message == "headers":
            self.write_message(
                {
                    "x-token": self.request.headers.get("X-Token"),
                    "extensions": self.request.headers.get("Sec-Websocket-Extensions"),
                }
            )
        else:
            super().on_message(message)


def app(**settings: Any) -> Application:
    return Application([(r"/echo", Server), (r"/deflate", Server, {"compression": {}})], **settings)


async def round_trip(url: str, **kwargs: Any) -> dict[str, Any]:
    conn = await websocket_connect(url, **kwargs)
    await conn.write_message("hello")
    text = await conn.read_message()
    await conn.write_message(b"\x00\x01\x02")
    data = await conn.read_message()
    await conn.write_message("x" * (1 << 20))
    big = await conn.read_message()
    await conn.write_message("headers")
    headers = await conn.read_message()
    conn.close(1000, "done")
    end = await conn.read_message()
    return {
        "text": text,
        "data": data,
        "big": len(big),
        "headers": headers,
        "end": end,
        "subprotocol": conn.selected_subprotocol,
        "close": (conn.close_code, conn.close_reason),
        "extensions": conn.extensions,
    }


def test_round_trip_with_headers_and_subprotocols(serve):
    port = serve(app())
    result = call(
        round_trip,
        f"ws://127.0.0.1:{port}/echo",
        subprotocols=["a", "b"],
        headers={"X-Token": "t0k"},
    )
    assert result["text"] == "hello"
    assert result["data"] == b"\x00\x01\x02"
    assert result["big"] == 1 << 20
    assert '"x-token": "t0k"' in result["headers"]
    assert result["end"] is None
    assert result["subprotocol"] == "b"
    assert result["close"] == (1000, "done")  # the server echoed our close
    assert result["extensions"] == []


def test_compression(serve):
    port = serve(app())
    result = call(round_trip, f"ws://127.0.0.1:{port}/deflate", compression={})
    assert result["extensions"] == ["permessage-deflate"]
    assert "permessage-deflate" in result["headers"]
    assert result["big"] == 1 << 20
    declined = call(round_trip, f"ws://127.0.0.1:{port}/echo", compression={})
    assert declined["extensions"] == []
    assert declined["text"] == "hello"


def test_wss(certificate):
    key, cert = certificate
    factory = twisted_ssl.DefaultOpenSSLContextFactory(key, cert)
    port = call(reactor.listenSSL, 0, app(), factory, interface="127.0.0.1")
    try:
        with open(cert, "rb") as f:
            trust = Certificate.loadPEM(f.read())
        tls = optionsForClientTLS("localhost", trustRoot=trust)
        url = f"wss://localhost:{port.getHost().port}/deflate"
        result = call(round_trip, url, compression={}, tls_options=tls)
        assert result["text"] == "hello"
        assert result["big"] == 1 << 20
    finally:
        call(port.stopListening)


async def server_closes(url: str) -> tuple[Any, ...]:
    conn = await websocket_connect(url)
    await conn.write_message("close")
    message = await conn.read_message()
    again = await conn.read_message()
    try:
        conn.write_message("too late")
    except WebSocketClosedError:
        late = "refused"
    return message, again, conn.close_code, conn.close_reason, late


def test_server_close_reaches_read_message_and_close_code(serve):
    port = serve(app())
    assert call(server_closes, f"ws://127.0.0.1:{port}/echo") == (
        None,
        None,
        4002,
        "server says bye",
        "refused",
    )


async def expect_refusal(url: str, **kwargs: Any) -> Any:
    try:
        await websocket_connect(url, **kwargs)
    except WebSocketHandshakeError as e:
        return e.code
    return "connected"


def test_refused_handshakes_fail_the_deferred(serve):
    port = serve(app())
    assert call(expect_refusal, f"ws://127.0.0.1:{port}/nowhere") == 404
    origin = {"Origin": "https://elsewhere.example"}
    assert call(expect_refusal, f"ws://127.0.0.1:{port}/echo", headers=origin) == 403


def test_connection_refused_fails_the_deferred():
    from twisted.internet.error import ConnectError

    async def go() -> str:
        try:
            await websocket_connect("ws://127.0.0.1:1/")
        except ConnectError:
            return "refused"
        return "connected"

    assert call(go) == "refused"


def test_client_max_message_size(serve):
    class Big(WebSocketHandler):
        def open(self) -> None:
            self.write_message(bytes(5000), binary=True)

        def on_close(self) -> None:
            codes.put(self.close_code)

    codes: queue.Queue[Any] = queue.Queue()

    async def go(url: str) -> Any:
        conn = await websocket_connect(url, max_message_size=4096)
        return await conn.read_message()

    port = serve(Application([(r"/big", Big)]))
    assert call(go, f"ws://127.0.0.1:{port}/big") is None
    assert codes.get(timeout=5) == 1009  # the client refused the message


def test_on_message_callback_and_handler_to_handler(serve):
    """A handler may itself connect to another WebSocket (here: the echo endpoint)."""

    class Relay(WebSocketHandler):
        async def on_message(self, message: str | bytes) -> None:
            conn = await websocket_connect(f"ws://127.0.0.1:{port}/echo")
            await conn.write_message(f"relayed {message}")
            self.write_message(await conn.read_message())
            conn.close()

    received: list[Any] = []
    first: defer.Deferred[None] = defer.Deferred()

    def on_message(message: Any) -> None:
        received.append(message)
        if not first.called:
            first.callback(None)

    async def go(url: str) -> list[Any]:
        conn = await websocket_connect(url, on_message_callback=on_message)
        await conn.write_message("hi")
        await first
        conn.close()
        await conn.closed()
        return received

    port = serve(Application([(r"/echo", Server), (r"/relay", Relay)]))
    assert call(go, f"ws://127.0.0.1:{port}/relay") == ["relayed hi", None]
