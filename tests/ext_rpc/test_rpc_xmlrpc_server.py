"""The XML-RPC server, with the standard library's ServerProxy and Twisted's Proxy as clients."""

from __future__ import annotations

import datetime
import xmlrpc.client

import pytest
from rpc_app import application
from rpc_http import post
from twisted.web.xmlrpc import Proxy

from cyclone.testing import call

# twisted.web.xmlrpc.Proxy still stands on the deprecated HTTPClient: an independent client.
pytestmark = pytest.mark.filterwarnings("ignore:twisted.web.http.HTTPClient:DeprecationWarning")


def proxy(port: int, path: str = "/xml", **kwargs) -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}{path}", **kwargs)


def test_calls_with_every_kind_of_method(port):
    server = proxy(port)
    assert server.echo("héllo") == "héllo"
    assert server.add(2, 3) == 5
    assert server.sort([3, 1, 2]) == [1, 2, 3]
    assert server.deferred({"a": [1, 2.5, True]}) == {"a": [1, 2.5, True]}
    assert server.coro("async") == "async"


def test_faults(port):
    server = proxy(port)
    with pytest.raises(xmlrpc.client.Fault) as info:
        server.nope()
    assert info.value.faultCode == 8001
    with pytest.raises(xmlrpc.client.Fault) as info:
        server.fail()
    assert info.value.faultCode == 8002
    assert "secret detail" not in info.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as info:
        server.fault()
    assert (info.value.faultCode, info.value.faultString) == (12, "my fault")
    with pytest.raises(xmlrpc.client.Fault) as info:
        server.add(1)
    assert info.value.faultCode == -32602
    with pytest.raises(xmlrpc.client.Fault) as info:
        server.add("1", 2)  # typed: int
    assert info.value.faultCode == -32602


def test_traceback_with_debug(debug_port):
    with pytest.raises(xmlrpc.client.Fault) as info:
        proxy(debug_port).fail()
    assert "ValueError: secret detail" in info.value.faultString


def test_current_user_and_authenticated(port):
    assert proxy(port, headers=[("X-User", "ann")]).private() == "for ann"
    assert proxy(port, headers=[("X-User", "ann")]).marked() == "marked"
    for name in ("private", "marked"):
        with pytest.raises(xmlrpc.client.Fault) as info:
            getattr(proxy(port), name)()
        assert info.value.faultCode == -32001


def test_allow_none(port):
    with pytest.raises(xmlrpc.client.Fault) as info:
        proxy(port).none()  # the server does not allow None
    assert info.value.faultCode == 8002
    assert proxy(port, "/xml-none", allow_none=True).none() is None
    assert proxy(port, "/xml-none", allow_none=True).echo(None) is None


def test_use_datetime_on_the_server(port):
    moment = datetime.datetime(2026, 5, 6, 7, 8, 9)
    assert proxy(port, "/xml").when(moment) == ["DateTime", "20260506T07:08:09"]
    assert proxy(port, "/xml-none").when(moment) == ["datetime", "2026-05-06 07:08:09"]


def test_builtin_types_on_the_client(port):
    server = proxy(port, use_builtin_types=True)
    assert server.echo(b"\x00\xff") == b"\x00\xff"
    assert server.now() == datetime.datetime(2026, 1, 2, 3, 4, 5)
    assert server.kind(b"x") == "Binary"  # the server's own default
    plain = proxy(port)
    assert plain.echo(xmlrpc.client.Binary(b"ab")).data == b"ab"
    assert isinstance(plain.now(), xmlrpc.client.DateTime)


def test_introspection(port):
    server = proxy(port, "/xml-sub")
    names = server.system.listMethods()
    for name in ("echo", "add", "math.mul", "system.listMethods", "system.methodHelp",
                 "system.methodSignature", "system.multicall"):  # fmt: skip
        assert name in names
    assert names == sorted(names)
    assert server.system.methodHelp("add") == "Add two integers."
    assert server.system.methodHelp("sort") == ""
    assert server.system.methodSignature("add") == [["int", "int", "int"]]
    assert server.system.methodSignature("echo") == "undef"
    with pytest.raises(xmlrpc.client.Fault) as info:
        server.system.methodHelp("nope")
    assert info.value.faultCode == 8001


