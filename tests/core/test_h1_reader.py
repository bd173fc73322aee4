"""Request reading without a reactor: bytes in, requests or refusals out (cyclone._h1_reader)."""

from __future__ import annotations

from typing import Any

import pytest

from cyclone._h1_reader import DISCARD, RequestReader, Upgrade, WireError
from cyclone._methods import ALLOW
from cyclone.httputil import HTTPLimits

H = b"Host: example.com\r\n"


class Recorder:
    """A RequestSink that records what the reader reports, in order."""

    def __init__(self, limits: HTTPLimits) -> None:
        self.limits = limits
        self.remote_ip = "10.0.0.1"
        self.protocol = "http"
        self.events: list[str] = []
        self.requests: list[Any] = []
        self.upgrades: list[bool] = []

    def message_begun(self) -> None:
        self.events.append("begin")

    def body_begun(self) -> None:
        self.events.append("body")

    def continue_expected(self) -> None:
        self.events.append("continue")

    def request_received(self, request: Any, upgrade: bool) -> None:
        self.events.append("request")
        self.requests.append(request)
        self.upgrades.append(upgrade)


def reader(xheaders: bool = False, **limits: Any) -> tuple[RequestReader, Recorder]:
    settings = HTTPLimits.from_settings(limits)
    sink = Recorder(settings)
    return RequestReader(sink, settings, xheaders), sink


def test_a_get_request():
    r, sink = reader()
    assert r.feed(b"GET /a?b=1 HTTP/1.1\r\n" + H + b"X-Two: 1\r\nX-Two: 2\r\n\r\n") is None
    [request] = sink.requests
    assert (request.method, request.uri, request.path, request.query) == (
        "GET",
        "/a?b=1",
        "/a",
        "b=1",
    )
    assert request.version == "HTTP/1.1"
    assert request.host == "example.com"
    assert request.headers.get_list("X-Two") == ["1", "2"]
    assert request.remote_ip == "10.0.0.1"
    assert request.connection is sink
    assert request.keep_alive and not r.last_request_final
    assert request.body == b""
    assert sink.events == ["begin", "request"]
    assert sink.upgrades == [False]


def test_pipelined_requests_split_across_feeds_come_out_in_order():
    data = (
        b"GET /1 HTTP/1.1\r\n" + H + b"\r\n"
        b"POST /2 HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello"
        b"GET /3 HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n"
    )
    for size in (1, 7, 64, len(data)):
        r, sink = reader()
        for start in range(0, len(data), size):
            assert r.feed(data[start : start + size]) is None
        assert [q.uri for q in sink.requests] == ["/1", "/2", "/3"]
        assert sink.requests[1].body == b"hello"
        assert [q.keep_alive for q in sink.requests] == [True, True, False]
        assert r.last_request_final
        assert sink.events == ["begin", "request", "begin", "body", "request", "begin", "request"]


