"""The errors a mailer raises: one class per way a delivery can fail.

Every delivery error is a :class:`MailError` carrying the server's reply code
and text (``code`` is ``-1`` when the server sent none) and the server it came
from. Errors that mean "the mail service is unavailable right now" (no server
reachable, connection lost, timeout, a 4xx reply) are also
:class:`MailUnavailable`, an ``HTTPError(503)``: a handler that lets one escape
answers "503 Mail Unavailable" instead of a 500, and the detail goes to the log.
Building a message with a bad address or header is a ``ValueError``
(:class:`InvalidAddress`, :class:`HeaderInjection`), raised before anything is sent.
"""

from __future__ import annotations

from typing import NamedTuple

from cyclone.web import HTTPError

__all__ = [
    "HeaderInjection",
    "InvalidAddress",
    "MailError",
    "MailUnavailable",
    "Refusal",
    "SMTPAuthError",
    "SMTPConnectError",
    "SMTPConnectionLost",
    "SMTPPermanentError",
    "SMTPProtocolError",
    "SMTPRecipientsRefused",
    "SMTPTLSError",
    "SMTPTemporaryError",
    "SMTPTimeout",
]


class InvalidAddress(ValueError):
    """An e-mail address that does not parse; the message names it."""


class HeaderInjection(ValueError):
    """A header name or value (or an address) with a CR or LF in it."""


class Refusal(NamedTuple):
    """The server's reply refusing one recipient or command."""

    code: int
    text: str


class MailError(Exception):
    """A delivery failed; ``code`` and ``text`` are the server's reply, ``server`` its address."""

    def __init__(self, message: str, code: int = -1, text: str = "", server: str = "") -> None:
        self.code = code
        self.text = text
        self.server = server
        detail = f"{code} {text}".strip() if code >= 0 else text
        where = f" ({server})" if server else ""
        self.message = f"{message}{where}: {detail}" if detail else f"{message}{where}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class MailUnavailable(MailError, HTTPError):
    """The mail service cannot take the message now; trying again later may work.

    Also an ``HTTPError(503)`` with the reason "Mail Unavailable".
    """

    def __init__(self, message: str, code: int = -1, text: str = "", server: str = "") -> None:
        MailError.__init__(self, message, code, text, server)
        HTTPError.__init__(self, 503, "%s", self.message, reason="Mail Unavailable")

    def __str__(self) -> str:
        return self.message


class SMTPConnectError(MailUnavailable):
    """No server could be reached, or every one refused service in its greeting."""


class SMTPConnectionLost(MailUnavailable):
    """The connection closed before the server accepted the message."""


class SMTPTimeout(MailUnavailable):
    """The server did not answer within the ``timeout``; the connection was closed."""


class SMTPTemporaryError(MailUnavailable):
    """The server answered with a 4xx code (try again later)."""


class SMTPPermanentError(MailError):
    """The server answered with a 5xx code to the sender or to the message."""


class SMTPProtocolError(MailError):
    """The server's replies broke the SMTP protocol (or it lacks ESMTP)."""


class SMTPTLSError(MailError):
    """TLS failed: a certificate that does not verify, a failed handshake, or no STARTTLS
    offered while ``starttls=required``."""


class SMTPAuthError(MailError):
    """Authentication failed: credentials refused, or no mechanism in common."""


class SMTPRecipientsRefused(MailError):
    """Every recipient was refused; ``refused`` maps each address to its :class:`Refusal`."""

    def __init__(self, refused: dict[str, Refusal], server: str = "") -> None:
        self.refused = dict(refused)
        codes = ", ".join(f"{addr}: {r.code} {r.text}" for addr, r in refused.items())
        first = next(iter(refused.values()), Refusal(-1, ""))
        super().__init__("every recipient was refused", -1, codes, server)
        self.code = first.code