def test_sub_handlers(port):
    server = proxy(port, "/xml-sub")
    assert server.math.mul(6, 7) == 42
    with pytest.raises(xmlrpc.client.Fault) as info:
        server.physics.mul(1, 2)
    assert info.value.faultCode == 8001
    with pytest.raises(xmlrpc.client.Fault) as info:
        server.math.div(1, 2)
    assert info.value.faultCode == 8001


def test_multicall(port):
    server = proxy(port, "/xml-sub")
    multi = xmlrpc.client.MultiCall(server)
    multi.add(1, 2)
    multi.math.mul(2, 3)
    multi.fault()
    multi.nope()
    multi.coro("z")
    multi.none()  # None without allowNone: that call fails, not the multicall
    results = multi()
    assert results[0] == 3
    assert results[1] == 6
    with pytest.raises(xmlrpc.client.Fault) as info:
        results[2]
    assert info.value.faultCode == 12
    with pytest.raises(xmlrpc.client.Fault) as info:
        results[3]
    assert info.value.faultCode == 8001
    assert results[4] == "z"
    with pytest.raises(xmlrpc.client.Fault) as info:
        results[5]
    assert info.value.faultCode == 8002


def test_multicall_cannot_nest(port):
    calls = [{"methodName": "system.multicall", "params": [[]]}]
    answer = proxy(port).system.multicall(calls)
    assert answer[0]["faultCode"] == -32600


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<methodCall><methodName>echo</methodName>
<params><param><value><string>&lol9;</string></value></param></params></methodCall>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>echo</methodName>
<params><param><value><string>&xxe;</string></value></param></params></methodCall>"""

DOCTYPE_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE methodCall SYSTEM "http://127.0.0.1:9/evil.dtd">
<methodCall><methodName>echo</methodName>
<params><param><value><string>x</string></value></param></params></methodCall>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL, DOCTYPE_ONLY])
def test_dangerous_xml_is_refused_before_expansion(port, body):
    status, _headers, answer = post(port, "/xml", body, {"Content-Type": "text/xml"})
    assert status == 200
    with pytest.raises(xmlrpc.client.Fault) as info:
        xmlrpc.client.loads(answer)
    assert info.value.faultCode == -32700
    assert "refused" in info.value.faultString
    assert b"root:" not in answer and b"lollol" not in answer


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<methodCall><methodName>echo</methodName>", -32700),
        (b"not xml at all", -32700),
        (b"<methodCall><params></params></methodCall>", -32600),
    ],
)
def test_malformed_calls_are_faults(port, body, code):
    status, _headers, answer = post(port, "/xml", body, {"Content-Type": "text/xml"})
    assert status == 200
    with pytest.raises(xmlrpc.client.Fault) as info:
        xmlrpc.client.loads(answer)
    assert info.value.faultCode == code


def test_the_servers_body_limit(serve):
    port = serve(application(max_body_size=2000))
    with pytest.raises(xmlrpc.client.ProtocolError) as info:
        proxy(port).echo("x" * 5000)
    assert info.value.errcode == 413
    assert proxy(port).echo("x" * 100) == "x" * 100


def test_twisted_web_xmlrpc_proxy(port):
    client = Proxy(f"http://127.0.0.1:{port}/xml-sub".encode())
    assert call(client.callRemote, "add", 20, 22) == 42
    assert call(client.callRemote, "math.mul", 3, 5) == 15
    with pytest.raises(xmlrpc.client.Fault) as info:
        call(client.callRemote, "fault")
    assert info.value.faultCode == 12
    none_client = Proxy(f"http://127.0.0.1:{port}/xml-none".encode(), allowNone=True)
    assert call(none_client.callRemote, "echo", None) is None