def test_a_chunked_body_is_decoded_and_trailers_are_ignored():
    r, sink = reader()
    data = (
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    assert r.feed(data) is None
    [request] = sink.requests
    assert request.body == b"hello world"
    assert "X-Trailer" not in request.headers


def test_http10_request_without_host_and_its_keep_alive():
    r, sink = reader()
    assert r.feed(b"GET / HTTP/1.0\r\n\r\n") is None
    assert sink.requests[0].version == "HTTP/1.0"
    assert not sink.requests[0].keep_alive
    r, sink = reader()
    assert r.feed(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") is None
    assert sink.requests[0].keep_alive


def refusal(data: bytes | list[bytes], **limits: Any) -> WireError:
    r, sink = reader(**limits)
    feeds = [data] if isinstance(data, bytes) else data
    for chunk in feeds:
        outcome = r.feed(chunk)
        if outcome is not None:
            assert isinstance(outcome, WireError), outcome
            return outcome
    raise AssertionError(f"accepted: {sink.requests}")


def test_a_header_section_too_large_is_431():
    error = refusal(
        b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 2000 + b"\r\n\r\n", max_header_size=1024
    )
    assert (error.status, error.message) == (431, "Request header fields too large")


def test_a_head_that_never_ends_is_431_before_it_ends():
    feeds = [b"GET / HTTP/1.1\r\n" + H] + [b"X-More: " + b"b" * 500 + b"\r\n"] * 3
    assert refusal(feeds, max_header_size=1024).status == 431


def test_too_many_header_fields_is_431():
    fields = b"".join(b"X-%d: 1\r\n" % i for i in range(11))
    error = refusal(b"GET / HTTP/1.1\r\n" + H + fields + b"\r\n", max_headers=10)
    assert error.status == 431 and "more than 10 header fields" in error.message


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\n" + H + b"Bad Header\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + H + b"X: a\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\n" + H + b"\r\n",
        b"GET / HTTP/1.1\r\n" + H + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["no-colon", "obs-fold", "bare-lf", "two-lengths", "bad-chunk-size"],
)
def test_malformed_requests_are_400(data):
    error = refusal(data)
    assert error.status == 400 and error.message.startswith("Bad Request")


@pytest.mark.parametrize(
    ("host_lines", "message"),
    [
        (b"", "Bad Request: missing Host header"),
        (H + H, "Bad Request: more than one Host header"),
        (b"Host: exa mple\r\n", "Bad Request: invalid Host header"),
    ],
)
def test_host_rules_of_rfc_9112_section_3_2(host_lines, message):
    error = refusal(b"GET / HTTP/1.1\r\n" + host_lines + b"\r\n")
    assert (error.status, error.message) == (400, message)


def test_an_unknown_method_is_405_with_the_known_ones_and_a_non_token_is_400():
    error = refusal(b"BREW /pot HTTP/1.1\r\n" + H + b"\r\n")
    assert error.status == 405
    assert error.extra_headers == (("Allow", ALLOW),)
    assert ALLOW == "GET, HEAD, POST, DELETE, PATCH, PUT, OPTIONS"
    assert refusal(b"G(T / HTTP/1.1\r\n" + H + b"\r\n").status == 400


def test_an_unknown_method_after_accepted_pipelined_requests_is_found():
    r, sink = reader()
    outcome = r.feed(b"GET /1 HTTP/1.1\r\n" + H + b"\r\nBREW / HTTP/1.1\r\n" + H + b"\r\n")
    assert [q.uri for q in sink.requests] == ["/1"]
    assert isinstance(outcome, WireError) and outcome.status == 405


def test_connect_is_405():
    error = refusal(b"CONNECT example.com:443 HTTP/1.1\r\n" + H + b"\r\n")
    assert error.status == 405 and error.extra_headers == (("Allow", ALLOW),)


def test_an_absolute_form_target_gives_path_and_host():
    r, sink = reader()
    assert r.feed(b"GET http://other.example:8080/p?q=1 HTTP/1.1\r\n" + H + b"\r\n") is None
    [request] = sink.requests
    assert request.uri == "/p?q=1"
    assert request.host == "other.example:8080"


def test_unsupported_versions_and_transfer_codings():
    assert refusal(b"GET / HTTP/2.0\r\n" + H + b"\r\n").status == 505
    assert refusal(b"GET / HTTP/0.9\r\n\r\n").status == 505
    assert refusal(b"GET / HTTP/1.2\r\n" + H + b"\r\n").status == 400  # llhttp: not a version
    error = refusal(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert (error.status, error.message) == (
        400,
        "Bad Request: Transfer-Encoding in an HTTP/1.0 request",
    )
    error = refusal(b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n")
    assert error.status == 400 and "unsupported Transfer-Encoding" in error.message


def test_body_limits_are_413_for_declared_and_for_chunked_bodies():
    error = refusal(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 101\r\n\r\n", max_body_size=100)
    assert error.status == 413
    chunks = b"40\r\n" + b"x" * 64 + b"\r\n"
    feeds = [b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n", chunks, chunks]
    assert refusal(feeds, max_body_size=100).status == 413


def test_expect_100_continue_is_reported_once_the_head_is_read():
    r, sink = reader()
    head = b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"
    assert r.feed(head) is None
    assert sink.events == ["begin", "continue", "body"]
    assert r.expect_continue
    assert r.feed(b"ok") is None
    assert sink.requests[0].body == b"ok"
    assert not r.expect_continue  # the next request starts without it


def test_other_expectations_are_417_and_http10_cannot_expect():
    assert refusal(b"GET / HTTP/1.1\r\n" + H + b"Expect: tea\r\n\r\n").status == 417
    r, sink = reader()
    assert r.feed(b"POST / HTTP/1.0\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n") is None
    assert "continue" not in sink.events and not r.expect_continue


def test_an_upgrade_stops_the_reader_where_the_new_protocol_starts():
    r, sink = reader()
    head = b"GET /ws HTTP/1.1\r\n" + H + b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
    outcome = r.feed(head + b"\x81\x05hello")
    assert isinstance(outcome, Upgrade)
    assert (head + b"\x81\x05hello")[outcome.offset :] == b"\x81\x05hello"
    assert sink.upgrades == [True]


def test_an_upgrade_request_with_a_body_is_400():
    error = refusal(
        b"POST / HTTP/1.1\r\n"
        + H
        + b"Connection: Upgrade\r\nUpgrade: x\r\nContent-Length: 1\r\n\r\na"
    )
    assert error.status == 400 and "upgrade" in error.message


def test_bytes_after_a_final_request_are_discarded_not_answered():
    r, sink = reader()
    outcome = r.feed(b"GET / HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n\x00garbage")
    assert outcome is DISCARD
    assert len(sink.requests) == 1


def test_xheaders_give_the_proxy_client_address_and_scheme():
    r, sink = reader(xheaders=True)
    r.feed(b"GET / HTTP/1.1\r\n" + H + b"X-Real-Ip: 192.0.2.7\r\nX-Scheme: https\r\n\r\n")
    assert (sink.requests[0].remote_ip, sink.requests[0].protocol) == ("192.0.2.7", "https")
    r, sink = reader()
    r.feed(b"GET / HTTP/1.1\r\n" + H + b"X-Real-Ip: 192.0.2.7\r\n\r\n")
    assert sink.requests[0].remote_ip == "10.0.0.1"


def test_a_non_ascii_target_is_400():
    error = refusal(b"GET /caf\xc3\xa9 HTTP/1.1\r\n" + H + b"\r\n")
    assert error.status == 400


def test_a_closed_reader_reads_nothing():
    r, sink = reader()
    r.feed(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 4\r\n\r\nab")
    r.close()
    assert r.feed(b"cd") is DISCARD
    assert sink.requests == []


def test_a_reader_closed_while_a_request_is_answered_stops_quietly():
    r, sink = reader()
    answered = sink.request_received

    def close_on_first(request: Any, upgrade: bool) -> None:
        answered(request, upgrade)
        r.close()  # e.g. the handler's connection went away during the feed

    sink.request_received = close_on_first  # type: ignore[method-assign]
    outcome = r.feed(b"GET /1 HTTP/1.1\r\n" + H + b"\r\nGET /2 HTTP/1.1\r\n" + H + b"\r\n")
    assert outcome is DISCARD
    assert [q.uri for q in sink.requests] == ["/1"]
