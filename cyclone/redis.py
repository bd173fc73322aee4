"""cyclone 1.x's ``cyclone.redis``, now provided by the ``cyclone-ext-redis`` extension.

The 1.x names keep their signatures (``lazyConnectionPool(host=, port=,
dbid=, poolsize=, reconnect=)``, ``ShardedConnectionPool``,
``SubscriberFactory``, the errors...) and return the extension's pools, which
connect lazily, fail fast with ``RedisUnavailable`` (an ``HTTPError(503)``)
and heal. New code should prefer a ``redis://`` service
(``services={"cache": "redis://127.0.0.1:6379/0"}``). See docs/redis.md.
"""

try:
    from cyclone_ext_redis import *  # noqa: F403 - the extension's public names
    from cyclone_ext_redis import __all__  # noqa: F401
except ModuleNotFoundError as exc:
    if exc.name != "cyclone_ext_redis":
        raise
    raise ModuleNotFoundError(
        "cyclone.redis is provided by the Redis extension: pip install 'cyclone[redis]'",
        name=__name__,
    ) from None
