"""The Redis hub against the local Redis: two servers share channels, and reconnection.

Needs Redis on 127.0.0.1:6379; without it these tests are skipped, except under
CI=true where they fail. Every test uses channels of its own.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hub_app import make_app
from sse_stream import SSEStream
from waiting import wait_until

from cyclone.testing import call
from cyclone_ext_realtime import Hub

REDIS = ("127.0.0.1", 6379)
REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_command(*args: str) -> bytes:
    """Send one command to Redis (RESP) and return the raw reply."""
    payload = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    with socket.create_connection(REDIS, timeout=2) as sock:
        sock.sendall(payload.encode())
        return sock.recv(65536)


@pytest.fixture(scope="module", autouse=True)
def redis_available():
    try:
        assert redis_command("PING").startswith(b"+PONG")
    except (OSError, AssertionError) as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is needed on 127.0.0.1:6379 under CI: {e}")
        pytest.skip(f"no Redis on 127.0.0.1:6379: {e}")


@pytest.fixture
def channel() -> str:
    return f"test-hub-{uuid.uuid4().hex}"


@pytest.fixture
def hub():
    hub = Hub.from_url(REDIS_URL)
    call(hub.start)
    yield hub
    call(hub.stop)


def test_publish_and_subscribe_through_redis(hub, channel):
    got: list = []

    async def scenario():
        sub = hub.subscribe(channel, got.append)
        await sub.ready()
        receivers = await hub.publish(channel, {"n": 1, "text": "héllo"})
        await hub.publish(channel, "5")
        return sub, receivers

    sub, receivers = call(scenario)
    assert receivers == 1  # one Redis subscriber: this process
    wait_until(lambda: len(got) == 2, timeout=10)
    assert got == [{"n": 1, "text": "héllo"}, "5"]
    call(sub.cancel)
    assert hub.subscriber_count(channel) == 0
    wait_until(lambda: call(hub.publish, channel, "nobody") == 0, timeout=10)


def test_two_servers_share_a_channel_through_redis(serve, channel):
    """An SSE client on server A (another process) gets what is published on server B."""
    script = Path(__file__).with_name("hub_app.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(script.parent), *sys.path])}
    server_a = subprocess.Popen(
        [sys.executable, str(script), REDIS_URL], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        port_a = int(server_a.stdout.readline())
        app_b = make_app(REDIS_URL)
        port_b = serve(app_b)
        with SSEStream(port_a, f"/events/{channel}", timeout=10) as stream:
            assert stream.next_event() == {"event": "ready", "data": "subscribed"}
            for text in ("first", "second"):
                conn = http.client.HTTPConnection("127.0.0.1", port_b, timeout=5)
                conn.request("POST", f"/publish/{channel}", body=text.encode())
                assert json.loads(conn.getresponse().read()) == {"receivers": 1}
                conn.close()
                assert stream.next_event() == {"data": json.dumps({"text": text}).replace(" ", "")}
        call(app_b.stop_services)
    finally:
        server_a.terminate()
        server_a.wait(5)


@pytest.mark.parametrize("kill_type", ["pubsub", "normal"])
def test_the_hub_resubscribes_after_redis_drops_its_connections(hub, channel, kill_type):
    got: list = []
    sub = call(hub.subscribe, channel, got.append)
    call(sub.ready)
    call(hub.publish, channel, "before")
    wait_until(lambda: got == ["before"], timeout=10)
    reply = redis_command("CLIENT", "KILL", "TYPE", kill_type)
    assert reply.startswith(b":") and int(reply[1:]) >= 1, reply

    # Publish until a message gets through: the connections come back by themselves.
    sent = iter(range(1000))
    wait_until(
        lambda: any(isinstance(m, int) for m in got),
        timeout=10,
        every=lambda: call(hub.publish, channel, next(sent)),
    )
    assert got[0] == "before"
    call(sub.ready)  # confirmed again on the new connection
    call(hub.publish, channel, "after")
    wait_until(lambda: got[-1] == "after", timeout=10)
