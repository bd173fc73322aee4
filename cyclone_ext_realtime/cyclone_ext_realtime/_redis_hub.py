"""The hub's Redis backend, so that many cyclone processes share their channels.

:class:`RedisBackend` implements :class:`~cyclone_ext_realtime._backend.HubBackend`;
``Hub.from_url("redis://...")`` builds a hub with it. It calls back the hub only
through :class:`~cyclone_ext_realtime._backend.Deliveries`.

Strategy: two connections made with txredisapi, each kept alive by its own
reconnecting factory: one in subscriber mode that holds one Redis subscription
per channel with local subscribers, and one that sends PUBLISH. Messages come
back from Redis also to the process that published them, so local subscribers
are served by the same path as remote ones. After the subscriber connection
drops, every channel is subscribed again as soon as it is back; what was
published while it was down is lost, as Redis pub/sub delivers at most once.
Channels are one namespace per Redis server: the database number in the URL
only matters to commands other than pub/sub.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import txredisapi
from twisted.internet import defer, reactor
from twisted.internet.endpoints import HostnameEndpoint
from twisted.logger import Logger

from cyclone_ext_realtime._backend import Deliveries

__all__ = ["RedisBackend"]

log = Logger(namespace="cyclone.hub")


class _SubscriberProtocol(txredisapi.SubscriberProtocol):
    def messageReceived(self, pattern: Any, channel: Any, message: Any) -> None:
        if isinstance(channel, bytes):
            channel = channel.decode("utf-8", "replace")
        self.factory.backend.deliver(channel, message)

    def connectionLost(self, why: Any) -> None:
        self.factory.backend._subscriber_lost(self)
        super().connectionLost(why)


class _SubscriberFactory(txredisapi.SubscriberFactory):
    protocol = _SubscriberProtocol
    initialDelay = 0.2
    maxDelay = 5

    def __init__(self, backend: RedisBackend) -> None:
        super().__init__(isLazy=True)
        self.backend = backend
        self.password = backend.password
        self.username = backend.username
        self.convertNumbers = False  # payloads are JSON text, never Redis numbers

    def addConnection(self, conn: Any) -> None:
        super().addConnection(conn)
        if conn.connected and not self.disconnectCalled:
            self.backend._subscriber_ready(conn)


class _PublisherFactory(txredisapi.RedisFactory):
    initialDelay = 0.2
    maxDelay = 5


class RedisBackend:
    """The hub backend over Redis pub/sub: ``Hub(RedisBackend("redis://127.0.0.1:6379/0"))``.

    Connections open on :meth:`start` or on first use and reconnect by
    themselves; :meth:`stop` closes them. A publish made while Redis is down
    waits for the connection to come back.
    """

    hub: Deliveries | None = None

    def __init__(self, url: str, connect_timeout: float = 5.0) -> None:
        parts = urlsplit(url)
        self.url = url
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        path = parts.path.strip("/")
        try:
            self.dbid = int(path) if path else None
        except ValueError:
            raise ValueError(f"the Redis database in {url!r} must be a number") from None
        self.connect_timeout = connect_timeout
        self._subscriber: _SubscriberFactory | None = None
        self._publisher: _PublisherFactory | None = None
        self._connection: Any = None
        self._confirmed: set[str] = set()
        self._waiting: dict[str, list[defer.Deferred[None]]] = {}

    def __repr__(self) -> str:
        return f"<RedisBackend {self.host}:{self.port}>"

    def _endpoint(self) -> HostnameEndpoint:
        return HostnameEndpoint(reactor, self.host, self.port, timeout=self.connect_timeout)

    def start(self) -> None:
        """Start connecting (both connections); returns at once."""
        if self._subscriber is not None:
            return
        self._subscriber = _SubscriberFactory(self)
        self._subscriber.startConnecting(self._endpoint())
        self._publisher = _PublisherFactory(
            f"{self.host}:{self.port}",
            self.dbid,
            1,
            isLazy=True,
            password=self.password,
            username=self.username,
        )
        self._publisher.startConnecting(self._endpoint())

    @defer.inlineCallbacks
    def stop(self) -> Any:
        """Close both connections and stop reconnecting; the hub can be started again."""
        subscriber, publisher = self._subscriber, self._publisher
        self._subscriber = self._publisher = None
        self._connection = None
        self._confirmed.clear()
        for factory in (subscriber, publisher):
            if factory is not None:
                yield factory.disconnect()

    # -- the backend contract (HubBackend) -------------------------------------------

    def attach(self, hub: Deliveries) -> None:
        self.hub = hub

    def deliver(self, channel: str, payload: str | bytes) -> int:
        """What Redis sent back goes to the local subscribers (0 if detached)."""
        return 0 if self.hub is None else self.hub.deliver(channel, payload)

    def send(self, channel: str, payload: str) -> defer.Deferred[int]:
        self.start()
        assert self._publisher is not None
        return self._publisher.handler.publish(channel, payload)

    def channel_added(self, channel: str) -> None:
        if self._subscriber is None:
            self.start()  # _subscriber_ready will subscribe every channel
        elif self._connection is not None:
            self._redis_subscribe(self._connection, channel)

    def channel_removed(self, channel: str) -> None:
        self._confirmed.discard(channel)
        connection = self._connection
        if connection is not None:
            connection.unsubscribe(channel).addErrback(self._log_command_error, "UNSUBSCRIBE")

    def when_subscribed(self, channel: str) -> defer.Deferred[None]:
        if channel in self._confirmed:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._waiting.setdefault(channel, []).append(waiter)
        return waiter

    # -- the subscriber connection -----------------------------------------------------

    def _subscriber_ready(self, connection: Any) -> None:
        self._connection = connection
        for channel in self.hub.channels() if self.hub is not None else ():
            self._redis_subscribe(connection, channel)

    def _subscriber_lost(self, connection: Any) -> None:
        if connection is self._connection:
            self._connection = None
            self._confirmed.clear()

    def _redis_subscribe(self, connection: Any, channel: str) -> None:
        # One channel per command: each SUBSCRIBE then gets exactly one reply.
        d = connection.subscribe(channel)
        d.addCallback(self._subscribed, connection, channel)
        d.addErrback(self._log_command_error, "SUBSCRIBE")

    def _subscribed(self, reply: Any, connection: Any, channel: str) -> None:
        hub = self.hub
        if connection is not self._connection or hub is None or not hub.subscriber_count(channel):
            return
        self._confirmed.add(channel)
        for waiter in self._waiting.pop(channel, ()):
            waiter.callback(None)

    def _log_command_error(self, failure: Any, command: str) -> None:
        if failure.check(txredisapi.ConnectionError):
            return  # the connection dropped; resubscribing is done on reconnection
        log.failure("Redis {command} failed", failure, command=command)
