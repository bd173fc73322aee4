"""Redis for cyclone: ``redis://``, ``rediss://``, ``redis+unix://`` and ``redis+sentinel://``.

Each scheme has a factory registered in the ``cyclone.storage`` entry-point
group: ``factory(url, **options) -> pool``, with ``factory.options`` naming
the accepted options. A pool has ``start()`` and ``stop()`` plus txredisapi's
whole command API, each command returning a Deferred that ``async def``
handlers can await::

    Application(handlers, services={"cache": "redis://127.0.0.1:6379/0"})

    class CounterHandler(RequestHandler):
        async def post(self):
            self.write({"hits": await self.settings.cache.incr("hits")})

Pools connect lazily and reconnect by themselves. While Redis cannot be
reached, commands fail within ``connect_timeout`` with
:class:`RedisUnavailable`, an ``HTTPError(503)``. Pub/sub:
``pool.subscribe(channel, callback)``. See docs/redis.md.
"""

from txredisapi import (
    ConnectionError,
    InvalidData,
    InvalidResponse,
    NoScriptRunning,
    RedisError,
    ResponseError,
    ScriptDoesNotExist,
    TimeoutError,
    WatchError,
)

from cyclone_ext_redis._errors import InvalidArgument, RedisUnavailable, ReplyTooLarge
from cyclone_ext_redis._factories import SentinelPool, redis, redis_sentinel, redis_unix, rediss
from cyclone_ext_redis._pool import REPLAYABLE, ConnectionSettings, RedisPool
from cyclone_ext_redis._pubsub import Subscriber, Subscription
from cyclone_ext_redis._sentinel import MasterNotFound, SentinelEndpoint
from cyclone_ext_redis._shard import HashRing, ShardedPool, hash_key
from cyclone_ext_redis.compat import (
    Connection,
    ConnectionPool,
    ShardedConnection,
    ShardedConnectionPool,
    SubscriberFactory,
    SubscriberProtocol,
    UnixConnection,
    UnixConnectionPool,
    lazyConnection,
    lazyConnectionPool,
    lazyShardedConnection,
    lazyShardedConnectionPool,
    lazyUnixConnection,
    lazyUnixConnectionPool,
)

__all__ = [
    "REPLAYABLE",
    "Connection",
    "ConnectionError",
    "ConnectionPool",
    "ConnectionSettings",
    "HashRing",
    "InvalidArgument",
    "InvalidData",
    "InvalidResponse",
    "MasterNotFound",
    "NoScriptRunning",
    "RedisError",
    "RedisPool",
    "RedisUnavailable",
    "ReplyTooLarge",
    "ResponseError",
    "ScriptDoesNotExist",
    "SentinelEndpoint",
    "SentinelPool",
    "ShardedConnection",
    "ShardedConnectionPool",
    "ShardedPool",
    "Subscriber",
    "SubscriberFactory",
    "SubscriberProtocol",
    "Subscription",
    "TimeoutError",
    "UnixConnection",
    "UnixConnectionPool",
    "WatchError",
    "hash_key",
    "lazyConnection",
    "lazyConnectionPool",
    "lazyShardedConnection",
    "lazyShardedConnectionPool",
    "lazyUnixConnection",
    "lazyUnixConnectionPool",
    "redis",
    "redis_sentinel",
    "redis_unix",
    "rediss",
]
