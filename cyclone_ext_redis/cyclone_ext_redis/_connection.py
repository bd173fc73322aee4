"""Connections of a pool: what each does on connect, and the factory that keeps them.

:class:`ConnectionSettings` holds the handshake (``AUTH``, ``SELECT``,
``CLIENT SETNAME``, a ``ROLE`` check) and the limits; :class:`PoolFactory` is
txredisapi's ``RedisFactory`` (one Twisted ``ClientService`` per connection)
with that handshake, a quick reconnection policy, and a report of every
failed attempt to its owner, which is how pools fail fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import txredisapi
from twisted.internet import defer
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.python.failure import Failure
from zope.interface import implementer

from cyclone_ext_redis._protocol import PoolProtocol

__all__ = ["ConnectionSettings", "PoolFactory"]


class ConnectionSettings:
    """What every connection of a pool does on connect, and its limits."""

    def __init__(
        self,
        target: str,
        *,
        username: str | None = None,
        password: str | None = None,
        db: int | None = None,
        client_name: str | None = "cyclone",
        connect_timeout: float = 5.0,
        command_timeout: float | None = 10.0,
        max_reply_size: int = 64 * 1024 * 1024,
        encoding: str | None = "utf-8",
        convert_numbers: bool = False,
        reconnect_delay: float = 1.0,
        expect_role: str | None = None,
    ) -> None:
        if connect_timeout <= 0:
            raise ValueError("connect_timeout must be > 0")
        if command_timeout is not None and command_timeout <= 0:
            command_timeout = None
        if reconnect_delay < 0:
            raise ValueError("reconnect_delay must be >= 0")
        if client_name is not None and (" " in client_name or "\n" in client_name):
            raise ValueError("client_name cannot contain spaces or newlines")
        self.target = target
        self.username = username
        self.password = password
        self.db = db
        self.client_name = client_name or None
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.max_reply_size = max_reply_size
        self.encoding = encoding or None
        self.convert_numbers = convert_numbers
        self.reconnect_delay = reconnect_delay
        self.expect_role = expect_role

    def handshake_commands(self, name_suffix: str = "") -> list[tuple[Any, ...]]:
        """The commands each new connection runs before it is used."""
        commands: list[tuple[Any, ...]] = []
        if self.password is not None:
            if self.username is not None:
                commands.append(("AUTH", self.username, self.password))
            else:
                commands.append(("AUTH", self.password))
        if self.db:
            commands.append(("SELECT", self.db))
        if self.client_name:
            commands.append(("CLIENT", "SETNAME", self.client_name + name_suffix))
        return commands


@implementer(IStreamClientEndpoint)
class _WatchedEndpoint:
    """An endpoint whose failed connection attempts are reported to the factory."""

    def __init__(self, endpoint: Any, factory: PoolFactory) -> None:
        self.endpoint = endpoint
        self.factory = factory

    def connect(self, protocol_factory: Any) -> defer.Deferred[Any]:
        d = defer.maybeDeferred(self.endpoint.connect, protocol_factory)

        def failed(failure: Failure) -> Failure:
            if not failure.check(defer.CancelledError):
                self.factory.attempt_failed(failure.value)
            return failure

        return d.addErrback(failed)


class PoolFactory(txredisapi.RedisFactory):
    """txredisapi's factory, with a handshake, quick reconnection and failure reports."""

    protocol = PoolProtocol
    name_suffix = ""

    def __init__(
        self,
        settings: ConnectionSettings,
        pool_size: int,
        on_failure: Callable[[BaseException], None],
        on_ready: Callable[[], None],
    ) -> None:
        super().__init__(
            settings.target,
            None,
            pool_size,
            isLazy=True,
            charset=settings.encoding,
            replyTimeout=settings.command_timeout,
            convertNumbers=settings.convert_numbers,
        )
        self.settings = settings
        self.target = settings.target
        self._on_failure = on_failure
        self._on_ready = on_ready
        self._commands = settings.handshake_commands(self.name_suffix)
        # txredisapi's "pool complete" Deferred: failures are reported through
        # attempt_failed instead, so nobody waits on it.
        self.deferred.addErrback(lambda _: None)

    def start(self, endpoint: Any) -> None:
        """Open and keep ``pool_size`` connections to ``endpoint``."""
        self.startConnecting(_WatchedEndpoint(endpoint, self))

    def retryDelay(self, attempt: int) -> float:
        """Reconnect at once after a loss, then 0.05 s doubling up to ``reconnect_delay``."""
        if attempt <= 1:
            return 0.0
        return min(0.05 * 2 ** min(attempt - 2, 30), self.settings.reconnect_delay)

    def buildProtocol(self, addr: Any) -> Any:
        protocol = super().buildProtocol(addr)
        protocol.max_reply_size = self.settings.max_reply_size
        return protocol

    async def handshake(self, protocol: Any) -> None:
        """Run the settings' commands on a new connection; raises to reject it."""
        for command in self._commands:
            reply = await protocol.execute_command(*command)
            if isinstance(reply, Exception):
                raise reply
        if self.settings.expect_role is not None:
            role = await protocol.execute_command("ROLE")
            if not role or role[0] != self.settings.expect_role:
                raise txredisapi.ConnectionError(
                    f"the server is a {role[0] if role else 'server'}, "
                    f"not a {self.settings.expect_role}"
                )

    def attempt_failed(self, error: BaseException) -> None:
        """A connection attempt, or the handshake of a new connection, failed."""
        if not self.disconnectCalled:
            self._on_failure(error)

    def addConnection(self, conn: Any) -> None:
        super().addConnection(conn)
        if conn.connected and not self.disconnectCalled:
            self._on_ready()
