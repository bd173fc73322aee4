"""Pub/sub through pool.subscribe(): delivery, resubscription, bounded queues, lag warnings.

On the shared Redis, channels are unique per test and only this test's own
connections are killed (``CLIENT KILL ID``, found by their client name).
"""

from __future__ import annotations

import time
import uuid

import pytest
from redis_servers import cli, run
from twisted.internet import defer, reactor, task
from twisted.logger import globalLogPublisher
from waiting import wait_until

from cyclone.testing import call
from cyclone_ext_redis import RedisUnavailable


@pytest.fixture
def name() -> str:
    return f"cx-ps-{uuid.uuid4().hex[:8]}"


def kill_named(client_name: str) -> int:
    """``CLIENT KILL ID`` every connection of the shared server called ``client_name``."""
    ids = [
        line.split()[0].split("=")[1]
        for line in cli(6379, "CLIENT", "LIST").splitlines()
        if f" name={client_name} " in line
    ]
    for client_id in ids:
        cli(6379, "CLIENT", "KILL", "ID", client_id)
    return len(ids)


def test_subscribe_psubscribe_and_cancel(open_pool, shared, name):
    pool = open_pool(shared + f"?client_name={name}")
    got: list = []

    async def scenario():
        sub = await pool.subscribe(name + ":a", lambda c, m: got.append(("s", c, m)))
        psub = await pool.psubscribe(name + ":*", lambda c, m: got.append(("p", c, m)))
        assert sub.active and psub.active
        assert await pool.publish(name + ":a", "one") == 2
        assert await pool.publish(name + ":b", "two") == 1
        return sub, psub

    sub, psub = run(scenario)
    wait_until(lambda: len(got) == 3)
    assert sorted(got) == [("p", name + ":a", "one"), ("p", name + ":b", "two"),
                           ("s", name + ":a", "one")]  # fmt: skip
    run(sub.cancel)
    run(psub.cancel)
    assert run(lambda: pool.publish(name + ":a", "nobody")) == 0
    assert f" name={name}:sub " in cli(6379, "CLIENT", "LIST")


def test_resubscribes_after_its_connection_is_killed_and_loses_little(open_pool, shared, name):
    pool = open_pool(shared + f"?client_name={name}&pool_size=2")
    channel = name + ":load"
    seen: list[int] = []
    state = {"on": True, "sent": 0, "failed": []}

    async def publisher():
        while state["on"]:
            try:
                await pool.publish(channel, str(state["sent"]))
            except Exception as exc:
                state["failed"].append(exc)
            state["sent"] += 1
            await task.deferLater(reactor, 0.001, lambda: None)

    run(lambda: pool.subscribe(channel, lambda c, m: seen.append(int(m))))
    loop = call(lambda: [defer.ensureDeferred(publisher())])[0]
    try:
        for _ in range(3):
            wait_until(lambda: len(seen) > 100)
            count = len(seen)
            assert kill_named(name + ":sub") == 1  # only the subscriber connection
            wait_until(lambda c=count: len(seen) > c + 300, timeout=5)
            assert kill_named(name) == 2  # and the publishing connections
            wait_until(lambda c=count: len(seen) > c + 600, timeout=5)
    finally:
        state["on"] = False
        call(lambda: loop)
    lost = state["sent"] - len(state["failed"]) - len(set(seen))
    assert all(isinstance(e, RedisUnavailable) for e in state["failed"]), state["failed"][:3]
    assert call(lambda: pool.subscriber.reconnects) == 3
    # Each reconnection is immediate: a few milliseconds of traffic, not seconds.
    assert lost < 0.1 * state["sent"], (lost, state["sent"])
    print(f"pub/sub: {state['sent']} sent, {lost} lost over 3 subscriber kills")


def test_a_slow_async_subscriber_has_a_bounded_queue(open_pool, shared, name):
    pool = open_pool(shared + "?max_pending=10")
    gate: defer.Deferred[None] = defer.Deferred()
    got: list[str] = []

    def slow(channel, message):
        got.append(message)
        return gate if len(got) == 1 else None

    sub = run(lambda: pool.subscribe(name, slow))

    async def publish():
        for i in range(50):
            await pool.publish(name, str(i))

    run(publish)
    wait_until(lambda: sub.dropped == 39)  # 1 in the callback, 10 waiting, 39 dropped
    assert got == ["0"]
    call(gate.callback, None)
    wait_until(lambda: len(got) == 11)
    assert got[1:] == [str(i) for i in range(40, 50)]


def test_a_subscriber_that_falls_behind_is_warned_about(servers, open_pool, name):
    from redis_servers import free_port

    port = free_port()
    server = servers(port=port)
    pool = open_pool(f"redis://127.0.0.1:{port}/0?ping_interval=0.05&lag_warning=0.2")
    warnings: list[str] = []

    def observe(event):
        if "behind the server" in (event.get("log_format") or ""):
            warnings.append(event)

    run(lambda: pool.subscribe(name, lambda c, m: None))
    wait_until(lambda: call(lambda: pool.subscriber.lag) > 0)
    assert call(lambda: pool.subscriber.lag) < 0.2
    globalLogPublisher.addObserver(observe)
    try:
        # The server holds every command for 0.8 s: the PINGs sent meanwhile are
        # answered late, as when the subscriber's connection is backed up.
        server.cli("CLIENT", "PAUSE", "800", "ALL")
        wait_until(lambda: warnings, timeout=5)
    finally:
        globalLogPublisher.removeObserver(observe)
    assert warnings[0]["lag"] >= 0.2


def test_subscribe_fails_fast_while_redis_is_down_and_starts_later(servers, open_pool):
    from redis_servers import free_port

    port = free_port()
    pool = open_pool(f"redis://127.0.0.1:{port}/0?connect_timeout=1&reconnect_delay=0.2")
    got: list = []
    start = time.monotonic()
    with pytest.raises(RedisUnavailable):
        run(lambda: pool.subscribe("later", lambda c, m: got.append(m)))
    assert time.monotonic() - start < 1.5
    server = servers(port=port)
    wait_until(lambda: "later" in server.cli("PUBSUB", "CHANNELS"), timeout=5)
    server.cli("PUBLISH", "later", "hi")
    wait_until(lambda: got == ["hi"])
