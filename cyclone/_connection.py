"""The written contracts of the wire layer (a leaf: it imports nothing of the wire).

:class:`RequestConnection` is what a request, a handler or a WebSocket may ask of
the connection a request came in on (``request.connection``);
:class:`cyclone.httpserver.HTTPConnection` implements it. :class:`ConnectionOwner`
is what a connection asks of the server that accepted it;
:class:`cyclone.httpserver.HTTPServer` implements it. Both are structural
(``typing.Protocol``), so the modules that use them need not import the modules
that implement them, and a test double only needs these members.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet.defer import Deferred

from cyclone.httputil import HTTPLimits

__all__ = ["ConnectionOwner", "RequestConnection"]


class RequestConnection(Protocol):
    """What a request and its handler may ask of their connection.

    ``request`` arguments are the :class:`cyclone._request.HTTPRequest` being
    answered (typed ``Any`` here so this module stays below the request).
    """

    limits: HTTPLimits

    @property
    def closed(self) -> bool:
        """True once nothing more can be written as HTTP (client gone, or detached)."""
        ...

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` if the client goes away before the active response ends."""
        ...

    def send_response(
        self,
        request: Any,
        code: int,
        reason: str,
        headers: dict[str, str],
        extra_headers: list[tuple[str, str]] | None,
        body: bytes,
        finished: bool,
    ) -> None:
        """Write the status line, headers and the first body bytes of ``request``'s response."""
        ...

    def send_body(self, request: Any, chunk: bytes, finished: bool) -> None:
        """Write more of the response body; ``finished`` ends the response."""
        ...

    def wait_for_drain(self) -> Deferred[None]:
        """A Deferred that fires when the client has read enough of what was written."""
        ...

    def detach(self, protocol: Any = None) -> tuple[Any, bytes]:
        """Hand the transport over (e.g. to a WebSocket protocol) with the unread bytes."""
        ...

    def close(self, grace: float | None = None) -> None:
        """Close after what was written is sent."""
        ...


class ConnectionOwner(Protocol):
    """What a connection asks of the server that accepted it."""

    limits: HTTPLimits
    xheaders: bool

    def request_callback(self, request: Any) -> Any:
        """Answer ``request`` (complete, in order) through its connection."""
        ...

    def _connection_made(self, conn: Any) -> None: ...

    def _connection_lost(self, conn: Any) -> None: ...
