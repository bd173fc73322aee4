"""Sharding: keys spread over several Redis servers by a consistent hash.

Strategy: the ring is the one cyclone 1.x's ``ShardedConnectionPool`` used
(160 points per server, CRC-32 of ``"host:port:i"``, a key going to the first
point at or after its CRC-32, clamped to the last point), so keys land on
the same server as they did with 1.x. A key with a ``{hashtag}`` (Redis
Cluster's rule: the text between the first ``{`` and the next ``}``, when not
empty) is placed by its tag, so ``user:{42}:name`` and ``user:{42}:mail``
share a server. Commands whose first argument is a key go to that key's
server; ``mget``/``delete``/``exists`` with several keys are split by server
and merged; anything else is reached through :meth:`ShardedPool.pool_for`
or :attr:`ShardedPool.pools`.
"""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet import defer

from cyclone_ext_redis._pool import RedisPool

__all__ = ["HashRing", "ShardedPool", "hash_key"]

_KEY_COMMANDS = frozenset(
    [
        "append",
        "decr",
        "decrby",
        "delete",
        "exists",
        "expire",
        "expireat",
        "persist",
        "pexpire",
        "get",
        "getset",
        "get_type",
        "getrange",
        "getbit",
        "setbit",
        "bitcount",
        "hdel",
        "hexists",
        "hget",
        "hgetall",
        "hincrby",
        "hincrbyfloat",
        "hkeys",
        "hlen",
        "hmget",
        "hmset",
        "hset",
        "hsetnx",
        "hvals",
        "incr",
        "incrby",
        "incrbyfloat",
        "lindex",
        "linsert",
        "llen",
        "lpop",
        "lpush",
        "lpushx",
        "lrange",
        "lrem",
        "lset",
        "ltrim",
        "rpop",
        "rpush",
        "rpushx",
        "sadd",
        "scard",
        "sismember",
        "smembers",
        "spop",
        "srandmember",
        "srem",
        "set",
        "setex",
        "setnx",
        "setrange",
        "strlen",
        "ttl",
        "pttl",
        "type",
        "zadd",
        "zcard",
        "zcount",
        "zincrby",
        "zrange",
        "zrangebyscore",
        "zrank",
        "zrem",
        "zremrangebyrank",
        "zremrangebyscore",
        "zrevrange",
        "zrevrangebyscore",
        "zrevrank",
        "zscore",
        "publish",
    ]
)


def hash_key(key: str | bytes) -> bytes:
    """The part of ``key`` that places it: its ``{hashtag}`` when it has one."""
    raw = key.encode() if isinstance(key, str) else bytes(key)
    start = raw.find(b"{")
    if start >= 0:
        end = raw.find(b"}", start + 1)
        if end > start + 1:
            return raw[start + 1 : end]
    return raw


class HashRing:
    """Consistent hash of keys onto ``nodes``, each named by ``names`` ("host:port")."""

    replicas = 160

    def __init__(self, nodes: Sequence[Any], names: Sequence[str]) -> None:
        points: list[tuple[int, int]] = []
        for index, name in enumerate(names):
            for i in range(self.replicas):
                points.append((zlib.crc32(f"{name}:{i}".encode()), index))
        points.sort()
        self._hashes = [h for h, _ in points]
        self._nodes = [nodes[i] for _, i in points]

    def node(self, key: str | bytes) -> Any:
        position = bisect.bisect(self._hashes, zlib.crc32(hash_key(key)))
        return self._nodes[min(position, len(self._nodes) - 1)]


class ShardedPool:
    """Several :class:`RedisPool` (one per server) behind one key-routed command API."""

    def __init__(self, pools: Sequence[RedisPool], names: Sequence[str]) -> None:
        if not pools:
            raise ValueError("a sharded pool needs at least one server")
        self.pools = list(pools)
        self.target = ",".join(p.target for p in self.pools)
        self._ring = HashRing(self.pools, names)

    def __repr__(self) -> str:
        return f"<ShardedPool {self.target}>"

    def start(self) -> None:
        """Start connecting every shard in the background."""
        for pool in self.pools:
            pool.start()

    def stop(self) -> defer.Deferred[Any]:
        """Close every shard's connections."""
        return defer.gatherResults([p.stop() for p in self.pools], consumeErrors=True)

    def pool_for(self, key: str | bytes) -> RedisPool:
        """The shard that holds ``key``."""
        return self._ring.node(key)

    def __getattr__(self, name: str) -> Callable[..., defer.Deferred[Any]]:
        if name not in _KEY_COMMANDS:
            raise AttributeError(
                f"{name!r} cannot be sharded (its first argument is not a key); "
                "use pool_for(key) or pools"
            )

        def command(key: Any, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
            if name in ("delete", "exists") and isinstance(key, list | tuple):
                return self._split(name, list(key), sum)
            if not isinstance(key, str | bytes):
                return defer.fail(
                    TypeError(f"{name}: a key is str or bytes, not {type(key).__name__}")
                )
            return getattr(self.pool_for(key), name)(key, *args, **kwargs)

        command.__name__ = name
        self.__dict__[name] = command
        return command

    def mget(self, keys: Sequence[Any], *more: Any) -> defer.Deferred[list[Any]]:
        """The values of ``keys`` (from every shard that holds some), in order."""
        wanted = [*keys, *more] if isinstance(keys, list | tuple) else [keys, *more]
        return self._split("mget", wanted, None)

    @defer.inlineCallbacks
    def _split(self, name: str, keys: list[Any], merge: Callable[[list[Any]], Any] | None) -> Any:
        groups: dict[int, list[int]] = {}
        for index, key in enumerate(keys):
            groups.setdefault(id(self.pool_for(key)), []).append(index)
        pools = {id(p): p for p in self.pools}
        results: list[Any] = [None] * len(keys)
        partial = []
        for pool_id, indexes in groups.items():
            reply = yield getattr(pools[pool_id], name)([keys[i] for i in indexes])
            if merge is not None:
                partial.append(reply)
            else:
                for i, value in zip(indexes, reply, strict=True):
                    results[i] = value
        return merge(partial) if merge is not None else results

    def subscribe(self, channel: str, callback: Callable[[str, Any], Any]) -> defer.Deferred[Any]:
        """Subscribe on the shard that ``publish(channel, ...)`` sends to."""
        return self.pool_for(channel).subscribe(channel, callback)
