"""The pool: lazy txredisapi connections that reconnect by themselves and fail fast.

Strategy. txredisapi's ``RedisFactory`` keeps ``pool_size`` connections, each
one reconnected by its own Twisted ``ClientService``; its protocol carries
the whole command API. :class:`RedisPool` is the object handlers see: it
forwards every command to one of those connections and adds what a web
application relies on:

- Lazy. Nothing connects until :meth:`RedisPool.start` (called when the
  server starts) or the first command; ``start()`` does not wait, so an
  Application starts while Redis is down.
- Fast failures. A command waits for a connection at most
  ``connect_timeout``. Every connection attempt is watched: once one fails
  (refused, timed out, TLS or ``AUTH`` rejected) while the pool has no live
  connection, the commands waiting fail at once with
  :class:`RedisUnavailable` (an ``HTTPError(503)``), and so do new ones until
  a connection is back; nobody gets a Deferred that hangs.
- Healing. A connection that drops is reconnected at once, then with a
  backoff of 0.05 s doubling up to ``reconnect_delay``: after
  ``CLIENT KILL``, a restart or an idle timeout, the next commands go out on
  fresh connections. A command that was written to a connection that was
  then lost, or that outlived ``command_timeout`` (the connection is then
  aborted), may have run: it fails with ``RedisUnavailable(maybe_ran=True)``
  and is not sent again, except the read-only commands of
  :data:`REPLAYABLE`, which are sent once more on another connection because
  running them twice changes nothing. A command that could not be written
  (its connection died first) always goes out on another one.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import txredisapi
from twisted.internet import defer, reactor, task
from twisted.logger import Logger
from twisted.python.failure import Failure

from cyclone_ext_redis._connection import ConnectionSettings, PoolFactory
from cyclone_ext_redis._errors import RedisUnavailable
from cyclone_ext_redis._protocol import PoolProtocol
from cyclone_ext_redis._pubsub import Subscriber

__all__ = ["REPLAYABLE", "ConnectionSettings", "RedisPool"]

log = Logger(namespace="cyclone.redis")

REPLAYABLE = frozenset(
    [
        "get",
        "mget",
        "exists",
        "ttl",
        "pttl",
        "type",
        "get_type",
        "strlen",
        "getrange",
        "substr",
        "getbit",
        "bitcount",
        "hget",
        "hgetall",
        "hmget",
        "hkeys",
        "hvals",
        "hlen",
        "hexists",
        "hstrlen",
        "lrange",
        "llen",
        "lindex",
        "smembers",
        "sismember",
        "scard",
        "sinter",
        "sunion",
        "sdiff",
        "srandmember",
        "zrange",
        "zrangebyscore",
        "zrevrange",
        "zrevrangebyscore",
        "zscore",
        "zcard",
        "zcount",
        "zrank",
        "zrevrank",
        "keys",
        "scan",
        "sscan",
        "hscan",
        "zscan",
        "dbsize",
        "ping",
        "echo",
        "info",
        "time",
        "lastsave",
        "randomkey",
        "pfcount",
    ]
)
"""Read-only commands sent a second time when their connection drops before the reply."""


class RedisPool:
    """A lazy pool of Redis connections with txredisapi's command API.

    ``endpoint`` (a Twisted client endpoint, or a callable returning one per
    start) says where to connect; ``settings`` what to do there. Any
    txredisapi command is a method: ``await pool.get("k")``,
    ``pool.set("k", "v", expire=60)``, ``tx = await pool.multi()``... Each
    returns a Deferred, so it can be awaited or yielded from
    ``@inlineCallbacks``. Pub/sub: :meth:`subscribe` and :meth:`psubscribe`.
    """

    reconnect = True

    def __init__(
        self,
        endpoint: Any,
        settings: ConnectionSettings,
        *,
        pool_size: int = 5,
        subscriber_endpoint: Any = None,
        max_pending: int = 10000,
        lag_warning: float = 1.0,
        ping_interval: float = 1.0,
    ) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be >= 1")
        self.settings = settings
        self.target = settings.target
        self.pool_size = pool_size
        self.max_pending = max_pending
        self.lag_warning = lag_warning
        self.ping_interval = ping_interval
        self._endpoint = endpoint
        self._subscriber_endpoint = subscriber_endpoint
        self._factory: PoolFactory | None = None
        self._down: BaseException | None = None
        self._waiters: set[defer.Deferred[Any]] = set()
        self._next = itertools.count()
        self._subscriber: Any = None

    def __repr__(self) -> str:
        live = self._factory.size if self._factory is not None else 0
        return f"<RedisPool {self.target} {live}/{self.pool_size} connected>"

    # -- life cycle ------------------------------------------------------------------

    def endpoint(self) -> Any:
        """A client endpoint for the server (the given one, or made by the given callable)."""
        return self._endpoint() if callable(self._endpoint) else self._endpoint

    def start(self) -> None:
        """Start connecting in the background (idempotent; done by the first command too)."""
        if self._factory is None:
            self._start()

    def _start(self) -> PoolFactory:
        self._down = None
        self._factory = factory = PoolFactory(
            self.settings, self.pool_size, self._attempt_failed, self._attempt_ok
        )
        factory.reconnect = self.reconnect
        factory.start(self.endpoint())
        return factory

    async def _stop(self) -> None:
        factory, self._factory = self._factory, None
        subscriber, self._subscriber = self._subscriber, None
        self._fail_waiters(RedisUnavailable(self.target))
        if subscriber is not None:
            await subscriber.stop()
        if factory is not None:
            await factory.disconnect()

    def stop(self) -> defer.Deferred[None]:
        """Close every connection and stop reconnecting; the pool can be started again."""
        return defer.ensureDeferred(self._stop())

    def reset(self) -> None:
        """Close every live connection; each is made again at once (used after a failover)."""
        factory = self._factory
        if factory is not None:
            for conn in list(factory.pool):
                conn.transport.loseConnection()
        if self._subscriber is not None:
            self._subscriber.reset()

    # -- connection state ------------------------------------------------------------

    def _attempt_failed(self, error: BaseException) -> None:
        factory = self._factory
        if factory is None or factory.size:
            return
        if self._down is None:
            log.warn(
                "Redis at {target} is unavailable: {error}",
                target=self.target,
                error=f"{type(error).__name__}: {error}",
            )
        self._down = error
        self._fail_waiters(RedisUnavailable(self.target, error))

    def _attempt_ok(self) -> None:
        if self._down is not None:
            log.info("Redis at {target} is available again", target=self.target)
        self._down = None

    def _fail_waiters(self, error: RedisUnavailable) -> None:
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.called:
                waiter.errback(error)

    @property
    def available(self) -> bool:
        """Whether a connection is up right now (commands would not wait)."""
        return self._factory is not None and self._factory.size > 0

    def _idle(self, factory: PoolFactory) -> Any:
        """A live shared connection, round robin, or ``None``."""
        pending = factory.connectionQueue.pending
        while pending:
            conn = pending[next(self._next) % len(pending)]
            if conn.connected:
                return conn
            pending.remove(conn)
        return None

    def _acquire(self, exclusive: bool) -> defer.Deferred[Any]:
        """A connection: shared, or taken out of the pool when ``exclusive``."""
        factory = self._factory or self._start()
        if not exclusive:
            conn = self._idle(factory)
            if conn is not None:
                return defer.succeed(conn)
        if self._down is not None and not factory.size:
            return defer.fail(RedisUnavailable(self.target, self._down))
        got = factory.getConnection(peek=not exclusive)
        waiter: defer.Deferred[Any] = defer.Deferred(lambda _: got.cancel())
        self._waiters.add(waiter)

        def arrived(conn: Any) -> None:
            self._waiters.discard(waiter)
            if waiter.called:  # failed already: give a taken connection back
                if exclusive:
                    factory.connectionQueue.put(conn)
                return
            waiter.callback(conn)

        def gone(failure: Failure) -> None:
            self._waiters.discard(waiter)
            if not waiter.called:
                waiter.errback(RedisUnavailable(self.target, failure.value))

        got.addCallbacks(arrived, gone)

        def abandon(failure: Failure) -> Failure:
            got.cancel()  # no-op once it fired
            return failure

        waiter.addErrback(abandon)

        def timed_out() -> None:
            if not waiter.called:
                self._waiters.discard(waiter)
                cause = TimeoutError(
                    f"no connection within connect_timeout ({self.settings.connect_timeout}s)"
                )
                waiter.errback(RedisUnavailable(self.target, cause))

        timer = reactor.callLater(self.settings.connect_timeout, timed_out)
        waiter.addBoth(_cancel_timer, timer)
        return waiter

    # -- commands --------------------------------------------------------------------

    def __getattr__(self, name: str) -> Callable[..., defer.Deferred[Any]]:
        method = getattr(PoolProtocol, name, None)
        if name.startswith("_") or not callable(method):
            raise AttributeError(f"{type(self).__name__!r} has no attribute or command {name!r}")
        exclusive = getattr(method, "_blocking", False)
        release = getattr(method, "_release_on_callback", True)
        replayable = name in REPLAYABLE

        def command(*args: Any, **kwargs: Any) -> defer.Deferred[Any]:
            return self._run(method, exclusive, release, replayable, args, kwargs, 0)

        command.__name__ = name
        command.__doc__ = method.__doc__
        self.__dict__[name] = command
        return command

    def _run(
        self,
        method: Callable[..., Any],
        exclusive: bool,
        release: bool,
        replayable: bool,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        attempt: int,
    ) -> defer.Deferred[Any]:
        factory = self._factory
        conn = self._idle(factory) if factory is not None and not exclusive else None
        if conn is not None:  # the fast path: a live connection, no waiting
            return self._send(conn, method, exclusive, release, replayable, args, kwargs, attempt)
        d = self._acquire(exclusive)
        return d.addCallback(
            self._send, method, exclusive, release, replayable, args, kwargs, attempt
        )

    def _send(
        self,
        conn: Any,
        method: Callable[..., Any],
        exclusive: bool,
        release: bool,
        replayable: bool,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        attempt: int,
    ) -> defer.Deferred[Any]:
        try:
            d = method(conn, *args, **kwargs)
        except RedisUnavailable as exc:
            if exclusive:
                self._give_back(conn)
            if exc.maybe_ran or attempt >= self.pool_size:
                return defer.fail(exc)
            # Nothing was written: the connection died under us; use another one.
            return self._run(method, exclusive, release, replayable, args, kwargs, attempt + 1)
        except BaseException:
            if exclusive:
                self._give_back(conn)
            return defer.fail()
        if exclusive and release:
            d.addBoth(self._release, conn)
        if replayable and attempt <= self.pool_size:
            d.addErrback(self._replay, method, exclusive, release, args, kwargs, attempt)
        return d

    def _give_back(self, conn: Any) -> None:
        factory = self._factory
        if factory is not None and conn.connected:
            factory.connectionQueue.put(conn)

    def _release(self, result: Any, conn: Any) -> Any:
        self._give_back(conn)
        return result

    def _replay(
        self,
        failure: Failure,
        method: Callable[..., Any],
        exclusive: bool,
        release: bool,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        attempt: int,
    ) -> Any:
        exc = failure.value
        if (
            isinstance(exc, RedisUnavailable)
            and exc.maybe_ran
            and not isinstance(exc.cause, txredisapi.TimeoutError)
            and self._factory is not None
        ):
            # A killed server drops every connection at once: let the reactor see
            # the other losses first, so the replay goes out on a fresh one.
            return task.deferLater(reactor, 0, lambda: None).addCallback(
                lambda _: self._run(method, exclusive, release, True, args, kwargs, attempt + 1)
            )
        return failure

    def execute_command(self, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        """Send any command by name: ``execute_command("OBJECT", "ENCODING", key)``."""
        return self.__getattr__("execute_command")(*args, **kwargs)

    # -- pub/sub ---------------------------------------------------------------------

    def _pubsub(self) -> Any:
        if self._subscriber is None:
            endpoint = self._subscriber_endpoint or self.endpoint
            self._subscriber = Subscriber(
                endpoint,
                self.settings,
                max_pending=self.max_pending,
                lag_warning=self.lag_warning,
                ping_interval=self.ping_interval,
            )
        return self._subscriber

    @property
    def subscriber(self) -> Any:
        """The :class:`~cyclone_ext_redis.Subscriber` (``None`` before the first subscription)."""
        return self._subscriber

    def subscribe(
        self, channel: str, callback: Callable[[str, Any], Awaitable[Any] | Any]
    ) -> defer.Deferred[Any]:
        """Call ``callback(channel, message)`` for each message published on ``channel``.

        Fires with a :class:`~cyclone_ext_redis.Subscription` once Redis confirms
        it; ``await subscription.cancel()`` ends it. Subscriptions live on one
        extra connection, which is made on the first one and subscribes to every
        channel and pattern again after a reconnect.
        """
        return self._pubsub().subscribe(channel, callback)

    def add_subscription(
        self,
        name: str,
        callback: Callable[[str, Any], Awaitable[Any] | Any],
        *,
        pattern: bool = False,
    ) -> Any:
        """Like :meth:`subscribe`, without waiting: the Subscription at once.

        ``subscription.when_active()`` fires once Redis confirmed it; it is made
        (again) whenever the subscriber connection is (re)established.
        """
        return self._pubsub().add(name, callback, pattern)

    def psubscribe(
        self, pattern: str, callback: Callable[[str, Any], Awaitable[Any] | Any]
    ) -> defer.Deferred[Any]:
        """Like :meth:`subscribe`, for every channel that matches the glob ``pattern``."""
        return self._pubsub().subscribe(pattern, callback, pattern=True)


def _cancel_timer(result: Any, timer: Any) -> Any:
    if timer.active():
        timer.cancel()
    return result
