"""The one error the extension adds: the database cannot be reached.

It is a :class:`cyclone.web.HTTPError` with status 503 and the reason phrase
"Database Unavailable", so a handler that lets it escape answers
"503 Database Unavailable" (the client may try again later) instead of a 500;
the cause goes to the log, never to the client.
"""

from __future__ import annotations

from cyclone.web import HTTPError

__all__ = ["DatabaseUnavailable"]


class DatabaseUnavailable(HTTPError):
    """The database could not be reached, or the connection was lost during an operation.

    ``database`` names the target without its password; ``cause`` is the
    driver's exception (or ``None``). ``maybe_ran`` is ``False`` when no
    connection could be made (refused, timed out, rejected, stopped): nothing
    was sent, so retrying later is always safe. It is ``True`` when the
    connection was lost while a statement, an interaction or its commit was
    running: the server may have executed it, and it was not replayed.
    """

    def __init__(
        self, database: str, cause: BaseException | None = None, *, maybe_ran: bool = False
    ) -> None:
        detail = f"{type(cause).__name__}: {cause}".strip() if cause is not None else "stopped"
        if maybe_ran:
            detail = "connection lost during the operation, which was not replayed; " + detail
        super().__init__(
            503, "database unavailable: %s (%s)", database, detail, reason="Database Unavailable"
        )
        self.database = database
        self.cause = cause
        self.maybe_ran = maybe_ran
