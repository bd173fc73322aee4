"""The one error the extension adds: the database cannot be reached.

It is a :class:`cyclone.web.HTTPError` with status 503, so a handler that lets
it escape answers "503 Service Unavailable" (the client may try again later)
instead of a 500; the cause goes to the log, never to the client.
"""

from __future__ import annotations

from cyclone.web import HTTPError

__all__ = ["DatabaseUnavailable"]


class DatabaseUnavailable(HTTPError):
    """No connection to the database could be made (refused, timed out, rejected, stopped).

    ``database`` names the target without its password; ``cause`` is the
    driver's exception (or ``None``). Raised before any statement was sent, so
    retrying the operation later is always safe.
    """

    def __init__(self, database: str, cause: BaseException | None = None) -> None:
        detail = f"{type(cause).__name__}: {cause}".strip() if cause is not None else "stopped"
        super().__init__(503, "database unavailable: %s (%s)", database, detail)
        self.database = database
        self.cause = cause
