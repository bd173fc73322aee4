"""cyclone 1.x's ``cyclone.redis`` connection functions, with their 1.x signatures.

``lazyConnectionPool(host=, port=, dbid=, poolsize=, reconnect=, ...)`` and
friends return the pools of this extension (lazy, fast failures, healing);
the non-lazy ones (``ConnectionPool``, ``Connection``...) return a Deferred
that fires with the pool once a first ``PING`` was answered, as 1.x fired
once connected. ``SubscriberFactory`` is a reconnecting client factory for
``reactor.connectTCP`` whose protocol, like 1.x's, is a
``SubscriberProtocol`` subclass with ``messageReceived(pattern, channel,
message)``. New code uses ``services={...}`` and ``pool.subscribe()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import txredisapi
from twisted.internet import defer, protocol, reactor
from twisted.internet.endpoints import HostnameEndpoint, UNIXClientEndpoint

from cyclone_ext_redis._pool import ConnectionSettings, RedisPool
from cyclone_ext_redis._shard import ShardedPool

__all__ = [
    "Connection",
    "ConnectionPool",
    "ShardedConnection",
    "ShardedConnectionPool",
    "SubscriberFactory",
    "SubscriberProtocol",
    "UnixConnection",
    "UnixConnectionPool",
    "lazyConnection",
    "lazyConnectionPool",
    "lazyShardedConnection",
    "lazyShardedConnectionPool",
    "lazyUnixConnection",
    "lazyUnixConnectionPool",
]

SubscriberProtocol = txredisapi.SubscriberProtocol


class SubscriberFactory(protocol.ReconnectingClientFactory):
    """1.x's subscriber factory: ``reactor.connectTCP(host, port, MySubscriberFactory())``.

    Set ``protocol`` to a :class:`SubscriberProtocol` subclass; it reconnects
    with a backoff (``maxDelay``), like 1.x's.
    """

    protocol = SubscriberProtocol
    maxDelay = 10
    noisy = False

    def __init__(self, isLazy: bool = False, handler: Any = None) -> None:
        self.isLazy = isLazy

    def buildProtocol(self, addr: Any) -> Any:
        self.resetDelay()
        p = self.protocol(charset="utf-8")
        p.factory = self
        return p

    def connectionError(self, why: str) -> None:
        """Called by the protocol when AUTH or SELECT fails (it stopped retrying)."""


def _settings(target: str, dbid: int | None, kw: dict[str, Any]) -> ConnectionSettings:
    """1.x keyword arguments (``charset``, ``password``, ``connectTimeout``, ...) as settings."""
    return ConnectionSettings(
        target,
        username=kw.get("username"),
        password=kw.get("password"),
        db=dbid,
        connect_timeout=kw.get("connectTimeout") or 5.0,
        command_timeout=kw.get("replyTimeout"),
        encoding=kw.get("charset", "utf-8"),
        convert_numbers=kw.get("convertNumbers", True),
    )


def _tcp_pool(
    host: str, port: int, dbid: int | None, poolsize: int, reconnect: bool, kw: dict[str, Any]
) -> RedisPool:
    timeout = kw.get("connectTimeout") or 5.0
    settings = _settings(f"redis://{host}:{port}/{dbid or 0}", dbid, kw)
    pool = RedisPool(
        lambda: HostnameEndpoint(reactor, host, port, timeout=timeout), settings, pool_size=poolsize
    )
    pool.reconnect = reconnect
    return pool


def _connected(pool: Any) -> defer.Deferred[Any]:
    pools = pool.pools if isinstance(pool, ShardedPool) else [pool]
    d = defer.gatherResults([p.ping() for p in pools], consumeErrors=True)
    d.addErrback(lambda f: f.value.subFailure if f.check(defer.FirstError) else f)
    return d.addCallback(lambda _: pool)


def lazyConnectionPool(
    host: str = "localhost",
    port: int = 6379,
    dbid: int | None = None,
    poolsize: int = 10,
    reconnect: bool = True,
    **kw: Any,
) -> RedisPool:
    """A pool of ``poolsize`` connections, connecting in the background (1.x signature)."""
    pool = _tcp_pool(host, port, dbid, poolsize, reconnect, kw)
    pool.start()
    return pool


def lazyConnection(
    host: str = "localhost",
    port: int = 6379,
    dbid: int | None = None,
    reconnect: bool = True,
    **kw: Any,
) -> RedisPool:
    """One connection, made in the background."""
    return lazyConnectionPool(host, port, dbid, 1, reconnect, **kw)


def ConnectionPool(
    host: str = "localhost",
    port: int = 6379,
    dbid: int | None = None,
    poolsize: int = 10,
    reconnect: bool = True,
    **kw: Any,
) -> defer.Deferred[RedisPool]:
    """A Deferred that fires with the pool once Redis answered."""
    return _connected(lazyConnectionPool(host, port, dbid, poolsize, reconnect, **kw))


def Connection(
    host: str = "localhost",
    port: int = 6379,
    dbid: int | None = None,
    reconnect: bool = True,
    **kw: Any,
) -> defer.Deferred[RedisPool]:
    """A Deferred that fires with a one-connection pool once Redis answered."""
    return ConnectionPool(host, port, dbid, 1, reconnect, **kw)


def _split(hosts: Sequence[str]) -> list[tuple[str, int]]:
    out = []
    for item in hosts:
        host, colon, port = str(item).rpartition(":")
        out.append((host, int(port)) if colon else (str(item), 6379))
    return out


def lazyShardedConnectionPool(
    hosts: Sequence[str],
    dbid: int | None = None,
    poolsize: int = 10,
    reconnect: bool = True,
    **kw: Any,
) -> ShardedPool:
    """A sharded pool over ``hosts`` (``["host:port", ...]``), connecting in the background."""
    pairs = _split(hosts)
    pools = [_tcp_pool(h, p, dbid, poolsize, reconnect, kw) for h, p in pairs]
    sharded = ShardedPool(pools, [f"{h}:{p}" for h, p in pairs])
    sharded.start()
    return sharded


def lazyShardedConnection(
    hosts: Sequence[str], dbid: int | None = None, reconnect: bool = True, **kw: Any
) -> ShardedPool:
    """A sharded pool of one connection per host."""
    return lazyShardedConnectionPool(hosts, dbid, 1, reconnect, **kw)


def ShardedConnectionPool(
    hosts: Sequence[str],
    dbid: int | None = None,
    poolsize: int = 10,
    reconnect: bool = True,
    **kw: Any,
) -> defer.Deferred[ShardedPool]:
    """A Deferred that fires with the sharded pool once every host answered."""
    return _connected(lazyShardedConnectionPool(hosts, dbid, poolsize, reconnect, **kw))


def ShardedConnection(
    hosts: Sequence[str], dbid: int | None = None, reconnect: bool = True, **kw: Any
) -> defer.Deferred[ShardedPool]:
    """A Deferred that fires with a one-connection-per-host sharded pool once connected."""
    return ShardedConnectionPool(hosts, dbid, 1, reconnect, **kw)


def lazyUnixConnectionPool(
    path: str = "/tmp/redis.sock",
    dbid: int | None = None,
    poolsize: int = 10,
    reconnect: bool = True,
    **kw: Any,
) -> RedisPool:
    """A pool over the UNIX socket ``path``, connecting in the background."""
    timeout = kw.get("connectTimeout") or 5.0
    settings = _settings(f"redis+unix://{path}", dbid, kw)
    pool = RedisPool(
        lambda: UNIXClientEndpoint(reactor, path, timeout=timeout), settings, pool_size=poolsize
    )
    pool.reconnect = reconnect
    pool.start()
    return pool


def lazyUnixConnection(
    path: str = "/tmp/redis.sock", dbid: int | None = None, reconnect: bool = True, **kw: Any
) -> RedisPool:
    """One connection over the UNIX socket ``path``."""
    return lazyUnixConnectionPool(path, dbid, 1, reconnect, **kw)


def UnixConnectionPool(
    path: str = "/tmp/redis.sock",
    dbid: int | None = None,
    poolsize: int = 10,
    reconnect: bool = True,
    **kw: Any,
) -> defer.Deferred[RedisPool]:
    """A Deferred that fires with the UNIX-socket pool once Redis answered."""
    return _connected(lazyUnixConnectionPool(path, dbid, poolsize, reconnect, **kw))


def UnixConnection(
    path: str = "/tmp/redis.sock", dbid: int | None = None, reconnect: bool = True, **kw: Any
) -> defer.Deferred[RedisPool]:
    """A Deferred that fires with a one-connection UNIX-socket pool once connected."""
    return UnixConnectionPool(path, dbid, 1, reconnect, **kw)
