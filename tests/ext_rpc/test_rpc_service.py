"""One plain service over JSON-RPC (HTTP), XML-RPC (HTTP) and JSON-RPC over WebSocket.

Clients: requests, xmlrpc.client.ServerProxy and the ``websockets`` library.
"""

from __future__ import annotations

import json
import time
import xmlrpc.client

import pytest
import requests
from websockets.sync.client import connect


def jsonrpc(port: int, method: str, params=None, user: str | None = None):
    payload = {"jsonrpc": "2.0", "method": method, "id": 1}
    if params is not None:
        payload["params"] = params
    headers = {"X-User": user} if user else {}
    response = requests.post(
        f"http://127.0.0.1:{port}/calc", json=payload, headers=headers, timeout=10
    )
    assert response.status_code == 200
    return response.json()


def xml(port: int, user: str | None = None) -> xmlrpc.client.ServerProxy:
    headers = [("X-User", user)] if user else []
    return xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/calc-xml", headers=headers)


def ws(port: int, user: str | None = None):
    headers = {"X-User": user} if user else None
    return connect(f"ws://127.0.0.1:{port}/calc-ws", additional_headers=headers, open_timeout=10)


def ws_call(sock, method: str, params=None, id_=1):
    payload = {"jsonrpc": "2.0", "method": method, "id": id_}
    if params is not None:
        payload["params"] = params
    sock.send(json.dumps(payload))
    return json.loads(sock.recv(timeout=10))


def test_the_same_method_over_every_protocol(port):
    assert jsonrpc(port, "add", [2, 3])["result"] == 5
    assert jsonrpc(port, "add", {"a": 2, "b": 3})["result"] == 5
    assert xml(port).add(2, 3) == 5
    with ws(port) as sock:
        assert ws_call(sock, "add", [2, 3]) == {"jsonrpc": "2.0", "result": 5, "id": 1}
        assert ws_call(sock, "slow", ["z"])["result"] == "z"


def test_the_same_errors_over_every_protocol(port):
    assert jsonrpc(port, "divide", [1, 0])["error"] == {"code": 1001, "message": "division by zero"}
    with pytest.raises(xmlrpc.client.Fault) as info:
        xml(port).divide(1, 0)
    assert (info.value.faultCode, info.value.faultString) == (1001, "division by zero")
    with ws(port) as sock:
        assert ws_call(sock, "divide", [1, 0])["error"]["code"] == 1001

    assert jsonrpc(port, "add", ["1", 2])["error"]["code"] == -32602
    with pytest.raises(xmlrpc.client.Fault) as info:
        xml(port).add("1", 2)
    assert info.value.faultCode == -32602
    with ws(port) as sock:
        assert ws_call(sock, "add", [1])["error"]["code"] == -32602

    assert jsonrpc(port, "boom")["error"] == {"code": -32603, "message": "Internal error"}
    with pytest.raises(xmlrpc.client.Fault) as info:
        xml(port).boom()
    assert info.value.faultCode == 8002 and "hidden" not in info.value.faultString
    with ws(port) as sock:
        assert ws_call(sock, "boom")["error"] == {"code": -32603, "message": "Internal error"}

    assert jsonrpc(port, "_private")["error"]["code"] == -32601
    with pytest.raises(xmlrpc.client.Fault) as info:
        xml(port)._private()
    assert info.value.faultCode == 8001


def test_current_user_and_authenticated_over_every_protocol(port):
    assert jsonrpc(port, "whoami", user="ann")["result"] == {
        "user": "ann", "transport": "http", "protocol": "jsonrpc",
    }  # fmt: skip
    assert xml(port, "bob").whoami() == {"user": "bob", "transport": "http", "protocol": "xmlrpc"}
    with ws(port, "cid") as sock:
        assert ws_call(sock, "whoami")["result"] == {
            "user": "cid", "transport": "websocket", "protocol": "jsonrpc",
        }  # fmt: skip
        assert ws_call(sock, "secret")["result"] == "42"

    assert jsonrpc(port, "secret", user="ann")["result"] == "42"
    assert xml(port, "bob").secret() == "42"
    assert jsonrpc(port, "secret")["error"]["code"] == -32001
    with pytest.raises(xmlrpc.client.Fault) as info:
        xml(port).secret()
    assert info.value.faultCode == -32001
    with ws(port) as sock:
        assert ws_call(sock, "secret")["error"]["code"] == -32001


