"""HTTPRequest as a handler sees it, and the X-headers a trusted proxy adds.

A tiny handler echoes every attribute as JSON, so each assertion is about what
the server understood from the bytes a real client sent.
"""

from __future__ import annotations

import http.client
import json

import pytest
from wire import Client

import cyclone.web
from cyclone.httputil import HTTPHeaders

H = "Host: example.com\r\n"


def decode(arguments):
    return {k: [v.decode("utf-8") for v in vs] for k, vs in arguments.items()}


class AttributesHandler(cyclone.web.RequestHandler):
    def get(self):
        r = self.request
        self.write(
            {
                "method": r.method,
                "uri": r.uri,
                "path": r.path,
                "query": r.query,
                "version": r.version,
                "headers": [list(pair) for pair in r.headers.get_all()],
                "body": r.body.decode("latin-1"),
                "remote_ip": r.remote_ip,
                "protocol": r.protocol,
                "host": r.host,
                "host_name": r.host_name,
                "arguments": decode(r.arguments),
                "query_arguments": decode(r.query_arguments),
                "body_arguments": decode(r.body_arguments),
                "files": {k: [f.filename for f in fs] for k, fs in r.files.items()},
                "cookies": {k: c.value for k, c in r.cookies.items()},
                "has_connection": r.connection is not None and not r.connection.closed,
                "headers_is_httpheaders": isinstance(r.headers, HTTPHeaders),
                "full_url": r.full_url(),
                "request_time": r.request_time(),
                "http11": r.supports_http_1_1(),
            }
        )

    post = put = patch = delete = options = get


def make_app(**settings):
    return cyclone.web.Application([(r"/.*", AttributesHandler)], **settings)


@pytest.fixture
def port(serve):
    return serve(make_app())


def fetch(port, method="GET", url="/", body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, url, body=body, headers=headers or {})
        response = conn.getresponse()
        assert response.status == 200, response.read()
        return json.loads(response.read())
    finally:
        conn.close()


def test_request_line_and_headers(port):
    seen = fetch(port, url="/a/b%20c?x=1&y=%C3%A9&x=2&empty=", headers={"X-Custom": "v1"})
    assert seen["method"] == "GET"
    assert seen["uri"] == "/a/b%20c?x=1&y=%C3%A9&x=2&empty="
    assert seen["path"] == "/a/b%20c"
    assert seen["query"] == "x=1&y=%C3%A9&x=2&empty="
    assert seen["version"] == "HTTP/1.1"
    assert ["X-Custom", "v1"] in seen["headers"]
    assert seen["headers_is_httpheaders"]
    assert seen["query_arguments"] == {"x": ["1", "2"], "y": ["é"], "empty": [""]}
    assert seen["arguments"] == seen["query_arguments"]
    assert seen["body_arguments"] == {} and seen["files"] == {}
    assert seen["remote_ip"] == "127.0.0.1"
    assert seen["protocol"] == "http"
    assert seen["host"] == f"127.0.0.1:{port}"
    assert seen["host_name"] == "127.0.0.1"
    assert seen["full_url"] == f"http://127.0.0.1:{port}/a/b%20c?x=1&y=%C3%A9&x=2&empty="
    assert seen["has_connection"]
    assert 0 <= seen["request_time"] < 1
    assert seen["http11"] is True


def test_repeated_headers_are_kept_in_order(port):
    with Client(port) as client:
        client.send(f"GET / HTTP/1.1\r\n{H}X-A: 1\r\nx-a: 2\r\nX-B: 3\r\n\r\n".encode())
        seen = json.loads(client.response().body)
    assert [h for h in seen["headers"] if h[0] in ("X-A", "X-B")] == [
        ["X-A", "1"],
        ["X-A", "2"],
        ["X-B", "3"],
    ]


def test_http10_request(port):
    with Client(port) as client:
        client.send(b"GET /old HTTP/1.0\r\n\r\n")
        seen = json.loads(client.response().body)
    assert seen["version"] == "HTTP/1.0"
    assert seen["http11"] is False
    assert seen["host"] == "127.0.0.1"  # no Host header: the server's loopback name


def test_absolute_form_target_sets_host_and_path(port):
    with Client(port) as client:
        client.send(
            b"GET http://Other.Example:8080/p?q=1 HTTP/1.1\r\nHost: ignored.example\r\n\r\n"
        )
        seen = json.loads(client.response().body)
    assert seen["uri"] == "/p?q=1"
    assert seen["host"] == "Other.Example:8080"
    assert seen["host_name"] == "other.example"


