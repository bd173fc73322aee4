"""Smoke test of the RPC demo with the standard library's clients and ``websockets``."""

from __future__ import annotations

import json
import urllib.request
import xmlrpc.client

import pytest
from websockets.sync.client import connect

from demos.rpc.app import Application


def jsonrpc(port: int, path: str, method: str, *params):
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1})
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body.encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_the_1x_handlers(serve):
    port = serve(Application())
    xml = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/xmlrpc", allow_none=True)
    assert xml.echo("hi") == "hi"
    assert xml.sort([3, 1, 2]) == [1, 2, 3]
    assert xml.count([1, 2]) == 2
    assert xml.slow_echo("later", 0.01) == "later"
    assert "slow_echo" in xml.system.listMethods()
    assert jsonrpc(port, "/jsonrpc", "sort", [3, 1, 2])["result"] == [1, 2, 3]
    assert jsonrpc(port, "/jsonrpc", "slow_echo", "later", 0.01)["result"] == "later"


def test_one_service_three_protocols(serve):
    port = serve(Application(clock_interval=0.05))
    assert jsonrpc(port, "/rpc", "add", 2, 3)["result"] == 5
    assert xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/RPC2").add(2, 3) == 5
    with pytest.raises(xmlrpc.client.Fault) as info:
        xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/RPC2").divide(1, 0)
    assert info.value.faultCode == 1
    assert jsonrpc(port, "/rpc", "subscribe")["error"]["code"] == 2
    with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as ws:
        ws.send(json.dumps({"jsonrpc": "2.0", "method": "slow_square", "params": [4, 0.01],
                            "id": 1}))  # fmt: skip
        assert json.loads(ws.recv(timeout=10))["result"] == 16
        ws.send(json.dumps({"jsonrpc": "2.0", "method": "subscribe", "id": 2}))
        assert json.loads(ws.recv(timeout=10)) == {"jsonrpc": "2.0", "result": True, "id": 2}
        tick = json.loads(ws.recv(timeout=10))
        assert tick["method"] == "clock" and "time" in tick["params"]
