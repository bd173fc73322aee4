"""Sentinel: find the current master of a service through Redis Sentinel, follow failovers.

Strategy: a :class:`SentinelEndpoint` is a client endpoint whose every
``connect()`` first asks the sentinels, in turn, for
``SENTINEL GET-MASTER-ADDR-BY-NAME <service>`` (one short connection each,
bounded by ``connect_timeout``) and then connects to the address it got. The
pool's handshake checks ``ROLE`` on the new connection and rejects a server
that is not a master, so a stale answer is retried with a backoff.

After a failover the old master is turned into a replica; Sentinel then
closes its client connections, and a write that still reaches it fails with
``READONLY``, which closes that connection too. Either way the pool
reconnects through this endpoint and lands on the new master. To shorten the
time spent on a demoted master, :class:`SwitchWatcher` subscribes to the
sentinels' ``+switch-master`` event and closes the pool's connections as soon
as it is announced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import txredisapi
from twisted.internet import defer, reactor
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.logger import Logger
from zope.interface import implementer

from cyclone_ext_redis._errors import RedisUnavailable

__all__ = ["MasterNotFound", "SentinelEndpoint", "SwitchWatcher"]

log = Logger(namespace="cyclone.redis")


class MasterNotFound(txredisapi.ConnectionError):
    """No sentinel could name the master of the service."""


@implementer(IStreamClientEndpoint)
class SentinelEndpoint:
    """Connects to the master of ``service`` as named by one of ``sentinels``."""

    def __init__(
        self,
        sentinels: Sequence[tuple[str, int]],
        service: str,
        *,
        timeout: float = 5.0,
    ) -> None:
        self.sentinels = list(sentinels)
        self.service = service
        self.timeout = timeout
        self.master: tuple[str, int] | None = None

    async def master_address(self) -> tuple[str, int]:
        """Ask each sentinel in turn; the first answer wins."""
        errors = []
        for host, port in self.sentinels:
            try:
                reply = await _ask(
                    host, port, self.timeout, "SENTINEL", "get-master-addr-by-name", self.service
                )
            except Exception as exc:
                errors.append(f"{host}:{port}: {type(exc).__name__}: {exc}")
                continue
            if isinstance(reply, list) and len(reply) == 2:
                return str(reply[0]), int(reply[1])
            errors.append(f"{host}:{port}: does not know {self.service!r}")
        raise MasterNotFound(f"no master for {self.service!r}: {'; '.join(errors)}")

    def connect(self, protocol_factory: Any) -> defer.Deferred[Any]:
        async def connect() -> Any:
            host, port = self.master = await self.master_address()
            endpoint = HostnameEndpoint(reactor, host, port, timeout=self.timeout)
            return await endpoint.connect(protocol_factory)

        return defer.ensureDeferred(connect())


async def _ask(host: str, port: int, timeout: float, *command: Any) -> Any:
    """One command on a short connection to ``host:port``, all of it within ``timeout``."""
    protocol = txredisapi.RedisProtocol(charset="utf-8", replyTimeout=timeout)
    endpoint = HostnameEndpoint(reactor, host, port, timeout=timeout)
    await connectProtocol(endpoint, protocol)
    try:
        return await protocol.execute_command(*command)
    finally:
        protocol.transport.loseConnection()


class SwitchWatcher:
    """Calls ``on_switch(service)`` when a sentinel announces a new master for ``service``."""

    def __init__(
        self,
        pool_factory: Callable[[tuple[str, int]], Any],
        sentinels: Sequence[tuple[str, int]],
        service: str,
        on_switch: Callable[[], None],
    ) -> None:
        self.service = service
        self.on_switch = on_switch
        self._pools = [pool_factory(address) for address in sentinels]
        self._subscriptions: list[Any] = []

    def start(self) -> None:
        for pool in self._pools:
            d = pool.subscribe("+switch-master", self._message)
            d.addCallback(self._subscriptions.append)
            d.addErrback(lambda f: f.trap(RedisUnavailable))  # kept: it starts when it can

    def _message(self, channel: str, message: Any) -> None:
        text = message.decode() if isinstance(message, bytes) else str(message)
        if text.split(" ", 1)[0] == self.service:
            log.info("Sentinel: new master for {service}: {text}", service=self.service, text=text)
            self.on_switch()

    def stop(self) -> defer.Deferred[Any]:
        return defer.gatherResults([p.stop() for p in self._pools], consumeErrors=True)
