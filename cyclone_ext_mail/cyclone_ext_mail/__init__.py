"""E-mail for cyclone: ``smtp://`` and ``smtps://`` services, and messages to send.

Both schemes are factories in the ``cyclone.mail`` entry-point group::

    Application(handlers, services={
        "mail": "smtp://app:secret@smtp.example.com:587?timeout=30",
    })

    class SignupHandler(RequestHandler):
        async def post(self):
            msg = Message("App <app@example.com>", self.get_argument("email"),
                          "Welcome", text="Hello!", html="<p>Hello!</p>")
            result = await self.settings.mail.send(msg)

The mailer speaks SMTP through twisted.mail's ESMTP client: STARTTLS (required
by default whenever a password is given) or implicit TLS (``smtps://``),
certificates verified against the host name, AUTH CRAM-MD5/LOGIN/PLAIN, a
failover list of servers, and ``send_many`` for batches over one connection.
Messages are built with the standard library's ``email`` package. See docs/mail.md.
"""

from cyclone_ext_mail._client import SendResult
from cyclone_ext_mail._compat import sendmail
from cyclone_ext_mail._errors import (
    HeaderInjection,
    InvalidAddress,
    MailError,
    MailUnavailable,
    Refusal,
    SMTPAuthError,
    SMTPConnectError,
    SMTPConnectionLost,
    SMTPPermanentError,
    SMTPProtocolError,
    SMTPRecipientsRefused,
    SMTPTemporaryError,
    SMTPTimeout,
    SMTPTLSError,
)
from cyclone_ext_mail._mailer import SMTPMailer, smtp, smtps
from cyclone_ext_mail._message import Attachment, Message, MessageAddress, parse_address

__all__ = [
    "Attachment",
    "HeaderInjection",
    "InvalidAddress",
    "MailError",
    "MailUnavailable",
    "Message",
    "MessageAddress",
    "Refusal",
    "SMTPAuthError",
    "SMTPConnectError",
    "SMTPConnectionLost",
    "SMTPMailer",
    "SMTPPermanentError",
    "SMTPProtocolError",
    "SMTPRecipientsRefused",
    "SMTPTLSError",
    "SMTPTemporaryError",
    "SMTPTimeout",
    "SendResult",
    "parse_address",
    "sendmail",
    "smtp",
    "smtps",
]
