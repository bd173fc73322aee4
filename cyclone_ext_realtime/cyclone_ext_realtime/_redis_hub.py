"""The hub's Redis backend, so that many cyclone processes share their channels.

:class:`RedisBackend` implements :class:`~cyclone_ext_realtime._backend.HubBackend`;
``Hub.from_url("redis://...")`` builds a hub with it. It calls back the hub only
through :class:`~cyclone_ext_realtime._backend.Deliveries`.

Strategy: one Redis client code path in the project. The backend owns a
``redis://`` pool of the Redis extension (``cyclone_ext_redis``): PUBLISH goes
through the pool, and each channel with local subscribers is one
subscription on the pool's subscriber connection. That connection is made
again at once after a drop and subscribes every channel again; what was
published while it was down is lost, as Redis pub/sub delivers at most once.
A publish while Redis is down, or whose connection drops, fails with
``RedisUnavailable`` (an ``HTTPError(503)``). Messages come back from Redis
also to the process that published them, so local subscribers are served by
the same path as remote ones. Channels are one namespace per Redis server:
the database number in the URL only matters to commands other than pub/sub.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from cyclone_ext_realtime._backend import Deliveries
from cyclone_ext_redis import RedisPool, Subscription, redis

__all__ = ["RedisBackend"]


class RedisBackend:
    """The hub backend over Redis pub/sub: ``Hub(RedisBackend("redis://127.0.0.1:6379/0"))``.

    The pool connects on :meth:`start` or on first use and reconnects by
    itself; :meth:`stop` closes it.
    """

    hub: Deliveries | None = None

    def __init__(self, url: str, connect_timeout: float = 5.0) -> None:
        scheme, sep, rest = url.partition("://")
        if scheme.lower().removesuffix("+hub") != "redis" or not sep:
            raise ValueError(f"expected a redis:// URL, got {url!r}")
        self.url = url
        self.connect_timeout = connect_timeout
        self.pool: RedisPool = redis(
            "redis://" + rest,
            connect_timeout=connect_timeout,
            pool_size=1,
            client_name="cyclone-hub",
        )
        self._subscriptions: dict[str, Subscription] = {}

    def __repr__(self) -> str:
        return f"<RedisBackend {self.pool.target}>"

    def start(self) -> None:
        """Start connecting; returns at once."""
        self.pool.start()

    def stop(self) -> defer.Deferred[None]:
        """Close the connections and stop reconnecting; the hub can be started again."""
        self._subscriptions.clear()
        return self.pool.stop()

    # -- the backend contract (HubBackend) -------------------------------------------

    def attach(self, hub: Deliveries) -> None:
        self.hub = hub

    def deliver(self, channel: str, payload: str | bytes) -> int:
        """What Redis sent back goes to the local subscribers (0 if detached)."""
        return 0 if self.hub is None else self.hub.deliver(channel, payload)

    def send(self, channel: str, payload: str) -> defer.Deferred[int]:
        return self.pool.publish(channel, payload)

    def channel_added(self, channel: str) -> None:
        if channel not in self._subscriptions:
            self._subscriptions[channel] = self.pool.add_subscription(channel, self._message)

    def channel_removed(self, channel: str) -> None:
        subscription = self._subscriptions.pop(channel, None)
        if subscription is not None:
            subscription.cancel()

    def when_subscribed(self, channel: str) -> defer.Deferred[None]:
        subscription = self._subscriptions.get(channel)
        if subscription is None:
            return defer.succeed(None)
        return subscription.when_active().addCallback(lambda _: None)

    def _message(self, channel: str, payload: Any) -> None:
        self.deliver(channel, payload)
