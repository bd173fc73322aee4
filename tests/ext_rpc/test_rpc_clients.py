"""The clients (JsonRPC, XmlRpcProxy) against cyclone's servers and independent ones."""

from __future__ import annotations

import subprocess
import sys
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from cyclone.testing import call
from cyclone.web import HTTPError
from cyclone_ext_rpc import JsonRPC, JsonRpcError, XmlRpcProxy

PEERS = Path(__file__).with_name("rpc_peers.py")


def peer(kind: str) -> Iterator[int]:
    process = subprocess.Popen(
        [sys.executable, str(PEERS), kind], stdout=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.strip().isdigit(), f"the {kind} peer did not start"
        yield int(line)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def xmlrpc_peer() -> Iterator[int]:
    yield from peer("xmlrpc")


@pytest.fixture(scope="module")
def jsonrpc_peer() -> Iterator[int]:
    yield from peer("jsonrpc")


# -- JsonRPC against cyclone ----------------------------------------------------------


def test_jsonrpc_calls(port):
    cli = JsonRPC(f"http://127.0.0.1:{port}/json")
    assert call(cli.echo, "x") == "x"
    assert call(cli.coro, value=[1, {"a": None}]) == [1, {"a": None}]
    assert call(cli.call, "echo", 5) == 5
    assert call(cli.typed, 1, "n") == "1:n:1.0:None"
    with pytest.raises(TypeError):
        cli.typed(1, name="n")


def test_jsonrpc_errors(port):
    cli = JsonRPC(f"http://127.0.0.1:{port}/json")
    with pytest.raises(JsonRpcError) as info:
        call(cli.own_error)
    assert (info.value.code, info.value.message, info.value.data) == (
        42, "my error", {"why": "because"},
    )  # fmt: skip
    with pytest.raises(JsonRpcError) as info:
        call(cli.nope)
    assert info.value.code == -32601
    with pytest.raises(HTTPError) as http_info:
        call(JsonRPC(f"http://127.0.0.1:{port}/missing").echo, 1)
    assert http_info.value.status_code == 404


def test_jsonrpc_notifications_and_batches(port):
    from rpc_app import Recorder

    cli = JsonRPC(f"http://127.0.0.1:{port}/json")
    Recorder.seen.clear()
    assert call(cli.notify, "record", "via notify") is None
    assert Recorder.seen == ["via notify"]

    def run_batch():
        batch = cli.batch()
        assert batch.echo("a") == 0
        batch.notify("record", "in batch")
        assert batch.call("own_error") == 1
        assert batch.coro(value="c") == 2
        return batch.send()

    results = call(run_batch)
    assert results[0] == "a"
    assert isinstance(results[1], JsonRpcError) and results[1].code == 42
    assert results[2] == "c"
    assert "in batch" in Recorder.seen

    def notifications_only():
        batch = cli.batch()
        batch.notify("record", 1)
        return batch.send()

    assert call(notifications_only) == []


def test_jsonrpc_1_0_shape(port):
    cli = JsonRPC(f"http://127.0.0.1:{port}/json", version="1.0")
    assert call(cli.echo, "old") == "old"
    with pytest.raises(JsonRpcError):
        call(cli.fail)


# -- XmlRpcProxy against cyclone --------------------------------------------------------


def test_xmlrpc_proxy(port):
    proxy = XmlRpcProxy(f"http://127.0.0.1:{port}/xml-sub")
    assert call(proxy.add, 1, 2) == 3
    assert call(proxy.math.mul, 4, 5) == 20
    assert call(proxy.callRemote, "sort", [3, 2, 1]) == [1, 2, 3]
    assert "math.mul" in call(proxy.system.listMethods)
    with pytest.raises(xmlrpc.client.Fault) as info:
        call(proxy.fault)
    assert info.value.faultCode == 12
    none = XmlRpcProxy(f"http://127.0.0.1:{port}/xml-none", allow_none=True)
    assert call(none.echo, None) is None
    raw = XmlRpcProxy(f"http://127.0.0.1:{port}/xml", use_builtin_types=True)
    assert call(raw.echo, b"\x01") == b"\x01"
    with pytest.raises(HTTPError):
        call(XmlRpcProxy(f"http://127.0.0.1:{port}/missing").echo, 1)


# -- against independent servers --------------------------------------------------------


def test_xmlrpc_proxy_against_simplexmlrpcserver(xmlrpc_peer):
    proxy = XmlRpcProxy(f"http://127.0.0.1:{xmlrpc_peer}/RPC2", allow_none=True)
    assert call(proxy.echo, {"k": [1, 2.5]}) == {"k": [1, 2.5]}
    assert call(proxy.echo, None) is None
    assert call(proxy.math.add, 2, 3) == 5
    assert "math.add" in call(proxy.system.listMethods)
    with pytest.raises(xmlrpc.client.Fault) as info:
        call(proxy.fail)
    assert "peer failure" in info.value.faultString


def test_jsonrpc_against_jsonrpcserver(jsonrpc_peer):
    cli = JsonRPC(f"http://127.0.0.1:{jsonrpc_peer}/")
    assert call(cli.echo, "peer") == "peer"
    assert call(cli.subtract, 42, 23) == 19
    assert call(cli.subtract, subtrahend=23, minuend=42) == 19
    with pytest.raises(JsonRpcError) as info:
        call(cli.refuse)
    assert (info.value.code, info.value.message, info.value.data) == (77, "refused", {"by": "peer"})
    with pytest.raises(JsonRpcError) as info:
        call(cli.nope)
    assert info.value.code == -32601
    assert call(cli.notify, "log", 1) is None

    def run_batch():
        batch = cli.batch()
        batch.echo(1)
        batch.subtract(5, 3)
        batch.notify("log", 2)
        return batch.send()

    assert call(run_batch) == [1, 2]
