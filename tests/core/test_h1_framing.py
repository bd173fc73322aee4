"""Response framing without a reactor: decisions in, exact bytes out (cyclone._h1_framing)."""

from __future__ import annotations

import pytest

from cyclone._h1_framing import (
    CONTINUE,
    TERMINAL_CHUNK,
    HTTPOutputError,
    ResponseFraming,
    body_allowed,
    encode_chunk,
    error_response,
    frame_response,
    response_head,
    status_line,
)


def frame(
    code: int = 200,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    finished: bool = True,
    method: str = "GET",
    version: str = "HTTP/1.1",
    keep_alive: bool = True,
    ending: bool = False,
    upgrading: bool = False,
) -> tuple[ResponseFraming, dict[str, str], bytes]:
    """Frame one response; returns the framing, the headers as sent and the wire bytes."""
    headers = {} if headers is None else headers
    framing = frame_response(
        method, version, keep_alive, code, headers, len(body), finished, ending, upgrading
    )
    head = response_head(code, "Reason", headers, None)
    wire = b"".join(framing.first_writes(head, framing.frame(body)))
    if finished:
        wire += framing.end()
    return framing, headers, wire


def test_a_complete_keep_alive_response_gets_content_length_and_one_write():
    headers = {"Content-Type": "text/plain"}
    framing = frame_response("GET", "HTTP/1.1", True, 200, headers, 5, True)
    assert headers == {"Content-Type": "text/plain", "Content-Length": "5"}
    head = response_head(200, "OK", headers, None)
    assert framing.first_writes(head, framing.frame(b"hello")) == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    )
    assert framing.keep_alive and not framing.chunked and not framing.short
    assert framing.end() == b""


def test_head_gets_no_body_but_keeps_the_get_content_length():
    framing, headers, wire = frame(body=b"twelve bytes", method="HEAD")
    assert headers["Content-Length"] == "12"
    assert wire == b"HTTP/1.1 200 Reason\r\nContent-Length: 12\r\n\r\n"
    assert framing.frame(b"more") == b""  # later body bytes are dropped too
    assert framing.expected is None and not framing.short
    assert framing.keep_alive


def test_a_streamed_head_response_is_neither_chunked_nor_closed():
    framing, headers, wire = frame(method="HEAD", finished=False, body=b"x")
    assert "Transfer-Encoding" not in headers and "Connection" not in headers
    assert wire == b"HTTP/1.1 200 Reason\r\n\r\n"
    assert framing.keep_alive and not framing.chunked


def test_304_has_no_body_and_gets_no_content_length_added():
    framing, headers, wire = frame(304, {"Etag": '"abc"'}, finished=True)
    assert headers == {"Etag": '"abc"'}
    assert wire == b'HTTP/1.1 304 Reason\r\nEtag: "abc"\r\n\r\n'
    assert framing.frame(b"ignored") == b""
    assert framing.keep_alive


def test_204_and_1xx_drop_content_length_and_transfer_encoding():
    for code in (204, 103):
        headers = {"Content-Length": "10", "Transfer-Encoding": "chunked", "X-A": "1"}
        framing, headers, wire = frame(code, headers)
        assert headers == {"X-A": "1"}
        assert wire == b"HTTP/1.1 %d Reason\r\nX-A: 1\r\n\r\n" % code
        assert not framing.sends_body


def test_body_allowed_follows_rfc_9112_section_6_3():
    assert [c for c in (100, 101, 199, 200, 204, 206, 304, 404) if body_allowed(c)] == [
        200,
        206,
        404,
    ]


def test_http10_client_without_content_length_gets_a_close_delimited_body():
    framing, headers, wire = frame(version="HTTP/1.0", finished=False, body=b"part one,")
    assert headers == {"Connection": "close"}
    assert "Transfer-Encoding" not in headers
    assert wire == b"HTTP/1.1 200 Reason\r\nConnection: close\r\n\r\npart one,"
    assert not framing.keep_alive and not framing.chunked and framing.expected is None
    assert framing.frame(b"part two") == b"part two"
    assert framing.end() == b""


def test_http10_keep_alive_client_is_told_keep_alive():
    framing, headers, wire = frame(version="HTTP/1.0", body=b"ok")
    assert headers == {"Content-Length": "2", "Connection": "keep-alive"}
    assert wire == b"HTTP/1.1 200 Reason\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
    assert framing.keep_alive


def test_http10_client_without_keep_alive_is_told_close():
    framing, headers, _ = frame(version="HTTP/1.0", keep_alive=False, body=b"ok")
    assert headers == {"Content-Length": "2", "Connection": "close"}
    assert not framing.keep_alive


def test_an_unfinished_http11_body_is_chunked():
    framing, headers, wire = frame(finished=False, body=b"hello")
    assert headers == {"Transfer-Encoding": "chunked"}
    assert wire == b"HTTP/1.1 200 Reason\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
    assert framing.frame(b"x" * 300) == b"12c\r\n" + b"x" * 300 + b"\r\n"
    assert framing.frame(b"") == b""  # an empty write must not end the body
    assert framing.end() == TERMINAL_CHUNK == b"0\r\n\r\n"
    assert framing.keep_alive and framing.chunked


