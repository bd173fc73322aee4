"""The HTTP/1.1 server: the factory that owns connections.

Strategy: :class:`HTTPServer` is a Twisted ``ServerFactory`` that builds one
:class:`~cyclone._http1.HTTPConnection` per client (the wire protocol lives in
``cyclone._http1``, a Twisted shell around the sans-IO ``cyclone._h1_reader``
and ``cyclone._h1_framing``) and hands each complete request to ``request_callback``.
The server keeps the set of its connections, which gives it two things cheaply:
timeouts without a timer per request (each connection records a deadline and
one sweeper checks the deadlines a few times a second), and graceful shutdown
(idle connections close, in-flight requests finish).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer, reactor
from twisted.internet.interfaces import IListeningPort, IProtocolNegotiationFactory
from twisted.internet.protocol import ServerFactory
from twisted.internet.task import LoopingCall
from zope.interface import implementer

from cyclone._http1 import HTTPConnection, HTTPOutputError
from cyclone._request import HTTPRequest
from cyclone.httputil import HTTPLimits

__all__ = ["HTTPConnection", "HTTPOutputError", "HTTPRequest", "HTTPServer"]

_seconds = reactor.seconds  # type: ignore[attr-defined]


@implementer(IProtocolNegotiationFactory)
class HTTPServer(ServerFactory):
    """A Twisted server factory that hands each complete request to ``request_callback``.

    ``cyclone.web.Application`` is an ``HTTPServer`` whose callback routes to
    handlers; any callable taking an :class:`HTTPRequest` works too. Limits come
    from :class:`~cyclone.httputil.HTTPLimits` (or the keyword arguments of the
    same names).
    """

    protocol = HTTPConnection  # type: ignore[assignment]

    def __init__(
        self,
        request_callback: Callable[[HTTPRequest], Any] | None = None,
        xheaders: bool = False,
        limits: HTTPLimits | None = None,
        **limit_settings: Any,
    ) -> None:
        if request_callback is not None:
            self.request_callback = request_callback  # type: ignore[method-assign]
        self.xheaders = xheaders
        self.limits = limits or HTTPLimits.from_settings(limit_settings)
        self.connections: set[HTTPConnection] = set()
        self._sweeper: LoopingCall | None = None
        self._stopping = False
        self._drained: list[defer.Deferred[None]] = []
        self._shutdown_trigger: Any = None

    def request_callback(self, request: HTTPRequest) -> None:
        raise NotImplementedError

    def acceptableProtocols(self) -> list[bytes]:
        """The ALPN protocols this server speaks over TLS (browsers and curl offer ALPN)."""
        return [b"http/1.1"]

    def buildProtocol(self, addr: Any) -> HTTPConnection:
        conn = self.protocol(self)
        conn.factory = self
        return conn

    def _connection_made(self, conn: HTTPConnection) -> None:
        self.connections.add(conn)
        if self._stopping:
            conn.close_when_idle()
        if self._sweeper is None:
            self._sweeper = LoopingCall(self._sweep)
            self._sweeper.start(self._sweep_interval(), now=False)

    def _connection_lost(self, conn: HTTPConnection) -> None:
        self.connections.discard(conn)
        if not self.connections:
            # The sweeper stops itself on its next tick if no connection came
            # meanwhile: a server answering one connection at a time does not
            # make a LoopingCall per connection.
            waiters, self._drained = self._drained, []
            for waiter in waiters:
                waiter.callback(None)

    def _sweep_interval(self) -> float:
        limits = self.limits
        timeouts = [
            t
            for t in (limits.idle_connection_timeout, limits.header_timeout, limits.body_timeout)
            if t
        ]
        return min(1.0, max(0.05, min(timeouts, default=4.0) / 4))

    def _sweep(self) -> None:
        if not self.connections:
            if self._sweeper is not None and self._sweeper.running:
                self._sweeper.stop()
            self._sweeper = None
            return
        now = _seconds()
        for conn in list(self.connections):
            deadline = conn.deadline
            if deadline is not None and deadline <= now:
                conn.timed_out()

    # -- graceful shutdown -------------------------------------------------------------

    def startFactory(self) -> None:
        self._stopping = False
        if self._shutdown_trigger is None:
            self._shutdown_trigger = reactor.addSystemEventTrigger(
                "before", "shutdown", self._drain_at_shutdown
            )

    def stopFactory(self) -> None:
        """The last listening port closed: close idle connections, finish the rest."""
        self._stopping = True
        for conn in list(self.connections):
            conn.close_when_idle()

    def drained(self, timeout: float | None = None) -> defer.Deferred[None]:
        """A Deferred that fires once every connection has closed.

        With ``timeout``, connections still open then are aborted.
        """
        if not self.connections:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._drained.append(waiter)
        if timeout is not None:
            call = reactor.callLater(timeout, self._abort_all)
            waiter.addBoth(lambda r: (call.active() and call.cancel(), r)[1])
        return waiter

    def _abort_all(self) -> None:
        for conn in list(self.connections):
            conn.transport.abortConnection()

    def listening_ports(self) -> list[IListeningPort]:
        """The reactor's listening ports that serve this factory (directly or under TLS)."""
        found = []
        for reader in reactor.getReaders():  # type: ignore[attr-defined]
            if not IListeningPort.providedBy(reader):
                continue
            factory = getattr(reader, "factory", None)
            if factory is self or getattr(factory, "wrappedFactory", None) is self:
                found.append(reader)
        return found

    def _drain_at_shutdown(self) -> defer.Deferred[None]:
        """Stop accepting first (new clients are refused and retry elsewhere), then drain."""
        self._shutdown_trigger = None
        ports = self.listening_ports()
        # The last port to close stops the factory (idle connections close then).
        stopping = [defer.maybeDeferred(port.stopListening) for port in ports]
        if not ports:
            self.stopFactory()
        timeout = getattr(self, "shutdown_timeout", 10.0)
        d = defer.DeferredList(stopping, consumeErrors=True)
        d.addCallback(lambda _: self.drained(timeout=timeout))
        return d
