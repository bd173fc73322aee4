"""cyclone 1.x's ``cyclone.redis`` names and signatures, against real servers."""

from __future__ import annotations

import pytest
from redis_servers import SHARED_DB, cli, run
from twisted.internet import reactor
from waiting import wait_until

from cyclone.testing import call


def test_the_1x_names_are_there():
    import cyclone.redis as redis

    for name in (
        "lazyConnectionPool", "ConnectionPool", "lazyConnection", "Connection",
        "ShardedConnectionPool", "lazyShardedConnectionPool", "UnixConnectionPool",
        "SubscriberFactory", "SubscriberProtocol", "ConnectionError", "ResponseError",
        "RedisError", "WatchError", "InvalidData", "TimeoutError",
    ):  # fmt: skip
        assert name in redis.__all__ and getattr(redis, name) is not None
    assert issubclass(redis.ConnectionError, redis.RedisError)


def test_lazy_and_non_lazy_pools_with_1x_arguments(shared, prefix):
    import cyclone.redis as redis

    lazy = call(redis.lazyConnectionPool, host="127.0.0.1", port=6379, dbid=SHARED_DB, poolsize=2)
    try:
        assert run(lambda: lazy.set(prefix + "a", "1")) == "OK"
        assert cli(6379, "-n", str(SHARED_DB), "GET", prefix + "a") == "1"
        assert run(lambda: lazy.incr(prefix + "n")) == 1
        # 1.x converted numbers by default
        assert run(lambda: lazy.get(prefix + "a")) == 1
    finally:
        call(lazy.stop)
    pool = call(redis.ConnectionPool, "127.0.0.1", 6379, SHARED_DB, 2, True)
    try:
        assert run(lambda: pool.get(prefix + "n")) == 1
    finally:
        call(pool.stop)
    with pytest.raises(redis.RedisUnavailable):
        call(redis.Connection, "127.0.0.1", 1, reconnect=False, connectTimeout=1)


def test_sharded_and_unix_pools(servers, tmp_path):
    import cyclone.redis as redis

    sock = tmp_path / "s.sock"
    a, b = servers("--unixsocket", str(sock)), servers()
    sharded = call(
        redis.ShardedConnectionPool, [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"], poolsize=1
    )
    unix = call(redis.UnixConnectionPool, str(sock), dbid=1, poolsize=1)
    try:

        async def fill():
            for i in range(50):
                await sharded.set(f"k{i}", i)
            await unix.set("u", "x")

        run(fill)
        assert int(a.cli("DBSIZE")) + int(b.cli("DBSIZE")) == 50
        assert a.cli("-n", "1", "GET", "u") == "x"
    finally:
        call(sharded.stop)
        call(unix.stop)


def test_a_1x_subscriber_factory_with_connect_tcp(shared):
    import cyclone.redis as redis

    got: list = []

    class Listener(redis.SubscriberProtocol):
        def connectionMade(self):
            super().connectionMade()
            self.subscribe("cx-compat-channel")

        def messageReceived(self, pattern, channel, message):
            got.append((channel, message))

    class Factory(redis.SubscriberFactory):
        protocol = Listener
        maxDelay = 1

    factory = Factory()
    connector = call(reactor.connectTCP, "127.0.0.1", 6379, factory)
    try:
        wait_until(
            lambda: got,
            timeout=5,
            every=lambda: cli(6379, "PUBLISH", "cx-compat-channel", "hi"),
        )
        assert got[0] == ("cx-compat-channel", "hi")
    finally:
        call(factory.stopTrying)
        call(connector.disconnect)