def test_urlencoded_body_arguments_merge_with_query(port):
    seen = fetch(
        port,
        "POST",
        "/form?a=query",
        body="a=body&b=%E2%9C%93&c=x+y&c=z",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert seen["body_arguments"] == {"a": ["body"], "b": ["✓"], "c": ["x y", "z"]}
    assert seen["arguments"] == {"a": ["query", "body"], "b": ["✓"], "c": ["x y", "z"]}
    assert seen["body"] == "a=body&b=%E2%9C%93&c=x+y&c=z"


def test_body_of_unknown_type_is_left_alone(port):
    seen = fetch(port, "PUT", "/", body=b'{"k": 1}', headers={"Content-Type": "application/json"})
    assert seen["body"] == '{"k": 1}'
    assert seen["body_arguments"] == {}


def test_cookies(port):
    seen = fetch(port, headers={"Cookie": 'a=1; b="two"; c=; a=ignored; flag'})
    assert seen["cookies"] == {"a": "1", "b": "two", "c": "", "": "flag"}


def test_request_time_grows_while_the_request_runs():
    from cyclone._request import HTTPRequest

    request = HTTPRequest("GET", "/")
    first = request.request_time()
    assert request.request_time() >= first >= 0


# -- xheaders -------------------------------------------------------------------------


@pytest.fixture
def proxied_port(serve):
    return serve(make_app(xheaders=True))


@pytest.mark.parametrize(
    ("headers", "remote_ip", "protocol"),
    [
        ({"X-Real-Ip": "10.1.2.3"}, "10.1.2.3", "http"),
        ({"X-Real-Ip": "2001:db8::1"}, "2001:db8::1", "http"),
        ({"X-Forwarded-For": "1.1.1.1, 10.0.0.2"}, "10.0.0.2", "http"),
        ({"X-Forwarded-For": "10.0.0.3"}, "10.0.0.3", "http"),
        ({"X-Real-Ip": "not-an-ip"}, "127.0.0.1", "http"),
        ({"X-Forwarded-For": "999.1.1.1"}, "127.0.0.1", "http"),
        ({"X-Scheme": "https"}, "127.0.0.1", "https"),
        ({"X-Forwarded-Proto": "HTTPS"}, "127.0.0.1", "https"),
        ({"X-Forwarded-Proto": "http, https"}, "127.0.0.1", "https"),
        ({"X-Forwarded-Proto": "ftp"}, "127.0.0.1", "http"),
        ({"X-Scheme": "javascript"}, "127.0.0.1", "http"),
    ],
    ids=[
        "real-ip",
        "real-ip-v6",
        "forwarded-for-last-hop",
        "forwarded-for-single",
        "invalid-ip-ignored",
        "out-of-range-ip-ignored",
        "x-scheme",
        "forwarded-proto-case",
        "forwarded-proto-last-hop",
        "invalid-scheme-ftp-ignored",
        "invalid-scheme-ignored",
    ],
)
def test_xheaders_are_validated(proxied_port, headers, remote_ip, protocol):
    seen = fetch(proxied_port, headers=headers)
    assert (seen["remote_ip"], seen["protocol"]) == (remote_ip, protocol)
    assert seen["full_url"].startswith(f"{protocol}://")


def test_xheaders_are_ignored_without_the_setting(port):
    seen = fetch(
        port, headers={"X-Real-Ip": "10.1.2.3", "X-Scheme": "https", "X-Forwarded-For": "10.0.0.9"}
    )
    assert (seen["remote_ip"], seen["protocol"]) == ("127.0.0.1", "http")


# -- the pure rules behind them ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("example.com", True),
        ("example.com:8080", True),
        ("127.0.0.1:80", True),
        ("[::1]:8080", True),
        ("[2001:db8::1]", True),
        ("xn--bcher-kva.example", True),
        ("", True),  # allowed by RFC 9110 when the target has no authority
        ("exa mple.com", False),
        ("user@example.com", False),
        ("example.com/path", False),
        ("example.com:80:80", False),
        ("example.com:http", False),
        ("[::1", False),
        ("[not-an-ip]", False),
        ("ex\xe4mple.com", False),
    ],
)
def test_is_valid_host(value, valid):
    from cyclone.httputil import is_valid_host

    assert is_valid_host(value) is valid


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("http://a.example/p?q=1", ("/p?q=1", "a.example")),
        ("https://a.example", ("/", "a.example")),
        ("http://a.example?q=1", ("/?q=1", "a.example")),
        ("HTTP://a.example:81/", ("/", "a.example:81")),
    ],
)
def test_split_absolute_form(target, expected):
    from cyclone.httputil import split_absolute_form

    assert split_absolute_form(target) == expected


@pytest.mark.parametrize("target", ["ftp://a/", "http:///p", "http://a@b/", "a.example:80"])
def test_split_absolute_form_refuses(target):
    from cyclone.httputil import HTTPInputError, split_absolute_form

    with pytest.raises(HTTPInputError):
        split_absolute_form(target)
