"""The broadcast hub: publish to named channels, deliver to every subscriber.

Strategy: :class:`Hub` keeps the local subscribers of each channel and delivers
to them; how a published message reaches the hubs of every process is the
backend's business (the contract is :class:`~cyclone_ext_realtime._backend.HubBackend`).
The in-process backend (the default) hands a message straight to its own
subscribers; the Redis backend (``_redis_hub``) publishes it to Redis and
delivers what Redis sends back, so each process holds one Redis subscription
per channel, whatever the number of local subscribers. Messages travel as JSON
in both backends, so a message that works in one works in the other, and every
subscriber receives a decoded copy, never the publisher's object.

Delivery is never synchronous: subscribers run on a later turn of the reactor
than ``publish()``, so a subscriber that publishes again cannot recurse.

:class:`HubMixin` gives handlers ``self.subscribe(channel)``: subscriptions made
through it are cancelled when the connection closes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from twisted.internet import defer
from twisted.logger import Logger

from cyclone_ext_realtime._backend import HubBackend, MemoryBackend
from cyclone_ext_realtime.websocket import WebSocketClosedError

__all__ = [
    "Hub",
    "HubMixin",
    "Subscription",
    "default_hub",
    "memory_hub_service",
    "redis_hub_service",
]

log = Logger(namespace="cyclone.hub")

Callback = Callable[[Any], Any]


class Subscription:
    """One callback subscribed to one channel; :meth:`cancel` ends it."""

    def __init__(self, hub: Hub, channel: str, callback: Callback) -> None:
        self.hub = hub
        self.channel = channel
        self.callback = callback
        self.active = True

    def cancel(self) -> None:
        """Stop receiving messages (idempotent)."""
        if self.active:
            self.active = False
            self.hub._remove(self)

    def ready(self) -> defer.Deferred[None]:
        """A Deferred that fires once messages published anywhere reach this subscription.

        Immediate for the in-process hub; the Redis hub fires it when Redis has
        confirmed the channel's subscription (again after a reconnection).
        """
        return self.hub.backend.when_subscribed(self.channel)

    def __repr__(self) -> str:
        state = "active" if self.active else "cancelled"
        return f"<Subscription {self.channel!r} {state}>"


class Hub:
    """In-process publish/subscribe; :meth:`from_url` also builds the Redis-backed hub.

    A hub is a service (``start()``/``stop()``), so it can be given as
    ``services={"hub": "memory+hub://"}`` or ``"redis+hub://127.0.0.1:6379/0"``,
    or passed as a setting: ``Application(handlers, hub=Hub())``.

    ``backend`` (a :class:`~cyclone_ext_realtime._backend.HubBackend`) carries
    messages between processes; the default is in-process only.
    """

    def __init__(self, backend: HubBackend | None = None) -> None:
        self._subscribers: dict[str, list[Subscription]] = {}
        self.backend: HubBackend = MemoryBackend() if backend is None else backend
        self.backend.attach(self)

    def __repr__(self) -> str:
        if isinstance(self.backend, MemoryBackend):
            return super().__repr__()
        return f"<Hub {self.backend!r}>"

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Hub:
        """``memory://`` for this process, ``redis://[:password@]host[:port][/db]`` for many.

        The ``+hub`` forms used with ``services=`` (``memory+hub://``,
        ``redis+hub://``) are accepted too.
        """
        scheme = urlsplit(url).scheme.lower().removesuffix("+hub")
        if scheme == "memory":
            if options:
                raise TypeError(f"the memory hub takes no options: {', '.join(options)}")
            return cls()
        if scheme == "redis":
            from cyclone_ext_realtime._redis_hub import RedisBackend

            return cls(RedisBackend(url, **options))
        raise ValueError(f"unknown hub URL scheme {scheme!r}: use memory:// or redis://")

    # -- the public API -----------------------------------------------------------------

    def subscribe(self, channel: str, callback: Callback) -> Subscription:
        """Call ``callback(message)`` for each message published to ``channel``."""
        if not isinstance(channel, str) or not channel:
            raise ValueError(f"a channel name must be a non-empty str, not {channel!r}")
        subscription = Subscription(self, channel, callback)
        subscribers = self._subscribers.get(channel)
        if subscribers is None:
            self._subscribers[channel] = [subscription]
            self.backend.channel_added(channel)
        else:
            subscribers.append(subscription)
        return subscription

    def publish(self, channel: str, message: Any) -> defer.Deferred[int]:
        """Send a JSON-serializable ``message`` to every subscriber of ``channel``.

        Fires with the number of receivers the backend reports: local
        subscriptions for the in-process hub, subscribed processes for Redis.
        A value that JSON cannot encode raises ``TypeError`` here.
        """
        payload = json.dumps(message, separators=(",", ":"))
        return self.backend.send(channel, payload)

    def subscriber_count(self, channel: str) -> int:
        """How many subscriptions of this process listen on ``channel``."""
        return len(self._subscribers.get(channel, ()))

    def channels(self) -> list[str]:
        """The channels this process has subscribers on."""
        return list(self._subscribers)

    def start(self) -> defer.Deferred[None] | None:
        """Start the backend (nothing to do in-process)."""
        return self.backend.start()

    def stop(self) -> defer.Deferred[None] | None:
        """Stop the backend (nothing to do in-process)."""
        return self.backend.stop()

    # -- what the backend calls ----------------------------------------------------------

    def deliver(self, channel: str, payload: str | bytes) -> int:
        """Hand ``payload`` to the local subscribers of ``channel``; how many there were."""
        subscribers = self._subscribers.get(channel)
        if not subscribers:
            return 0
        try:
            message = json.loads(payload)
        except ValueError:
            log.error("dropped a message on {channel!r} that is not JSON", channel=channel)
            return 0
        count = 0
        for subscription in list(subscribers):
            if not subscription.active:
                continue
            count += 1
            try:
                result = subscription.callback(message)
            except Exception:
                log.failure("hub subscriber on {channel!r} failed", channel=channel)
                continue
            if isinstance(result, defer.Deferred):
                result.addErrback(
                    lambda f: log.failure(
                        "hub subscriber on {channel!r} failed", f, channel=channel
                    )
                )
        return count

    def _remove(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.channel)
        if subscribers is None or subscription not in subscribers:
            return
        subscribers.remove(subscription)
        if not subscribers:
            del self._subscribers[subscription.channel]
            self.backend.channel_removed(subscription.channel)


def memory_hub_service(url: str) -> Hub:
    """The ``memory+hub://`` factory of the ``cyclone.storage`` group."""
    return Hub.from_url(url)


memory_hub_service.options = {}  # type: ignore[attr-defined]


def redis_hub_service(url: str, connect_timeout: float = 5.0) -> Hub:
    """The ``redis+hub://`` factory of the ``cyclone.storage`` group."""
    return Hub.from_url(url, connect_timeout=connect_timeout)


redis_hub_service.options = {"connect_timeout": float}  # type: ignore[attr-defined]

_default: Hub | None = None


def default_hub() -> Hub:
    """The process-wide in-process hub handlers use when no ``hub`` setting is given."""
    global _default
    if _default is None:
        _default = Hub()
    return _default


class HubMixin:
    """Adds hub subscriptions to a handler; they are cancelled when the connection ends.

    The hub is the ``hub`` setting (a :class:`Hub`, e.g. from ``services=``),
    else :func:`default_hub`. Without a callback, :meth:`subscribe` forwards
    each message with :meth:`on_hub_message`, which calls ``write_message`` (a
    WebSocketHandler); ``SSEHandler`` sends it as an event instead. Put the
    mixin first: ``class Room(HubMixin, WebSocketHandler)``. Subscriptions end
    in ``on_close`` (a WebSocket; an override should call ``super().on_close()``,
    else they end at the next message sent to the closed socket) or
    ``on_connection_close`` (a plain long-lived request); SSE streams end theirs
    themselves.
    """

    hub_setting = "hub"

    @property
    def hub(self) -> Hub:
        """The hub this handler publishes to and subscribes on."""
        hub = self.settings.get(self.hub_setting)  # type: ignore[attr-defined]
        if hub is None:
            return default_hub()
        if not isinstance(hub, Hub):
            raise TypeError(
                f"the {self.hub_setting!r} setting must be a Hub, not {type(hub).__name__}: "
                f"use services={{{self.hub_setting!r}: 'redis+hub://...'}} for a URL"
            )
        return hub

    def subscribe(self, channel: str, callback: Callback | None = None) -> Subscription:
        """Subscribe this connection to ``channel`` until it closes."""
        subscriptions = self.__dict__.setdefault("_hub_subscriptions", [])
        subscription = self.hub.subscribe(channel, callback or self._forward_hub_message)
        subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, channel: str | None = None) -> None:
        """Cancel this connection's subscriptions to ``channel`` (all of them when None)."""
        kept = []
        for subscription in self.__dict__.get("_hub_subscriptions", ()):
            if channel is None or subscription.channel == channel:
                subscription.cancel()
            else:
                kept.append(subscription)
        self.__dict__["_hub_subscriptions"] = kept

    def publish(self, channel: str, message: Any) -> defer.Deferred[int]:
        """Publish ``message`` to ``channel`` on this handler's hub."""
        return self.hub.publish(channel, message)

    def on_hub_message(self, message: Any) -> Any:
        """Forward a message of a callback-less subscription (to ``write_message``)."""
        return self.write_message(message)  # type: ignore[attr-defined]

    def on_close(self) -> None:
        """A WebSocket closed: cancel its subscriptions (call super() when overriding)."""
        self.unsubscribe()
        super().on_close()  # type: ignore[misc]

    def on_connection_close(self) -> None:
        self.unsubscribe()
        super().on_connection_close()  # type: ignore[misc]

    def _forward_hub_message(self, message: Any) -> Any:
        try:
            return self.on_hub_message(message)
        except WebSocketClosedError:
            # Closed, and an on_close override did not call ours: clean up now.
            self.unsubscribe()
            return None
