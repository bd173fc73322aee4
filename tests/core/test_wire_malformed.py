"""Malformed and ambiguous requests: one answer (400, 405, 505...), then close.

Every case goes through a real socket. The server must answer with exactly one
error response and close: no traceback, no hang, and no second interpretation
(a request hidden in a body must never be answered). h11 and llhttp serve as
oracles: where both reject the bytes, the server must reject them too.
"""

from __future__ import annotations

import pytest
from wire import Client, exchange, h11_verdict, llhttp_verdict

import cyclone.web


class EchoHandler(cyclone.web.RequestHandler):
    def get(self, *args):
        self.write({"uri": self.request.uri, "body": self.request.body.decode("latin-1")})

    post = put = get


@pytest.fixture
def port(serve):
    return serve(cyclone.web.Application([(r"/.*", EchoHandler)]))


def case(data: bytes | str, id: str, status: int = 400):
    if isinstance(data, str):
        data = data.encode("latin-1")
    return pytest.param(data, status, id=id)


H = "Host: example.com\r\n"

MALFORMED = [
    # framing: Content-Length and Transfer-Encoding
    case(
        f"POST / HTTP/1.1\r\n{H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n",
        "content-length-and-chunked",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        "duplicate-content-length",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "conflicting-content-length",
    ),
    case(f"POST / HTTP/1.1\r\n{H}Content-Length: 3, 3\r\n\r\nabc", "content-length-list"),
    case(f"POST / HTTP/1.1\r\n{H}Content-Length: +3\r\n\r\nabc", "content-length-plus"),
    case(f"POST / HTTP/1.1\r\n{H}Content-Length: -3\r\n\r\nabc", "content-length-minus"),
    case(f"POST / HTTP/1.1\r\n{H}Content-Length: 0x3\r\n\r\nabc", "content-length-hex"),
    case(f"POST / HTTP/1.1\r\n{H}Content-Length: 3.0\r\n\r\nabc", "content-length-decimal"),
    case(f"POST / HTTP/1.1\r\n{H}Content-Length: \r\n\r\nabc", "content-length-empty"),
    case(f"POST / HTTP/1.1\r\n{H}Content-Length: 3 3\r\n\r\nabc", "content-length-two-numbers"),
    case(
        f"POST / HTTP/1.1\r\n{H}Content-Length: 99999999999999999999999\r\n\r\nabc",
        "content-length-overflow",
    ),
    # chunk sizes and extensions
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        "chunk-size-not-hex",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n"
        "10000000000000000000003\r\nabc\r\n0\r\n\r\n",
        "chunk-size-overflow",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n",
        "chunk-size-negative",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n",
        "chunk-size-0x-prefix",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n\r\nabc\r\n0\r\n\r\n",
        "chunk-size-empty",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n",
        "chunk-longer-than-size",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n3;\x01\r\nabc\r\n0\r\n\r\n",
        "chunk-extension-control-byte",
    ),
    case(
        f'POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n3;a="open\r\nabc\r\n0\r\n\r\n',
        "chunk-extension-unterminated-quote",
    ),
    case(f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n", "chunk-bare-lf"),
    # transfer codings
    case(f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: gzip\r\n\r\nabc", "te-gzip"),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "te-gzip-chunked",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        "te-chunked-twice",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
        "\r\n0\r\n\r\n",
        "te-two-chunked-fields",
    ),
    case(f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: identity\r\n\r\nabc", "te-identity"),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
        "te-chunked-not-last",
    ),
    case(f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", "te-xchunked"),
    case(f"POST / HTTP/1.0\r\n{H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "te-in-http10"),
    # header syntax
    case(f"GET / HTTP/1.1\r\n{H}X-Folded: a\r\n b\r\n\r\n", "obs-fold"),
    case(f"GET / HTTP/1.1\r\n{H}X-Folded: a\r\n\tb\r\n\r\n", "obs-fold-tab"),
    case(f"GET / HTTP/1.1\r\n{H} X-Leading-Space: a\r\n\r\n", "first-header-line-folded"),
    case(f"GET / HTTP/1.1\r\n{H}X-Space : a\r\n\r\n", "space-before-colon"),
    case(f"GET / HTTP/1.1\r\n{H}X-Tab\t: a\r\n\r\n", "tab-before-colon"),
    case(f"GET / HTTP/1.1\r\n{H}X\x01Ctl: a\r\n\r\n", "control-byte-in-name"),
    case(f"GET / HTTP/1.1\r\n{H}X-Ctl: a\x01b\r\n\r\n", "control-byte-in-value"),
    case(f"GET / HTTP/1.1\r\n{H}X-Nul: a\x00b\r\n\r\n", "nul-in-value"),
    case(f"GET / HTTP/1.1\r\n{H}X-Del: a\x7fb\r\n\r\n", "del-in-value"),
    case(f"GET / HTTP/1.1\r\n{H}X-Cr: a\rb\r\n\r\n", "bare-cr-in-value"),
    case(f"GET / HTTP/1.1\r\n{H}: no-name\r\n\r\n", "empty-header-name"),
    case(f"GET / HTTP/1.1\r\n{H}No-Colon\r\n\r\n", "header-without-colon"),
    case(f"GET / HTTP/1.1\r\n{H}X(paren): a\r\n\r\n", "separator-in-name"),
    # Host
    case("GET / HTTP/1.1\r\nX-Other: a\r\n\r\n", "missing-host-http11"),
    case(f"GET / HTTP/1.1\r\n{H}{H}\r\n", "duplicate-host"),
    case(f"GET / HTTP/1.1\r\n{H}Host: other.example\r\n\r\n", "two-different-hosts"),
    case("GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n", "host-with-space"),
    case("GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n", "host-with-userinfo"),
    case("GET / HTTP/1.1\r\nHost: example.com/path\r\n\r\n", "host-with-path"),
    case("GET / HTTP/1.1\r\nHost: example.com:80:80\r\n\r\n", "host-two-ports"),
    case("GET / HTTP/1.1\r\nHost: example.com:http\r\n\r\n", "host-port-not-numeric"),
    case("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", "host-unclosed-ipv6"),
    case("GET / HTTP/1.1\r\nHost: [not-an-ip]\r\n\r\n", "host-bracketed-garbage"),
    case("GET / HTTP/1.1\r\nHost: ex\xe4mple.com\r\n\r\n", "host-non-ascii"),
    case(
        "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
        "absolute-form-duplicate-host",
    ),
    # line endings and request line
    case("GET / HTTP/1.1\nHost: example.com\n\n", "bare-lf"),
    case("GET / HTTP/1.1\r\nHost: example.com\n\r\n", "bare-lf-in-headers"),
    case("GET / HTTP/1.1 \r\nHost: example.com\r\n\r\n", "trailing-space-request-line"),
    case("GET /a b HTTP/1.1\r\nHost: example.com\r\n\r\n", "space-in-target"),
    case("GET /\x7f HTTP/1.1\r\nHost: example.com\r\n\r\n", "del-in-target"),
    case("GET /\xff HTTP/1.1\r\nHost: example.com\r\n\r\n", "non-ascii-target"),
    case("GET example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", "target-not-origin-form"),
    case("GET ftp://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", "absolute-form-ftp"),
    case("GET http:///x HTTP/1.1\r\nHost: example.com\r\n\r\n", "absolute-form-no-host"),
    case(
        f"POST / HTTP/1.1\r\n{H}Content-Length: 2\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\nab",
        "upgrade-with-body",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\nUpgrade: foo\r\n"
        "Connection: upgrade\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        "upgrade-with-chunked-body",
    ),
    case("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "tls-client-hello"),
    case("GET / HTTP/2.0\r\nHost: example.com\r\n\r\n", "http-2.0", 505),
    case("GET / HTTP/0.9\r\nHost: example.com\r\n\r\n", "http-0.9", 505),
    case("GET / HTTP/1.2\r\nHost: example.com\r\n\r\n", "http-1.2", 505),
    case("GET / HTTP/3.0\r\nHost: example.com\r\n\r\n", "http-3.0", 505),
    case("GET / HTTP/1.10\r\nHost: example.com\r\n\r\n", "http-1.10"),
    case("GET / http/1.1\r\nHost: example.com\r\n\r\n", "lowercase-http"),
    case("GET / FOO/1.1\r\nHost: example.com\r\n\r\n", "garbage-protocol"),
    case("GET /\r\n\r\n", "simple-request-http09", 505),
    case("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "http2-preface", 505),
]


@pytest.mark.parametrize(("data", "status"), MALFORMED)
def test_malformed_request_gets_one_error_and_close(port, data, status):
    responses, closed = exchange(port, data)
    assert [r.status for r in responses] in ([status], [400]), responses
    response = responses[0]
    assert response.header("Connection") == "close"
    assert b"Traceback" not in response.body
    assert closed


SMUGGLING = [
    case(
        f"POST / HTTP/1.1\r\n{H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
        f"0\r\n\r\nGET /hidden HTTP/1.1\r\n{H}\r\n",
        "cl-te",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
        f"5c\r\nGET /hidden HTTP/1.1\r\n{H}Content-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n",
        "te-cl",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"
        f"0\r\n\r\nGET /hidden HTTP/1.1\r\n{H}\r\n",
        "te-te-obfuscated",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n"
        f"0\r\n\r\nGET /hidden HTTP/1.1\r\n{H}\r\n",
        "te-space-before-colon",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding:\x0bchunked\r\nContent-Length: 4\r\n\r\n"
        f"0\r\n\r\nGET /hidden HTTP/1.1\r\n{H}\r\n",
        "te-vertical-tab",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n"
        f"0\r\nX: y\r\nGET /hidden HTTP/1.1\r\n{H}\r\n",
        "bad-trailer-hides-request",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}Content-Length: 0\r\nContent-Length: 44\r\n\r\n"
        f"GET /hidden HTTP/1.1\r\n{H}\r\n",
        "cl-cl",
    ),
    case(
        f"POST / HTTP/1.1\r\n{H}X: a\nContent-Length: 38\r\n\r\nGET /hidden HTTP/1.1\r\n{H}\r\n",
        "lf-hidden-content-length",
    ),
]


@pytest.mark.parametrize(("data", "status"), SMUGGLING)
def test_smuggled_request_is_never_answered(port, data, status):
    responses, closed = exchange(port, data)
    assert [r.status for r in responses] == [status]
    assert b"/hidden" not in responses[0].body
    assert closed


@pytest.mark.parametrize(
    ("method", "target", "allow"),
    [
        ("FOO", "/", True),
        ("TRACE", "/", True),
        ("BREW", "/", True),
        ("CONNECT", "example.com:443", True),
        ("G\x01T", "/", False),
        ("\x16\x03\x01", "/", False),
    ],
    ids=["unknown-FOO", "TRACE", "unknown-BREW", "CONNECT", "control-in-method", "binary"],
)
def test_unsupported_methods(port, method, target, allow):
    data = f"{method} {target} HTTP/1.1\r\n{H}Connection: close\r\n\r\n".encode("latin-1")
    responses, closed = exchange(port, data)
    assert closed
    assert len(responses) == 1
    response = responses[0]
    if allow:
        assert response.status == 405
        methods = {m.strip() for m in response.header("Allow").split(",")}
        assert {"GET", "POST"} <= methods
        assert "TRACE" not in methods
    else:
        assert response.status == 400


def test_error_after_good_requests_answers_them_first(port):
    data = (
        f"GET /one HTTP/1.1\r\n{H}\r\n"
        f"GET /two HTTP/1.1\r\n{H}\r\n"
        f"GET /three HTTP/1.1\r\n{H}X-Bad : a\r\n\r\n"
        f"GET /four HTTP/1.1\r\n{H}\r\n"
    ).encode()
    responses, closed = exchange(port, data)
    assert [r.status for r in responses] == [200, 200, 400]
    assert b"/one" in responses[0].body and b"/two" in responses[1].body
    assert closed


def test_unknown_method_after_good_requests_gets_405(port):
    data = f"GET /one HTTP/1.1\r\n{H}\r\nPOST /two HTTP/1.1\r\n{H}Content-Length: 4\r\n\r\n\r\n\r\n"
    data += f"FOO / HTTP/1.1\r\n{H}\r\n"
    responses, closed = exchange(port, data.encode())
    assert [r.status for r in responses] == [200, 200, 405]
    assert responses[2].header("Allow")
    assert closed


def test_garbage_after_close_is_ignored(port):
    with Client(port) as client:
        client.send(f"GET / HTTP/1.1\r\n{H}Connection: close\r\n\r\n\x00\x01garbage".encode())
        response = client.response()
        assert response.status == 200
        assert client.is_closed()


VALID = [
    case(f"GET /v HTTP/1.1\r\n{H}\r\n", "simple-get"),
    case(f"POST /v HTTP/1.1\r\n{H}Content-Length: 3\r\n\r\nabc", "content-length"),
    case(
        f"POST /v HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "chunked"
    ),
    case(
        f"POST /v HTTP/1.1\r\n{H}Transfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "chunked-capitalised",
    ),
    case(
        f"POST /v HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n"
        '3;name=value\r\nabc\r\n2;q="quoted"\r\nde\r\n0\r\n\r\n',
        "chunk-extensions",
    ),
    case(
        f"POST /v HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\nX-Trailer: 1\r\nY-Trailer: 2\r\n\r\n",
        "trailers",
    ),
    case(f"POST /v HTTP/1.1\r\n{H}Content-Length: 003\r\n\r\nabc", "content-length-leading-zeros"),
    case("GET /v HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", "host-ipv4-port"),
    case("GET /v HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", "host-ipv6-port"),
    case("GET /v HTTP/1.1\r\nHost: \r\n\r\n", "host-empty"),
    case(f"GET /v HTTP/1.1\r\n{H}X-Empty:\r\n\r\n", "empty-header-value"),
    case(f"GET /v HTTP/1.1\r\n{H}X-Tabs:\ta b\t\r\n\r\n", "tab-whitespace-value"),
    case(f"GET /v HTTP/1.1\r\n{H}X-Obs: caf\xe9\r\n\r\n", "obs-text-value"),
    case("GET /v HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "http10-without-host"),
    case("GET http://example.com/v?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", "absolute-form"),
]


@pytest.mark.parametrize(
    ("data", "status"), [(p.values[0], 200) for p in VALID], ids=[p.id for p in VALID]
)
def test_valid_request_is_read_as_the_oracles_read_it(port, data, status):
    seen_by = {"h11": h11_verdict(data), "llhttp": llhttp_verdict(data)}
    responses, _ = exchange(
        port, data + b"GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    )
    assert [r.status for r in responses] == [200, 200]
    import json

    seen = json.loads(responses[0].body)
    assert seen["uri"].endswith("/v") or seen["uri"].startswith("/v")
    for name, verdict in seen_by.items():
        if verdict:  # the oracle accepted it: same body, same single request
            assert len(verdict) == 1, name
            assert verdict[0][1].decode("latin-1") == seen["body"], name
    assert json.loads(responses[1].body)["uri"] == "/after"