def test_chunk_encoding():
    assert encode_chunk(b"abc") == b"3\r\nabc\r\n"
    assert encode_chunk(b"\x00" * 4096) == b"1000\r\n" + b"\x00" * 4096 + b"\r\n"


def test_an_unfinished_body_with_a_declared_length_is_counted_not_chunked():
    framing, headers, wire = frame(headers={"Content-Length": "10"}, finished=False, body=b"12345")
    assert headers == {"Content-Length": "10"}
    assert wire == b"HTTP/1.1 200 Reason\r\nContent-Length: 10\r\n\r\n12345"
    assert framing.short  # 5 of 10 bytes so far
    assert framing.frame(b"6789") == b"6789"
    with pytest.raises(HTTPOutputError, match=r"more data than Content-Length \(10 bytes\)"):
        framing.frame(b"01")


def test_a_complete_body_longer_than_its_declared_length_raises():
    headers = {"Content-Length": "3"}
    framing = frame_response("GET", "HTTP/1.1", True, 200, headers, 4, True)
    with pytest.raises(HTTPOutputError):
        framing.frame(b"four")


def test_a_complete_body_shorter_than_its_declared_length_is_short():
    framing, _, _ = frame(headers={"Content-Length": "9"}, body=b"four")
    assert framing.short and framing.sent == 4 and framing.expected == 9


def test_a_complete_response_replaces_the_handlers_transfer_encoding_with_a_length():
    _, headers, wire = frame(headers={"Transfer-Encoding": "chunked"}, body=b"abc")
    assert headers == {"Content-Length": "3"}
    assert wire.endswith(b"\r\n\r\nabc")


@pytest.mark.parametrize("value", ["close", "Close"])
def test_a_handlers_connection_close_ends_the_connection(value):
    framing, headers, _ = frame(headers={"Connection": value}, body=b"x")
    assert not framing.keep_alive
    assert headers["Connection"] == "close"


def test_a_server_that_is_ending_says_connection_close():
    framing, headers, wire = frame(body=b"bye", ending=True)
    assert headers == {"Content-Length": "3", "Connection": "close"}
    assert b"Connection: close\r\n" in wire
    assert not framing.keep_alive


def test_101_to_an_upgrade_request_keeps_connection_upgrade():
    headers = {"Upgrade": "websocket", "Connection": "Upgrade"}
    framing, headers, wire = frame(101, headers, ending=True, upgrading=True)
    assert headers == {"Upgrade": "websocket", "Connection": "Upgrade"}
    assert wire == b"HTTP/1.1 101 Reason\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    assert framing.switching and not framing.sends_body


def test_a_refused_upgrade_closes():
    framing, headers, _ = frame(400, {}, body=b"no", ending=True, upgrading=True)
    assert headers["Connection"] == "close"
    assert not framing.switching and not framing.keep_alive


def test_large_bodies_leave_in_a_write_of_their_own():
    body = b"x" * 65536
    framing = frame_response("GET", "HTTP/1.1", True, 200, {}, len(body), True, True)
    head = b"HEAD\r\n\r\n"
    assert framing.first_writes(head, framing.frame(body)) == (head, body)
    small = frame_response("GET", "HTTP/1.1", True, 200, {}, 10, True, True)
    assert small.first_writes(head, small.frame(b"0123456789")) == (head + b"0123456789",)
    empty = frame_response("GET", "HTTP/1.1", True, 204, {}, 0, True)
    assert empty.first_writes(head, empty.frame(b"")) == (head,)
    # The common case leaves whole, whatever its size.
    whole = frame_response("GET", "HTTP/1.1", True, 200, {}, len(body), True)
    assert whole.whole and whole.first_writes(head, whole.frame(body)) == (head + body,)
    again = frame_response("GET", "HTTP/1.1", True, 200, {}, len(body), True)
    assert again.whole_message(head, body) == head + body
    assert again.sent == len(body) and not again.short


def test_status_line_is_http11_also_for_http10_clients():
    _, _, wire = frame(version="HTTP/1.0", body=b"")
    assert wire.startswith(b"HTTP/1.1 200 Reason\r\n")
    assert status_line(404, "Not Found") == b"HTTP/1.1 404 Not Found\r\n"
    assert status_line(200, "caf\u00e9 \u2603") == b"HTTP/1.1 200 caf\xe9 ?\r\n"


def test_response_head_with_repeated_extra_headers_and_non_latin1_values():
    head = response_head(200, "OK", {"X-A": "1"}, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    assert head == b"HTTP/1.1 200 OK\r\nX-A: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"
    assert response_head(200, "OK", {"X-Snow": "\u2603"}, None) == (
        b"HTTP/1.1 200 OK\r\nX-Snow: \xe2\x98\x83\r\n\r\n"
    )


def test_error_response_bytes():
    assert error_response(405, "Method not allowed", "Method Not Allowed", (("Allow", "GET"),)) == (
        b"HTTP/1.1 405 Method Not Allowed\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: 23\r\n"
        b"Connection: close\r\n"
        b"Allow: GET\r\n"
        b"\r\n"
        b"405 Method not allowed\n"
    )


def test_continue_bytes():
    assert CONTINUE == b"HTTP/1.1 100 Continue\r\n\r\n"
