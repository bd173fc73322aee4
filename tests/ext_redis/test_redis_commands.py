"""redis:// services against the shared Redis: registration, commands, options, bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest
import txredisapi
from redis_servers import SHARED_DB, cli, run, storage
from twisted.internet import defer

from cyclone import plugins
from cyclone.services import ServiceConfigError, UnknownOptionError, create_service
from cyclone_ext_redis import (
    InvalidArgument,
    RedisPool,
    RedisUnavailable,
    ReplyTooLarge,
    ShardedPool,
)


def test_the_schemes_are_registered_and_listed():
    for name in ("redis", "rediss", "redis+unix", "redis+sentinel"):
        assert name in plugins.names(plugins.STORAGE)
        assert callable(storage(name)) and storage(name).options
    out = subprocess.run(
        [sys.executable, "-m", "cyclone", "plugins"], capture_output=True, text=True, timeout=60
    ).stdout
    for name in ("redis ", "rediss ", "redis+unix ", "redis+sentinel "):
        assert name in out and "cyclone-ext-redis" in out


def test_the_command_api(open_pool, shared, prefix):
    pool = open_pool(shared + "?pool_size=3&connect_timeout=2&command_timeout=5")
    k = prefix

    async def scenario():
        assert await pool.set(k + "s", "v", expire=30) == "OK"
        assert await pool.get(k + "s") == "v"
        assert 0 < await pool.ttl(k + "s") <= 30
        assert await pool.incr(k + "n") == 1
        assert await pool.incr(k + "n", 41) == 42
        await pool.hmset(k + "h", {"a": "1", "b": "2"})
        assert await pool.hgetall(k + "h") == {"a": "1", "b": "2"}
        assert await pool.lpush(k + "l", ["x", "y"]) == 2
        assert await pool.lrange(k + "l", 0, -1) == ["y", "x"]
        tx = await pool.multi()
        tx.set(k + "t", "1")
        tx.incr(k + "t")
        assert await tx.execute() == ["OK", 2]
        watched = await pool.watch(k + "t")
        tx = await watched.multi()
        tx.set(k + "t", "watched")
        assert await tx.commit() == ["OK"]
        assert await pool.eval("return ARGV[1] .. KEYS[1]", [k], ["v:"]) == "v:" + k
        sha = await pool.script_load("return 7")
        assert await pool.evalsha(sha) == 7
        _cursor, keys = await pool.scan(0, k + "*", 1000)
        assert {k + "s", k + "n", k + "h", k + "l", k + "t"} <= set(keys)
        assert await pool.execute_command("OBJECT", "ENCODING", k + "n") == "int"

    run(scenario)


def test_commands_work_with_inline_callbacks(open_pool, shared, prefix):
    pool = open_pool(shared)

    @defer.inlineCallbacks
    def scenario():
        yield pool.set(prefix + "a", "1")
        value = yield pool.get(prefix + "a")
        return value

    assert run(scenario) == "1"


def test_the_database_and_client_name_are_set(open_pool, shared, prefix):
    pool = open_pool(shared + "?client_name=cx-named&pool_size=2")
    run(lambda: pool.set(prefix + "db", "here"))
    assert cli(6379, "-n", str(SHARED_DB), "GET", prefix + "db") == "here"
    clients = cli(6379, "CLIENT", "LIST")
    named = [line for line in clients.splitlines() if " name=cx-named " in line]
    assert len(named) == 2 and all(f" db={SHARED_DB} " in line for line in named)


def test_acl_user_and_password(servers, open_pool):
    server = servers("--requirepass", "adminpw")
    server.cli("-a", "adminpw", "ACL", "SETUSER", "app", "on", ">s3cret", "~*", "+@all")
    pool = open_pool(f"redis://app:s3cret@127.0.0.1:{server.port}/2?connect_timeout=2")
    assert run(lambda: pool.set("k", "v")) == "OK"
    assert "user=app" in server.cli("-a", "adminpw", "CLIENT", "LIST")

    wrong = open_pool(f"redis://app:wrong@127.0.0.1:{server.port}/0?connect_timeout=2")
    with pytest.raises(RedisUnavailable) as info:
        run(lambda: wrong.get("k"))
    message = str(info.value)
    assert "WRONGPASS" in message and "wrong" not in message.replace("WRONGPASS", "")
    assert "app:***@" in message


def test_unknown_options_are_named_and_passwords_masked():
    with pytest.raises(UnknownOptionError) as info:
        create_service("cache", "redis://:hunter2@127.0.0.1:6379/0?pool_sise=3&colour=red")
    message = str(info.value)
    assert "'pool_sise'" in message and "'colour'" in message and "pool_size" in message
    assert "hunter2" not in message and ":***@" in message
    with pytest.raises(ServiceConfigError) as info:
        create_service("cache", "redis://:hunter2@127.0.0.1:6379/0?connect_timeout=soon")
    assert "hunter2" not in str(info.value)
    with pytest.raises(TypeError, match="unknown option 'verify'"):
        storage("redis")("redis://127.0.0.1:6379/0", verify=False)  # a TLS option
    pool = storage("redis")("redis://u:hunter2@127.0.0.1:6379/0")
    assert "hunter2" not in repr(pool) and "hunter2" not in pool.target


def test_defaults_and_specs():
    pool = create_service("cache", "redis://127.0.0.1:6379")
    assert isinstance(pool, RedisPool)
    s = pool.settings
    assert (pool.pool_size, s.connect_timeout, s.command_timeout) == (5, 5.0, 10.0)
    assert (s.client_name, s.db, s.convert_numbers) == ("cyclone", None, False)
    spec = {"url": "redis://127.0.0.1:6379/1", "hosts": ["127.0.0.1:6380"], "pool_size": 2}
    sharded = create_service("cache", spec)
    assert isinstance(sharded, ShardedPool) and len(sharded.pools) == 2
    assert isinstance(create_service("c", "redis://127.0.0.1:6379,127.0.0.1:6380/0"), ShardedPool)


def test_bad_input_and_error_replies_leave_the_pool_working(open_pool, shared, prefix):
    pool = open_pool(shared + "?pool_size=1&max_reply_size=1000")

    async def scenario():
        for bad in (None, {"a": 1}, True, object()):
            with pytest.raises(InvalidArgument):
                await pool.set(prefix + "bad", bad)
        with pytest.raises(TypeError):  # InvalidArgument is a TypeError too
            await pool.get(None)
        await pool.set(prefix + "big", "x" * 5000)
        await pool.set(prefix + "small", "y")
        with pytest.raises(ReplyTooLarge, match="5000 bytes"):
            await pool.get(prefix + "big")
        with pytest.raises(ReplyTooLarge):
            await pool.mget([prefix + "small", prefix + "big"])
        await pool.set(prefix + "text", "abc")
        with pytest.raises(txredisapi.ResponseError, match="not an integer"):
            await pool.incr(prefix + "text")
        with pytest.raises(txredisapi.ResponseError, match="WRONGTYPE"):
            await pool.lpush(prefix + "text", "x")
        with pytest.raises(txredisapi.ResponseError, match="unknown command"):
            await pool.execute_command("NOSUCHCOMMAND")
        # The one connection is still in step: every reply answers its own command.
        return [await pool.get(prefix + "small"), await pool.get(prefix + "text")]

    assert run(scenario) == ["y", "abc"]
    assert run(lambda: pool.ping()) == "PONG"
