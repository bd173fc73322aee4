"""The hub's backend contract, below both :mod:`hub` and the Redis backend.

A :class:`~cyclone_ext_realtime.hub.Hub` keeps the local subscribers of each
channel; its backend decides how a published message reaches the hubs of every
process. The hub calls the backend's hooks; the backend calls back the hub
through the :class:`Deliveries` it was attached to. Neither side touches the
other's private members, and this module imports neither.

- :class:`HubBackend`: what a backend implements.
- :class:`Deliveries`: what the hub offers its backend.
- :class:`MemoryBackend`: the in-process backend, the hub's default.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from twisted.internet import defer, reactor

__all__ = ["Deliveries", "HubBackend", "MemoryBackend"]


class Deliveries(Protocol):
    """The side of the hub a backend sees."""

    def deliver(self, channel: str, payload: str | bytes) -> int:
        """Hand JSON ``payload`` to the local subscribers of ``channel``; how many there were."""
        ...

    def channels(self) -> list[str]:
        """The channels this process has subscribers on."""
        ...

    def subscriber_count(self, channel: str) -> int:
        """How many subscriptions of this process listen on ``channel``."""
        ...


@runtime_checkable
class HubBackend(Protocol):
    """What a hub backend implements; the hub calls these, and only these.

    - ``attach(hub)``: called once, when the hub is made with this backend.
    - ``send(channel, payload)``: publish the JSON text ``payload``; fires with
      the number of receivers the backend reports. The backend must call
      ``hub.deliver`` on a later reactor turn, never synchronously.
    - ``channel_added(channel)`` / ``channel_removed(channel)``: the first local
      subscriber of ``channel`` arrived / the last one left.
    - ``when_subscribed(channel)``: fires once messages published anywhere
      reach this process's subscribers of ``channel``.
    - ``start()`` / ``stop()``: the service's life; may return a Deferred.
    """

    def attach(self, hub: Deliveries) -> None: ...

    def send(self, channel: str, payload: str) -> defer.Deferred[int]: ...

    def channel_added(self, channel: str) -> None: ...

    def channel_removed(self, channel: str) -> None: ...

    def when_subscribed(self, channel: str) -> defer.Deferred[None]: ...

    def start(self) -> Any: ...

    def stop(self) -> Any: ...


class MemoryBackend:
    """In-process delivery: a published message goes to this process's subscribers only."""

    hub: Deliveries | None = None

    def attach(self, hub: Deliveries) -> None:
        self.hub = hub

    def send(self, channel: str, payload: str) -> defer.Deferred[int]:
        hub = self.hub
        assert hub is not None, "the backend is not attached to a hub"
        done: defer.Deferred[int] = defer.Deferred()

        def deliver() -> None:
            done.callback(hub.deliver(channel, payload))

        reactor.callLater(0, deliver)  # type: ignore[attr-defined]
        return done

    def channel_added(self, channel: str) -> None:
        """Nothing to do in-process."""

    def channel_removed(self, channel: str) -> None:
        """Nothing to do in-process."""

    def when_subscribed(self, channel: str) -> defer.Deferred[None]:
        return defer.succeed(None)

    def start(self) -> None:
        """Nothing to start in-process."""
        return None

    def stop(self) -> None:
        """Nothing to stop in-process."""
        return None
