"""The errors the extension adds: Redis cannot be reached, and bad input or replies.

:class:`RedisUnavailable` is a :class:`cyclone.web.HTTPError` with status 503,
so a handler that lets it escape answers "503 Redis Unavailable" (the client
may try again later) instead of a 500; the cause goes to the log, never to the
client. The others are txredisapi errors, so code that catches
``txredisapi.RedisError`` (or ``ResponseError``) keeps catching them.
"""

from __future__ import annotations

import txredisapi

from cyclone.web import HTTPError

__all__ = ["InvalidArgument", "RedisUnavailable", "ReplyTooLarge"]


class RedisUnavailable(HTTPError):
    """Redis could not be reached, or the connection was lost or stalled during a command.

    ``target`` names the server without its password; ``cause`` is the
    underlying exception (or ``None``). ``maybe_ran`` is ``False`` when the
    command was never sent (no connection could be made, the pool is stopped):
    retrying later is always safe. It is ``True`` when the connection was lost
    or ``command_timeout`` passed after the command was sent: the server may
    have executed it, and it was not replayed.
    """

    def __init__(
        self, target: str, cause: BaseException | None = None, *, maybe_ran: bool = False
    ) -> None:
        detail = f"{type(cause).__name__}: {cause}".strip() if cause is not None else "stopped"
        if maybe_ran:
            detail = "connection lost or stalled during the command, which was not replayed; " + (
                detail
            )
        super().__init__(
            503, "redis unavailable: %s (%s)", target, detail, reason="Redis Unavailable"
        )
        self.target = target
        self.cause = cause
        self.maybe_ran = maybe_ran


class ReplyTooLarge(txredisapi.ResponseError):
    """A reply string longer than the pool's ``max_reply_size``; it was read and thrown away."""


class InvalidArgument(txredisapi.InvalidData, TypeError):
    """A command argument that is not ``str``, ``bytes``, ``int`` or ``float``; nothing was sent."""
