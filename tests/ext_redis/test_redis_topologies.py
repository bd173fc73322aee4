"""TLS, UNIX sockets, sharding and Sentinel, each against private redis-server processes."""

from __future__ import annotations

import time

import pytest
from redis_servers import cli, free_port, run
from twisted.internet import defer
from waiting import wait_until

from cyclone.testing import call
from cyclone_ext_redis import RedisUnavailable, ShardedPool, hash_key


@pytest.fixture
def tls_server(servers, certificate):
    key, cert = certificate
    port = free_port()
    return servers(
        "--port", "0", "--tls-port", str(port), "--tls-cert-file", cert, "--tls-key-file", key,
        "--tls-auth-clients", "no", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        port=port, raw=True,
    )  # fmt: skip


def test_rediss_verifies_the_server_certificate(tls_server, certificate, open_pool):
    _, cert = certificate
    url = f"rediss://127.0.0.1:{tls_server.port}/1?connect_timeout=2"
    pool = open_pool(url, ca_file=cert)
    assert run(lambda: pool.set("tls", "yes")) == "OK"
    assert cli(tls_server.port, "-n", "1", "GET", "tls", tls=certificate) == "yes"

    untrusted = open_pool(url)  # the platform's trust store does not know this certificate
    with pytest.raises(RedisUnavailable) as info:
        run(lambda: untrusted.get("tls"))
    assert "certificate verify failed" in str(info.value) or "SSL" in str(info.value)

    unverified = open_pool(url + "&verify=false")  # only when asked
    assert run(lambda: unverified.get("tls")) == "yes"

    plain = open_pool(f"redis://127.0.0.1:{tls_server.port}/1?connect_timeout=1")
    with pytest.raises(RedisUnavailable):
        run(lambda: plain.get("tls"))


def test_redis_over_a_unix_socket(servers, tmp_path, open_pool):
    path = tmp_path / "r.sock"
    server = servers("--unixsocket", str(path), "--unixsocketperm", "700")
    pool = open_pool(f"redis+unix://{path}?db=3&pool_size=2")
    assert run(lambda: pool.set("u", "1")) == "OK"
    assert server.cli("-n", "3", "GET", "u") == "1"


def test_sharding_spreads_keys_and_keeps_hashtags_together(servers, open_pool):
    a, b = servers(), servers()
    pool = open_pool(f"redis://127.0.0.1:{a.port},127.0.0.1:{b.port}/0?pool_size=2")
    assert isinstance(pool, ShardedPool)

    async def scenario():
        for i in range(200):
            await pool.set(f"key:{i}", str(i))
        for i in range(50):
            await pool.set(f"user:{{42}}:field{i}", str(i))
        values = await pool.mget([f"key:{i}" for i in range(200)])
        deleted = await pool.delete([f"key:{i}" for i in range(0, 200, 2)])
        return values, deleted

    values, deleted = run(scenario)
    assert values == [str(i) for i in range(200)] and deleted == 100
    sizes = int(a.cli("DBSIZE")), int(b.cli("DBSIZE"))
    assert all(size > 20 for size in sizes) and sum(sizes) == 150
    tagged = [len(s.cli("KEYS", "user:{42}:*").split()) for s in (a, b)]
    assert sorted(tagged) == [0, 50]  # the whole hashtagged set lives on one server
    assert hash_key("user:{42}:x") == b"42" and hash_key("a{}b") == b"a{}b"
    with pytest.raises(AttributeError, match="cannot be sharded"):
        pool.flushdb  # noqa: B018


def test_sharding_matches_the_1x_ring():
    # cyclone 1.x placed a key with crc32 over "host:port:i" points; same servers, same shard.
    from cyclone_ext_redis import HashRing

    ring = HashRing(["A", "B"], ["10.0.0.1:6379", "10.0.0.2:6379"])
    placed = {ring.node(f"k{i}") for i in range(100)}
    assert placed == {"A", "B"}
    assert ring.node("user:{7}:a") == ring.node("user:{7}:b") == ring.node("7")


SENTINEL_CONF = """port {port}
bind 127.0.0.1
dir {dir}
sentinel monitor mymaster 127.0.0.1 {master} 1
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 5000
"""


@pytest.mark.timeout(60)
def test_sentinel_follows_a_failover_without_losing_acknowledged_writes(
    servers, tmp_path, open_pool
):
    # Replication is asynchronous: without min-replicas-to-write, the old master keeps
    # acknowledging writes between the promotion of its replica and its own demotion,
    # and the new master never sees them. With it, the old master refuses them as soon
    # as its replica leaves (NOREPLICAS), and the pool surfaces that as a 503.
    master = servers("--min-replicas-to-write", "1", "--min-replicas-max-lag", "10")
    replica = servers("--replicaof", "127.0.0.1", str(master.port))
    wait_until(lambda: "master_link_status:up" in replica.cli("INFO", "replication"), timeout=10)
    sentinel_port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(SENTINEL_CONF.format(port=sentinel_port, dir=tmp_path, master=master.port))
    servers(str(conf), "--sentinel", port=sentinel_port, raw=True)
    wait_until(
        lambda: (
            "slaves=1" in cli(sentinel_port, "INFO", "sentinel")
            and "sentinels=1" in cli(sentinel_port, "INFO", "sentinel")
        ),
        timeout=15,
    )
    pool = open_pool(
        f"redis+sentinel://127.0.0.1:{sentinel_port}/mymaster/0"
        "?pool_size=2&connect_timeout=1&command_timeout=2&reconnect_delay=0.2"
    )
    acknowledged: list[int] = []
    failures: list[str] = []
    state = {"on": True}

    async def writer():
        i = 0
        while state["on"]:
            i += 1
            try:
                await pool.set(f"w:{i}", str(i))
                acknowledged.append(i)
            except RedisUnavailable as exc:
                failures.append(str(exc))
            await _sleep(0.005)

    done = call(lambda: [defer.ensureDeferred(writer())])[0]
    try:
        wait_until(lambda: len(acknowledged) > 50, timeout=10)
        cli(sentinel_port, "SENTINEL", "FAILOVER", "mymaster")
        switched = time.monotonic()
        wait_until(
            lambda: (
                cli(sentinel_port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster").split()[-1]
                == str(replica.port)
            ),
            timeout=15,
        )
        # Writes reach the new master within a bounded time.
        mark = len(acknowledged)
        wait_until(lambda: len(acknowledged) > mark + 50, timeout=10)
        took = time.monotonic() - switched
        print(f"failover: writes on the new master after {took:.2f}s, {len(failures)} refused")
        assert took < 15
        assert "role:master" in replica.cli("INFO", "replication")
    finally:
        state["on"] = False
        call(lambda: done)
    present = set(replica.cli("KEYS", "w:*").split())
    lost = [i for i in acknowledged if f"w:{i}" not in present]
    assert lost == [], f"{len(lost)} acknowledged writes lost; {len(failures)} failed"


def _sleep(seconds: float) -> defer.Deferred[None]:
    from twisted.internet import reactor, task

    return task.deferLater(reactor, seconds, lambda: None)
