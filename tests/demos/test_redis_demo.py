"""Smoke test of the Redis demo: keys over HTTP, a published message on the SSE page, 503s."""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from demos.redis.app import Application


def request(url: str, method: str = "GET", **form: str) -> tuple[int, bytes]:
    data = urllib.parse.urlencode(form).encode() if form else None
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data, method=method), timeout=10
        ) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture
def redis_url() -> str:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is needed on 127.0.0.1:6379 under CI: {exc}")
        pytest.skip(f"no Redis on 127.0.0.1:6379: {exc}")
    return "redis://127.0.0.1:6379/13"


def test_keys_over_http_and_pubsub_over_sse(serve, redis_url):
    port = serve(Application(redis_url))
    base = f"http://127.0.0.1:{port}"
    key = f"cx-demo-{uuid.uuid4().hex[:8]}"
    assert b"EventSource" in request(base + "/")[1]
    assert request(f"{base}/text/{key}")[0] == 404
    assert json.loads(request(f"{base}/text/{key}", "POST", value="héllo")[1])["value"] == "héllo"
    assert request(f"{base}/text/{key}") == (200, "héllo".encode())
    assert json.loads(request(f"{base}/text/{key}", "DELETE")[1]) == {"deleted": 1}
    assert request(f"{base}/text/{key}")[0] == 404

    channel = key.replace("-", "")
    stream = socket.create_connection(("127.0.0.1", port), timeout=10)
    stream.sendall(f"GET /events/{channel} HTTP/1.0\r\n\r\n".encode())
    received = b""
    while b"event: ready" not in received:
        received += stream.recv(65536)
    assert json.loads(request(f"{base}/publish/{channel}", "POST", message="hi there")[1]) == {
        "receivers": 1
    }
    while b"data: hi there" not in received:
        chunk = stream.recv(65536)
        assert chunk, received
        received += chunk
    stream.close()


def test_the_demo_answers_503_when_redis_is_down(serve):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    port = serve(Application(f"redis://127.0.0.1:{free}/0?connect_timeout=1"))
    status, body = request(f"http://127.0.0.1:{port}/text/x")
    assert status == 503 and b"Redis Unavailable" in body
