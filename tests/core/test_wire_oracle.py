"""Differential test: mutated requests, read by the server, h11 and llhttp.

A seeded generator breaks valid requests one byte or one line at a time. For
each result: where both oracles reject, the server must answer with an error
and close; where both accept and agree, the server must answer exactly those
requests (same targets, same bodies) or a prefix of them followed by an error
(it may be stricter), and never anything else.
"""

from __future__ import annotations

import json
import random

import pytest
from wire import exchange, h11_verdict, llhttp_verdict

import cyclone.web


class EchoHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write({"uri": self.request.uri, "body": self.request.body.decode("latin-1")})

    post = put = delete = patch = options = head = get


BASES = [
    b"GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
    b"POST /b HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /c HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    b"GET /d HTTP/1.1\r\nHost: example.com\r\n\r\n"
    b"POST /e HTTP/1.1\r\nHost: example.com\r\nContent-Length: 2\r\n\r\nok",
]
INTERESTING = b" \t\r\n:;,-0123abcxX\x00\x0b\x7f\xff"


def mutate(rng: random.Random, data: bytes) -> bytes:
    op = rng.randrange(5)
    i = rng.randrange(len(data))
    if op == 0:
        return data[:i] + data[i + 1 :]
    if op == 1:
        return data[:i] + bytes([rng.choice(INTERESTING)]) + data[i:]
    if op == 2:
        return data[:i] + bytes([rng.choice(INTERESTING)]) + data[i + 1 :]
    lines = data.split(b"\r\n")
    j = rng.randrange(1, max(2, len(lines) - 1))
    if op == 3:
        return b"\r\n".join([*lines[:j], lines[j], *lines[j:]])
    return b"\r\n".join([*lines[:j], b"Content-Length: 1", *lines[j:]])


def cases(n: int = 300) -> list:
    rng = random.Random(20240601)
    out = []
    for k in range(n):
        data = rng.choice(BASES)
        for _ in range(rng.choice((1, 1, 2))):
            data = mutate(rng, data)
        out.append(pytest.param(data, id=f"m{k}"))
    return out


@pytest.fixture(scope="module")
def port():
    from cyclone.testing import call, listen_tcp

    listening = listen_tcp(cyclone.web.Application([(r"/.*", EchoHandler)]))
    yield listening.getHost().port
    call(listening.stopListening)


@pytest.mark.parametrize("data", cases())
def test_server_agrees_with_the_oracles(port, data):
    h11_seen, llhttp_seen = h11_verdict(data), llhttp_verdict(data)
    # Staying open is a right answer to an incomplete request: wait for the answers
    # both oracles call for (all but perhaps the last), then for a short silence.
    agreed = h11_seen is not None and h11_seen == llhttp_seen
    origin_form = agreed and all(t.startswith("/") for t, _ in h11_seen)
    at_least = max(len(h11_seen) - 1, 0) if origin_form else 0
    both_reject = h11_seen is None and llhttp_seen is None
    # Input both oracles reject must be answered with an error and a close: read
    # until the close (a short silence would pass for an answer on a busy machine).
    quiet = None if both_reject else 0.1
    responses, closed = exchange(port, data, timeout=3, quiet=quiet, at_least=at_least)
    errors = [r for r in responses if r.status >= 400]
    if both_reject:
        assert errors, responses
        assert closed
    assert all(r.status < 400 for r in responses[:-1]), "an error must be the last answer"
    answered = [json.loads(r.body) for r in responses if r.status < 400]
    if h11_seen is not None and h11_seen == llhttp_seen:
        expected = [{"uri": t, "body": b.decode("latin-1")} for t, b in h11_seen]
        if errors:
            assert answered == expected[: len(answered)]
        elif all(t.startswith("/") for t, _ in h11_seen):
            # incomplete requests are waited for, not answered
            assert answered == expected[: len(answered)]
            assert len(answered) >= len(expected) - 1
    if errors:
        assert closed