def test_server_notifications_on_the_websocket(port):
    with ws(port) as sock:
        sock.send(json.dumps({"jsonrpc": "2.0", "method": "tick", "params": [3], "id": "t"}))
        messages = [json.loads(sock.recv(timeout=10)) for _ in range(4)]
    assert messages[:3] == [{"jsonrpc": "2.0", "method": "tick", "params": [i]} for i in range(3)]
    assert messages[3] == {"jsonrpc": "2.0", "result": 3, "id": "t"}
    # Over HTTP there is no socket to notify on: an error, the same everywhere.
    assert jsonrpc(port, "tick", [1])["error"]["code"] == -32603


def test_websocket_batches_notifications_and_concurrency(port):
    with ws(port) as sock:
        sock.send(json.dumps([
            {"jsonrpc": "2.0", "method": "add", "params": [1, 1], "id": 1},
            {"jsonrpc": "2.0", "method": "add", "params": [1, 2]},
            {"jsonrpc": "2.0", "method": "add", "params": [2, 2], "id": 2},
        ]))  # fmt: skip
        assert [a["result"] for a in json.loads(sock.recv(timeout=10))] == [2, 4]
        sock.send(json.dumps({"jsonrpc": "2.0", "method": "add", "params": [1, 2]}))
        sock.send("{not json")
        assert json.loads(sock.recv(timeout=10))["error"]["code"] == -32700
        # A slow call does not hold back a quick one sent after it.
        started = time.monotonic()
        sock.send(json.dumps({"jsonrpc": "2.0", "method": "slow", "params": ["s", 0.5], "id": 1}))
        sock.send(json.dumps({"jsonrpc": "2.0", "method": "add", "params": [5, 5], "id": 2}))
        first = json.loads(sock.recv(timeout=10))
        second = json.loads(sock.recv(timeout=10))
        assert (first["id"], second["id"]) == (2, 1)
        assert time.monotonic() - started < 1.0


def test_openrpc_discover(port):
    document = jsonrpc(port, "rpc.discover")["result"]
    assert document["openrpc"].startswith("1.")
    assert document["info"]["title"] == "Calculator"
    methods = {m["name"]: m for m in document["methods"]}
    assert "_private" not in methods
    assert methods["add"]["params"] == [
        {"name": "a", "schema": {"type": "integer"}, "required": True},
        {"name": "b", "schema": {"type": "integer"}, "required": True},
    ]
    assert methods["add"]["result"]["schema"] == {"type": "integer"}
    assert methods["add"]["summary"] == "Add two integers."
    assert [p["name"] for p in methods["whoami"]["params"]] == []  # the context is not a param
    assert methods["slow"]["params"][1] == {"name": "delay", "schema": {"type": "number"}}
    with ws(port) as sock:
        assert ws_call(sock, "rpc.discover")["result"] == document


def test_websocket_max_in_flight_holds_back_reading(serve):
    from rpc_app import Calculator

    from cyclone.web import Application
    from cyclone_ext_rpc import routes

    port = serve(Application(routes(Calculator(), websocket="/ws", max_in_flight=1)))
    with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as sock:
        for id_ in (1, 2):
            sock.send(json.dumps({"jsonrpc": "2.0", "method": "slow", "params": ["s", 0.3],
                                  "id": id_}))  # fmt: skip
        sock.send(json.dumps({"jsonrpc": "2.0", "method": "add", "params": [1, 1], "id": 3}))
        ids = [json.loads(sock.recv(timeout=10))["id"] for _ in range(3)]
    # Two calls in flight (more than 1): the third message is read only once one ends.
    assert ids[-1] == 3
