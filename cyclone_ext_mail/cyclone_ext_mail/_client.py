"""One SMTP connection that delivers a queue of messages, on twisted.mail's ESMTP client.

Strategy: :class:`Session` is a ``twisted.mail.smtp.ESMTPClient``; Twisted speaks
the protocol (greeting, EHLO, STARTTLS, AUTH, MAIL/RCPT/DATA, RSET after a
failed transaction, QUIT) and calls back ``getMailFrom``/``getMailTo``/``getMailData`` for
each message and ``sentMail``/``sendError`` with the outcome. The session turns
those into one outcome per :class:`Job` (a :class:`SendResult` or a
:class:`MailError`). ``committed`` becomes true when the first ``MAIL FROM`` is
sent: before that a failure concerns the server, not a message, and the mailer
may move on to the next server without any risk of sending a message twice.
A timer bounds each message's exchange; when it fires the connection is aborted.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from OpenSSL import SSL
from service_identity.exceptions import VerificationError
from twisted.internet import defer, protocol, reactor
from twisted.internet.interfaces import IDelayedCall
from twisted.mail import smtp
from twisted.python.failure import Failure

from cyclone_ext_mail._errors import (
    MailError,
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

__all__ = ["Job", "SendResult", "Session", "SessionFactory", "SessionSettings"]


@dataclass(frozen=True)
class SendResult:
    """A message the server accepted: for whom, and whom it refused (with its reply)."""

    message_id: str | None
    accepted: tuple[str, ...]
    refused: dict[str, Refusal]
    server: str
    reply: Refusal  # the server's answer to the end of DATA (code 250 and its text)


@dataclass
class Job:
    """One message to deliver: envelope, a renderer (``utf8 -> bytes``) and its outcome."""

    sender: Callable[[bool], str]
    recipients: Callable[[bool], list[str]]
    render: Callable[[bool], bytes]
    needs_smtputf8: bool  # an envelope address is not ASCII: SMTPUTF8 or nothing
    wants_utf8: bool  # some header is not ASCII: UTF-8 headers when SMTPUTF8 is offered
    message_id: str | None
    outcome: SendResult | MailError | None = None


@dataclass
class SessionSettings:
    """How to talk to one server: credentials, TLS, EHLO name, per-message timeout."""

    server: str
    username: bytes | None
    password: bytes | None
    starttls: str  # "required", "optional" or "off"; ignored over implicit TLS
    tls_options: Any  # the client TLS options for STARTTLS (None when off)
    local_hostname: bytes
    timeout: float | None
    extensions: dict[bytes, bytes | None] = field(default_factory=dict)


class _EnvelopeAddress(smtp.Address):
    """An address that ``quoteaddr`` writes as is: UTF-8 when SMTPUTF8 is in use."""

    def __init__(self, address: str) -> None:
        self.address = address

    def __bytes__(self) -> bytes:
        return self.address.encode("utf-8")

    def __str__(self) -> str:
        return self.address


def _text(resp: Any) -> str:
    if isinstance(resp, bytes):
        return resp.decode("utf-8", "replace")
    return str(resp or "")


def _map_error(exc: BaseException, server: str) -> MailError:
    """The cyclone_ext_mail error for one of twisted.mail's client errors."""
    if isinstance(exc, MailError):
        return exc
    code = getattr(exc, "code", -1)
    text = _text(getattr(exc, "resp", str(exc)))
    if isinstance(exc, (smtp.TLSRequiredError, smtp.TLSError)):
        if isinstance(exc, smtp.TLSRequiredError):
            text = "the server does not offer STARTTLS (starttls=required)"
        return SMTPTLSError("TLS failed", code, text, server)
    if isinstance(exc, smtp.AUTHRequiredError):
        return SMTPAuthError("no AUTH mechanism in common", code, text, server)
    if isinstance(exc, (smtp.AUTHDeclinedError, smtp.AuthenticationError)):
        return SMTPAuthError("authentication failed", code, text, server)
    if isinstance(exc, smtp.EHLORequiredError):
        return SMTPProtocolError("the server does not speak ESMTP", code, text, server)
    if isinstance(exc, smtp.SMTPTimeoutError):
        return SMTPTimeout("no answer in time", code, text, server)
    if isinstance(exc, smtp.SMTPConnectError):
        return SMTPConnectError("the server refused service", code, text, server)
    if isinstance(exc, smtp.SMTPClientError) and 400 <= code < 500:
        return SMTPTemporaryError("the server answered with a temporary error", code, text, server)
    if isinstance(exc, smtp.SMTPClientError) and code >= 500:
        return SMTPPermanentError("the server refused", code, text, server)
    return SMTPProtocolError(f"{type(exc).__name__}", code, text, server)


