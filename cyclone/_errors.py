"""Exceptions a handler raises to end a request early."""

from __future__ import annotations

from typing import Any

from cyclone.httputil import responses


class HTTPError(Exception):
    """End the request with ``status_code``.

    ``log_message`` goes to the log (formatted with ``args``) and never to the
    client; ``reason`` replaces the standard reason phrase in the status line and
    the default error page.
    """

    def __init__(
        self,
        status_code: int = 500,
        log_message: str | None = None,
        *args: Any,
        reason: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.status_code = status_code
        self.log_message = log_message
        self.args = args
        self.reason = reason or kwargs.get("reason")
        if log_message and not args:
            self.log_message = log_message.replace("%", "%%")

    def __str__(self) -> str:
        message = (
            f"HTTP {self.status_code}: {self.reason or responses.get(self.status_code, 'Unknown')}"
        )
        if self.log_message:
            return message + " (" + (self.log_message % self.args) + ")"
        return message


class Finish(Exception):
    """End the request without an error: ``raise Finish()`` (or ``Finish(chunk)``).

    The response so far is sent; ``Finish("text")`` writes ``text`` first.
    """


class MissingArgumentError(HTTPError):
    """A required argument is absent: 400 naming the argument."""

    def __init__(self, arg_name: str) -> None:
        super().__init__(400, f"Missing argument {arg_name}")
        self.arg_name = arg_name
        self.reason = f"Missing argument {arg_name}"


class HTTPAuthenticationRequired(HTTPError):
    """401 with a ``WWW-Authenticate`` challenge (cyclone 1.x).

    ``challenges`` (a list of header values) replaces the single challenge built
    from ``auth_type`` and ``realm``; each becomes its own header.
    """

    def __init__(
        self,
        log_message: str | None = None,
        *args: Any,
        auth_type: str = "Basic",
        realm: str = "Restricted Access",
        challenges: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(401, log_message, *args, **kwargs)
        self.auth_type = auth_type
        self.realm = realm
        self._challenges = challenges

    def challenges(self) -> list[str]:
        """The ``WWW-Authenticate`` header values of the 401."""
        if self._challenges is not None:
            return list(self._challenges)
        realm = self.realm.replace("\\", "\\\\").replace('"', '\\"')
        return [f'{self.auth_type} realm="{realm}"']
