"""Pub/sub: one subscriber connection per pool that resubscribes after every reconnect.

Strategy. The first :meth:`RedisPool.subscribe` opens one more connection
(named ``<client_name>:sub``), kept by the same reconnecting factory as the
pool's. Each channel or pattern is one ``SUBSCRIBE``/``PSUBSCRIBE`` of its
own, so every command gets exactly one reply and replies are matched in order.
When the connection is back after a drop, every channel and pattern that has
a subscriber is subscribed again at once (the reconnection itself is
immediate); what was published in between is lost, as Redis pub/sub delivers
at most once.

Falling behind is detected, not suffered: every ``ping_interval`` a ``PING``
goes out on the subscriber connection. Its answer comes after every message
queued before it, so its round trip is how far behind this process reads;
above ``lag_warning`` seconds a warning says so (and :attr:`Subscriber.lag`
holds the last figure). A ``PING`` unanswered within ``command_timeout``
means a stalled connection, which is aborted and made again. A callback may
return an awaitable; messages for that subscription then wait in a queue of
at most ``max_pending``; beyond it the oldest are dropped, counted in
:attr:`Subscription.dropped` and logged.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from twisted.internet import defer, reactor, task
from twisted.logger import Logger
from twisted.python.failure import Failure

from cyclone_ext_redis._connection import ConnectionSettings, PoolFactory
from cyclone_ext_redis._errors import RedisUnavailable
from cyclone_ext_redis._protocol import SubscriberConnection

__all__ = ["Subscriber", "Subscription"]

log = Logger(namespace="cyclone.redis")

Callback = Callable[[str, Any], Awaitable[Any] | Any]


class _SubscriberFactory(PoolFactory):
    protocol = SubscriberConnection
    name_suffix = ":sub"


class Subscription:
    """One callback subscribed to a channel (or a pattern, when ``pattern`` is true)."""

    def __init__(
        self, subscriber: Subscriber, name: str, pattern: bool, callback: Callback
    ) -> None:
        self.name = name
        self.pattern = pattern
        self.callback = callback
        self.dropped = 0
        self._subscriber = subscriber
        self._queue: deque[tuple[str, Any]] = deque()
        self._busy = False
        self._cancelled = False

    def __repr__(self) -> str:
        kind = "pattern" if self.pattern else "channel"
        return f"<Subscription {kind} {self.name!r}>"

    @property
    def active(self) -> bool:
        """Whether Redis confirmed the subscription on the current connection."""
        return not self._cancelled and self._subscriber.is_confirmed(self.pattern, self.name)

    def when_active(self) -> defer.Deferred[Subscription]:
        """Fires with this subscription once Redis has confirmed it (again)."""
        return self._subscriber.when_confirmed(self)

    def cancel(self) -> defer.Deferred[None]:
        """Stop receiving; the channel is unsubscribed when this was its last callback."""
        self._cancelled = True
        self._queue.clear()
        return self._subscriber.remove(self)

    def deliver(self, channel: str, message: Any) -> None:
        """Call the callback now, or queue the message while an earlier call is running."""
        if self._cancelled:
            return
        if self._busy:
            self._queue.append((channel, message))
            if len(self._queue) > self._subscriber.max_pending:
                self._queue.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.warn(
                        "subscriber of {name!r} is falling behind: {dropped} messages "
                        "dropped so far (max_pending={limit})",
                        name=self.name,
                        dropped=self.dropped,
                        limit=self._subscriber.max_pending,
                    )
            return
        self._call(channel, message)

    def _call(self, channel: str, message: Any) -> None:
        try:
            result = self.callback(channel, message)
        except Exception:
            log.failure("pub/sub callback for {name!r} failed", name=self.name)
            return
        if inspect.isawaitable(result):
            self._busy = True
            d = defer.ensureDeferred(result) if not isinstance(result, defer.Deferred) else result
            d.addErrback(lambda f: log.failure("pub/sub callback for {n!r} failed", f, n=self.name))
            d.addBoth(self._next)

    def _next(self, _: Any) -> None:
        self._busy = False
        while self._queue and not self._busy and not self._cancelled:
            self._call(*self._queue.popleft())


class Subscriber:
    """The subscriber connection of a pool and its subscriptions (see the module docstring)."""

    def __init__(
        self,
        endpoint: Callable[[], Any],
        settings: ConnectionSettings,
        *,
        max_pending: int = 10000,
        lag_warning: float = 1.0,
        ping_interval: float = 1.0,
    ) -> None:
        self.settings = settings
        self.ping_interval = ping_interval
        self.target = settings.target
        self.max_pending = max_pending
        self.lag_warning = lag_warning
        self.lag = 0.0
        self.reconnects = 0
        self._endpoint = endpoint
        self._factory: _SubscriberFactory | None = None
        self._conn: Any = None
        self._subs: dict[tuple[bool, str], list[Subscription]] = {}
        self._confirmed: set[tuple[bool, str]] = set()
        self._waiting: dict[tuple[bool, str], list[tuple[defer.Deferred[Any], Subscription]]] = {}
        self._down: BaseException | None = None
        self._pinger: task.LoopingCall | None = None

    def _start(self) -> None:
        if self._factory is None:
            self._factory = _SubscriberFactory(self.settings, 1, self._failed, self._ready)
            self._factory.start(self._endpoint())

    async def stop(self) -> None:
        """Close the connection; subscriptions are forgotten."""
        factory, self._factory = self._factory, None
        self._lost(None)
        self._subs.clear()
        for waiters in self._waiting.values():
            for d, _ in waiters:
                if not d.called:
                    d.errback(RedisUnavailable(self.target))
        self._waiting.clear()
        if factory is not None:
            await factory.disconnect()

    def reset(self) -> None:
        """Close the connection; it is made again at once and resubscribes."""
        if self._conn is not None:
            self._conn.transport.loseConnection()

    # -- subscriptions ---------------------------------------------------------------

    def is_confirmed(self, pattern: bool, name: str) -> bool:
        return (pattern, name) in self._confirmed

    def subscribe(
        self, name: str, callback: Callback, pattern: bool = False
    ) -> defer.Deferred[Subscription]:
        """Add ``callback`` for channel (or pattern) ``name``; fires once Redis confirms it.

        When Redis cannot be reached it fails with :class:`RedisUnavailable`
        within ``connect_timeout``; the subscription is kept and starts when
        Redis is back (``subscription.when_active()``), unless cancelled.
        """
        sub = self.add(name, callback, pattern)
        d = self.when_confirmed(sub)
        if d.called:
            return d
        if self._conn is None and self._down is not None:
            return defer.fail(RedisUnavailable(self.target, self._down))
        return _with_timeout(d, self.settings.connect_timeout, self.target, lambda: self._down)

    def add(self, name: str, callback: Callback, pattern: bool = False) -> Subscription:
        """Register ``callback`` at once; Redis is asked as soon as there is a connection."""
        if not isinstance(name, str) or not name:
            raise TypeError("a channel or pattern is a non-empty str")
        self._start()
        sub = Subscription(self, name, pattern, callback)
        key = (pattern, name)
        first = key not in self._subs
        self._subs.setdefault(key, []).append(sub)
        if first and self._conn is not None:
            self._send_subscribe(self._conn, key)
        return sub

    def when_confirmed(self, sub: Subscription) -> defer.Deferred[Subscription]:
        key = (sub.pattern, sub.name)
        if key in self._confirmed:
            return defer.succeed(sub)
        d: defer.Deferred[Subscription] = defer.Deferred()
        self._waiting.setdefault(key, []).append((d, sub))
        return d

    def remove(self, sub: Subscription) -> defer.Deferred[None]:
        key = (sub.pattern, sub.name)
        subs = self._subs.get(key, [])
        if sub in subs:
            subs.remove(sub)
        if subs:
            return defer.succeed(None)
        self._subs.pop(key, None)
        self._confirmed.discard(key)
        conn = self._conn
        if conn is None:
            return defer.succeed(None)
        d = conn.execute_command("PUNSUBSCRIBE" if key[0] else "UNSUBSCRIBE", key[1])
        d.addErrback(_ignore_lost)
        return d.addCallback(lambda _: None)

    # -- the connection --------------------------------------------------------------

    def _ready(self) -> None:
        factory = self._factory
        if factory is None or not factory.pool:
            return
        conn = factory.pool[-1]
        if conn is self._conn:
            return
        if self._down is not None or self.reconnects:
            log.info("Redis subscriber connection to {target} is back", target=self.target)
        self._down = None
        self._conn = conn
        conn.on_message = self._dispatch
        conn.whenDisconnected().addCallback(self._lost)
        for key in list(self._subs):
            self._send_subscribe(conn, key)
        self._pinger = task.LoopingCall(self._ping, conn)
        self._pinger.start(self.ping_interval, now=False)

    def _lost(self, conn: Any) -> None:
        if conn is not None and conn is not self._conn:
            return
        if self._conn is not None:
            self.reconnects += 1
        self._conn = None
        self._confirmed.clear()
        if self._pinger is not None and self._pinger.running:
            self._pinger.stop()
        self._pinger = None

    def _failed(self, error: BaseException) -> None:
        if self._conn is None:
            self._down = error

    def _send_subscribe(self, conn: Any, key: tuple[bool, str]) -> None:
        pattern, name = key
        d = conn.execute_command("PSUBSCRIBE" if pattern else "SUBSCRIBE", name)

        def confirmed(_: Any) -> None:
            if conn is not self._conn or key not in self._subs:
                return
            self._confirmed.add(key)
            for waiter, sub in self._waiting.pop(key, ()):
                if not waiter.called:
                    waiter.callback(sub)

        d.addCallbacks(confirmed, _ignore_lost)

    def _dispatch(self, pattern: Any, channel: Any, message: Any) -> None:
        if isinstance(channel, bytes):
            channel = channel.decode("utf-8", "replace")
        if pattern is None:
            key = (False, channel)
        else:
            key = (
                True,
                pattern.decode("utf-8", "replace") if isinstance(pattern, bytes) else pattern,
            )
        for sub in self._subs.get(key, ()):
            sub.deliver(channel, message)

    def _ping(self, conn: Any) -> None:
        sent = reactor.seconds()

        def answered(_: Any) -> None:
            self.lag = reactor.seconds() - sent
            if self.lag > self.lag_warning:
                log.warn(
                    "Redis subscriber of {target} is {lag:.2f}s behind the server",
                    target=self.target,
                    lag=self.lag,
                )

        conn.execute_command("PING").addCallbacks(answered, _ignore_lost)


def _ignore_lost(failure: Failure) -> None:
    if not failure.check(RedisUnavailable):
        log.failure("Redis pub/sub command failed", failure)


def _with_timeout(
    d: defer.Deferred[Any], timeout: float, target: str, down: Callable[[], BaseException | None]
) -> defer.Deferred[Any]:
    """``d``, failing with RedisUnavailable after ``timeout`` seconds (``d`` still runs)."""
    out: defer.Deferred[Any] = defer.Deferred()

    def fire(result: Any) -> Any:
        if not out.called:
            if timer.active():
                timer.cancel()
            out.callback(result) if not isinstance(result, Failure) else out.errback(result)
        return None

    def expire() -> None:
        if not out.called:
            cause = down() or TimeoutError(f"not subscribed within {timeout}s")
            out.errback(RedisUnavailable(target, cause))

    timer = reactor.callLater(timeout, expire)
    d.addBoth(fire)
    return out