def _lost_error(reason: Failure, server: str) -> MailError:
    if reason.check(SSL.Error, VerificationError):
        detail = reason.getErrorMessage() or reason.type.__name__
        return SMTPTLSError("TLS failed (certificate or handshake)", -1, detail, server)
    return SMTPConnectionLost("the connection closed", -1, reason.getErrorMessage(), server)


class Session(smtp.ESMTPClient):
    """Deliver ``jobs`` in order over one connection; ``done`` fires when it closes."""

    debug = False  # twisted.mail keeps no line log (it would hold the AUTH exchange)

    def __init__(self, settings: SessionSettings, jobs: list[Job]) -> None:
        super().__init__(settings.password, settings.tls_options, settings.local_hostname)
        self.settings = settings
        self.jobs = list(jobs)
        self.pending = list(jobs)
        self.current: Job | None = None
        self.utf8 = False
        self.committed = False
        self.error: MailError | None = None
        self.done: defer.Deferred[None] = defer.Deferred()
        self._timer: IDelayedCall | None = None
        self.heloFallback = False
        self.requireAuthentication = settings.username is not None
        self.requireTransportSecurity = settings.starttls == "required"
        if settings.username is not None:
            for authenticator in (
                smtp.CramMD5ClientAuthenticator,
                smtp.LOGINAuthenticator,
                smtp.PLAINAuthenticator,
            ):
                self.registerAuthenticator(authenticator(settings.username))

    # -- the connection ---------------------------------------------------------------

    def connectionMade(self) -> None:
        # SMTP is a dialogue of small writes: without TCP_NODELAY, Nagle's algorithm
        # holds one back while another is unacknowledged, and the server's delayed
        # ACK turns that into ~40 ms (TLS records and STARTTLS make such pairs).
        no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if no_delay is not None:
            no_delay(True)
        super().connectionMade()
        self._arm()

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        super().connectionLost(reason)
        self._disarm()
        if self.error is None and any(job.outcome is None for job in self.jobs):
            self.error = _lost_error(reason, self.settings.server)
        if self.error is not None:
            self._fail_rest(self.error)
        if not self.done.called:
            self.done.callback(None)

    def _arm(self) -> None:
        self._disarm()
        if self.settings.timeout is not None:
            self._timer = reactor.callLater(self.settings.timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        self.error = SMTPTimeout(
            f"no complete exchange within {self.settings.timeout}s", server=self.settings.server
        )
        self.transport.abortConnection()

    def _fail_rest(self, error: MailError) -> None:
        for job in self.jobs:
            if job.outcome is None:
                job.outcome = error

    # -- what twisted.mail asks for ---------------------------------------------------

    def esmtpState_serverConfig(self, code: int, resp: bytes) -> None:
        extensions: dict[bytes, bytes | None] = {}
        for line in resp.splitlines()[1:]:
            keyword, _, value = line.partition(b" ")
            extensions[keyword.upper()] = value or None
        self.settings.extensions = extensions
        super().esmtpState_serverConfig(code, resp)

    def getMailFrom(self) -> _EnvelopeAddress | None:
        while self.pending:
            job = self.pending.pop(0)
            has_utf8 = b"SMTPUTF8" in self.settings.extensions
            if job.needs_smtputf8 and not has_utf8:
                job.outcome = SMTPPermanentError(
                    "an address is not ASCII and the server does not offer SMTPUTF8",
                    server=self.settings.server,
                )
                continue
            self.current = job
            self.utf8 = has_utf8 and (job.wants_utf8 or job.needs_smtputf8)
            self.committed = True
            return _EnvelopeAddress(job.sender(self.utf8))
        self.current = None
        return None

    def sendLine(self, line: bytes) -> None:
        if line.startswith(b"MAIL FROM:") and self.utf8:
            line += b" SMTPUTF8"
            if b"8BITMIME" in self.settings.extensions:
                line += b" BODY=8BITMIME"
        super().sendLine(line)

    def getMailTo(self) -> list[_EnvelopeAddress]:
        assert self.current is not None
        return [_EnvelopeAddress(r) for r in self.current.recipients(self.utf8)]

    def getMailData(self) -> io.BytesIO:
        assert self.current is not None
        data = self.current.render(self.utf8)
        self._previous_chunk_end = b"\n"
        self._data_left = len(data)
        self._terminated = False
        return io.BytesIO(data)

    def transformChunk(self, chunk: bytes) -> bytes:
        # twisted.mail dot-stuffs within a chunk; a line starting a chunk needs it too.
        first = self._previous_chunk_end == b"\n" and chunk.startswith(b".")
        self._previous_chunk_end = chunk[-1:]
        out = super().transformChunk(chunk)
        if first:
            out = b"." + out
        self._data_left -= len(chunk)
        if self._data_left <= 0:
            # The end-of-data line goes out with the last chunk: one write, not two
            # (each small write is a packet and a wake-up of the server).
            out += b".\r\n" if out.endswith(b"\n") else b"\r\n.\r\n"
            self._terminated = True
        return out

    def finishedFileTransfer(self, lastsent: bytes) -> None:
        if not self._terminated:
            super().finishedFileTransfer(lastsent)

    def smtpState_msgSent(self, code: int, resp: Any) -> None:
        if 200 <= code < 300 and self.current is not None:
            # The server took the message, which ends the transaction and clears its
            # state (RFC 5321, 4.1.1.4): the next MAIL FROM follows at once. twisted.mail
            # would send an RSET first, one more round trip per message of a batch;
            # after a refused or failed transaction it still does.
            self.sentMail(code, resp, len(self.successAddresses), self.toAddressesResult, None)
            self.toAddressesResult = []
            self.smtpState_from(code, resp)
        else:
            super().smtpState_msgSent(code, resp)

    def sentMail(self, code: int, resp: Any, numOk: int, addresses: Any, log: Any) -> None:
        job, server = self.current, self.settings.server
        if job is None:
            return
        self.current = None
        accepted: list[str] = []
        refused: dict[str, Refusal] = {}
        for address, rcpt_code, rcpt_resp in addresses:
            if 200 <= rcpt_code < 300:
                accepted.append(str(address))
            else:
                refused[str(address)] = Refusal(rcpt_code, _text(rcpt_resp))
        closing = [r for r in refused.values() if r.code == 421]
        if closing:
            job.outcome = SMTPTemporaryError(
                "the server closed the transaction", closing[0].code, closing[0].text, server
            )
        elif 200 <= code < 300:
            job.outcome = SendResult(
                job.message_id, tuple(accepted), refused, server, Refusal(code, _text(resp))
            )
        elif addresses and not accepted:
            job.outcome = SMTPRecipientsRefused(refused, server)
        elif 400 <= code < 500:
            what = "the sender" if not addresses else "the message"
            job.outcome = SMTPTemporaryError(
                f"{what} was refused for now", code, _text(resp), server
            )
        else:
            what = "the sender" if not addresses else "the message"
            job.outcome = SMTPPermanentError(f"{what} was refused", code, _text(resp), server)
        self._arm()

    def sendError(self, exc: BaseException) -> None:
        error = _map_error(exc, self.settings.server)
        if self.error is None:
            self.error = error
        self._fail_rest(self.error)
        super().sendError(exc)


class SessionFactory(protocol.Factory):
    """Builds the one :class:`Session` of a connection attempt."""

    def __init__(self, settings: SessionSettings, jobs: list[Job]) -> None:
        self.settings = settings
        self.jobs = jobs
        self.session: Session | None = None

    def buildProtocol(self, addr: Any) -> Session:
        self.session = Session(self.settings, self.jobs)
        self.session.factory = self
        return self.session
