"""``smtp://`` and ``smtps://`` mailers: URLs, TLS settings, failover across servers.

Strategy: the factory reads the URL once (credentials, one or more
``host:port``, options through :func:`cyclone.services.parse_options`) and builds
an :class:`SMTPMailer`. A delivery (``send`` or ``send_many``) opens one
connection and hands every message to one :class:`Session`. When a server cannot
be used before the first ``MAIL FROM`` (refused or failed connection, 4xx/5xx
greeting, timeout), the next server of the list is tried; once a transaction has
started on a server, its outcome is final, so no recipient ever receives a
message twice. TLS, authentication and protocol errors do not move on: they are
configuration problems that the next server would not fix silently.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from copy import deepcopy
from email.message import Message as StdlibMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from twisted.internet import defer, reactor, ssl
from twisted.internet.endpoints import (
    HostnameEndpoint,
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    wrapClientTLS,
)
from twisted.mail.smtp import DNSNAME

from cyclone.services import mask_url, parse_options
from cyclone_ext_mail._client import Job, SendResult, SessionFactory, SessionSettings
from cyclone_ext_mail._errors import (
    MailError,
    MailUnavailable,
    SMTPConnectError,
    SMTPConnectionLost,
)
from cyclone_ext_mail._message import Message, parse_address, parse_addresses

__all__ = ["SMTPMailer", "smtp", "smtps"]

STARTTLS_MODES = ("required", "optional", "off")


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _starttls(value: str) -> str:
    if value not in STARTTLS_MODES:
        raise ValueError(f"expected one of {', '.join(STARTTLS_MODES)}, got {value!r}")
    return value


def _host_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


OPTIONS: dict[str, Any] = {
    "starttls": _starttls,
    "verify": _boolean,
    "ca_file": str,
    "local_hostname": str,
    "timeout": float,
    "connect_timeout": float,
    "hosts": _host_list,
    "username": str,
    "password": str,
}
"""The options of both schemes, each with the converter of its string value."""


def _split_host(item: str, default_port: int, where: str) -> tuple[str, int]:
    bracketed = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", item)
    if bracketed:
        host, port = bracketed.group(1), bracketed.group(2)
    else:
        host, _, port = item.partition(":")
    if not host or (port is not None and port != "" and not port.isdigit()):
        raise ValueError(f"{where}: malformed server {item!r} (expected host or host:port)")
    number = int(port) if port else default_port
    if not 0 < number < 65536:
        raise ValueError(f"{where}: port out of range in {item!r}")
    return host, number


def _trust_root(ca_file: str) -> Any:
    pem = Path(ca_file).read_text()
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, re.S)
    if not blocks:
        raise ValueError(f"ca_file {ca_file!r} holds no PEM certificate")
    return ssl.trustRootFromCertificates([ssl.Certificate.loadPEM(b) for b in blocks])


class SMTPMailer:
    """A ``cyclone.mail`` service: sends messages through one SMTP server or a failover list.

    ``send(message)`` and ``send_many(messages)`` return Deferreds (awaitable).
    ``start()`` has nothing to open (connections are made per delivery);
    ``stop()`` waits for the deliveries in progress.
    """

    def __init__(
        self,
        servers: list[tuple[str, int]],
        *,
        implicit_tls: bool = False,
        username: str | None = None,
        password: str | None = None,
        starttls: str | None = None,
        verify: bool = True,
        ca_file: str | None = None,
        local_hostname: str | None = None,
        timeout: float | None = 60.0,
        connect_timeout: float = 10.0,
        target: str = "",
    ) -> None:
        if not servers:
            raise ValueError("a mailer needs at least one server")
        if starttls is None:
            starttls = "required" if username is not None else "optional"
        _starttls(starttls)
        for name, value in (("timeout", timeout), ("connect_timeout", connect_timeout)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value}")
        self.servers = list(servers)
        self.implicit_tls = implicit_tls
        self.username = username
        self._password = password
        self.starttls = "required" if implicit_tls else starttls
        self.verify = verify
        self.ca_file = ca_file
        self._trust = _trust_root(ca_file) if ca_file else None
        self.local_hostname = local_hostname
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.target = target or ",".join(f"{h}:{p}" for h, p in servers)
        self._running: set[defer.Deferred[Any]] = set()

    def __repr__(self) -> str:
        return f"<SMTPMailer {self.target}>"

    # -- service life -----------------------------------------------------------------

    def start(self) -> None:
        """Nothing to open: each delivery makes its own connection."""
        return None

    def stop(self) -> defer.Deferred[None]:
        """Fires once the deliveries in progress have ended (each has its own timeout)."""
        running = list(self._running)
        d = defer.DeferredList(running, consumeErrors=True)
        return d.addCallback(lambda _: None)

    # -- sending ----------------------------------------------------------------------

    def send(self, message: Message | StdlibMessage) -> defer.Deferred[SendResult]:
        """Deliver one message; fires with its :class:`SendResult`, fails with a MailError.

        A recipient refused while others were accepted is listed in
        ``result.refused``; when every recipient is refused the Deferred fails
        with :class:`SMTPRecipientsRefused`.
        """
        try:
            job = self._job(message)
        except Exception:
            return defer.fail()

        def one(outcomes: list[SendResult | MailError]) -> SendResult:
            outcome = outcomes[0]
            if isinstance(outcome, MailError):
                raise outcome
            return outcome

        return self._track(defer.ensureDeferred(self._deliver([job]))).addCallback(one)

    def send_many(
        self, messages: Iterable[Message | StdlibMessage]
    ) -> defer.Deferred[list[SendResult | MailError]]:
        """Deliver a batch over one authenticated connection (RSET only after a failure).

        Fires with one outcome per message, in order: a :class:`SendResult` or the
        :class:`MailError` of that message. Fails (with the server's error) only
        when no server could start a transaction at all.
        """
        try:
            jobs = [self._job(m) for m in messages]
        except Exception:
            return defer.fail()
        if not jobs:
            return defer.succeed([])
        return self._track(defer.ensureDeferred(self._deliver(jobs)))

    def _track(self, d: defer.Deferred[Any]) -> defer.Deferred[Any]:
        self._running.add(d)

        def forget(result: Any) -> Any:
            self._running.discard(d)
            return result

        return d.addBoth(forget)

    def _job(self, message: Message | StdlibMessage) -> Job:
        if isinstance(message, Message):
            if not message.to_addrs:
                raise ValueError(f"{message!r} has no recipient")
            addresses = [*message.to, *message.cc, *message.bcc]
            unique = list({a.addr_spec: a for a in addresses}.values())
            return Job(
                sender=message.from_addr.envelope,
                recipients=lambda utf8: [a.envelope(utf8) for a in unique],
                render=lambda utf8: message.as_bytes(utf8, linesep="\n"),
                needs_smtputf8=message.needs_smtputf8,
                wants_utf8=message.wants_utf8,
                message_id=message.message_id,
            )
        if isinstance(message, StdlibMessage):
            return self._stdlib_job(message)
        raise TypeError(
            f"send() takes a cyclone_ext_mail.Message or an email.message.EmailMessage, "
            f"got {type(message).__name__}"
        )

    def _stdlib_job(self, message: StdlibMessage) -> Job:
        sender_header = message.get("Sender") or message.get("From")
        if not sender_header:
            raise ValueError("the message has no From header")
        sender = parse_address(str(sender_header))
        fields = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
        recipients = parse_addresses([f"{n} <{a}>" if n else a for n, a in getaddresses(fields)])
        if not recipients:
            raise ValueError("the message has no To, Cc or Bcc recipient")
        unique = list({a.addr_spec: a for a in recipients}.values())
        needs = any(a.needs_smtputf8 for a in (sender, *unique))

        def render(utf8: bool) -> bytes:
            copy = deepcopy(message)
            del copy["Bcc"]
            policy = message.policy.clone(linesep="\n")
            if hasattr(policy, "utf8"):
                policy = policy.clone(utf8=utf8)
            return copy.as_bytes(policy=policy)

        return Job(
            sender=sender.envelope,
            recipients=lambda utf8: [a.envelope(utf8) for a in unique],
            render=render,
            needs_smtputf8=needs,
            wants_utf8=needs or not all(str(v).isascii() for v in message.values()),
            message_id=message.get("Message-ID"),
        )

    async def _deliver(self, jobs: list[Job]) -> list[SendResult | MailError]:
        failures: list[MailError] = []
        for host, port in self.servers:
            server = f"{host}:{port}"
            factory = SessionFactory(self._settings(host, port), jobs)
            try:
                session = await self._endpoint(host, port).connect(factory)
            except Exception as e:
                failures.append(
                    SMTPConnectError("cannot connect", -1, f"{type(e).__name__}: {e}", server)
                )
                continue
            await session.done
            if session.committed or not isinstance(session.error, MailUnavailable):
                lost = SMTPConnectionLost("not sent", server=server)
                return [job.outcome or lost for job in jobs]
            failures.append(session.error)
            for job in jobs:
                job.outcome = None
        if len(failures) == 1:
            raise failures[0]
        last = failures[-1]
        summary = "; ".join(str(f) for f in failures)
        raise type(last)(f"every server failed ({summary})", last.code, last.text, last.server)

    def _settings(self, host: str, port: int) -> SessionSettings:
        return SessionSettings(
            server=f"{host}:{port}",
            username=self.username.encode("utf-8") if self.username is not None else None,
            password=self._password.encode("utf-8") if self._password is not None else None,
            starttls=self.starttls,
            tls_options=None if self.starttls == "off" else self._tls(host),
            local_hostname=(
                self.local_hostname.encode("idna") if self.local_hostname else DNSNAME
            ),
            timeout=self.timeout,
        )

    def _tls(self, host: str) -> Any:
        if not self.verify:
            return ssl.CertificateOptions(verify=False)
        trust = self._trust if self._trust is not None else ssl.platformTrust()
        return ssl.optionsForClientTLS(host, trustRoot=trust)

    def _endpoint(self, host: str, port: int) -> Any:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            endpoint: Any = HostnameEndpoint(reactor, host, port, timeout=self.connect_timeout)
        else:
            kind = TCP4ClientEndpoint if address.version == 4 else TCP6ClientEndpoint
            endpoint = kind(reactor, host, port, timeout=self.connect_timeout)
        if self.implicit_tls:
            endpoint = wrapClientTLS(self._tls(host), endpoint)
        return endpoint


def _factory(scheme: str, default_port: int, implicit_tls: bool) -> Any:
    def factory(url: str, /, **options: Any) -> SMTPMailer:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme.lower() != scheme:
            raise ValueError(f"expected a {scheme}:// URL, got {mask_url(url)!r}")
        where = mask_url(url)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        opts = parse_options(scheme, OPTIONS, query, options, where=where, given_wins=True)
        userinfo, at, hostlist = parts.netloc.rpartition("@")
        username = password = None
        if at:
            user, colon, secret = userinfo.partition(":")
            username = urllib.parse.unquote(user)
            password = urllib.parse.unquote(secret) if colon else None
        username = opts.pop("username", username)
        password = opts.pop("password", password)
        if password is not None and not username:
            raise ValueError(f"{where}: a password needs a user name")
        if implicit_tls and "starttls" in opts:
            raise ValueError(f"{where}: smtps:// is implicit TLS; starttls= does not apply")
        if parts.path not in ("", "/"):
            raise ValueError(f"{where}: an SMTP URL has no path")
        items = _host_list(hostlist) + list(opts.pop("hosts", []))
        servers = [_split_host(item, default_port, where) for item in items]
        if not servers:
            raise ValueError(f"{where}: no server (give host:port in the URL or hosts=[...])")
        masked = ",".join(f"{h}:{p}" for h, p in servers)
        who = f"{username}:***@" if password is not None else (f"{username}@" if username else "")
        return SMTPMailer(
            servers,
            implicit_tls=implicit_tls,
            username=username or None,
            password=password,
            target=f"{scheme}://{who}{masked}",
            **opts,
        )

    factory.options = OPTIONS  # type: ignore[attr-defined]
    factory.__name__ = factory.__qualname__ = scheme
    factory.__doc__ = (
        f"``{scheme}://[user:password@]host[:port][,host[:port]...]?options`` → an "
        f":class:`SMTPMailer`{' over implicit TLS' if implicit_tls else ''} "
        f"(default port {default_port})."
    )
    return factory


smtp = _factory("smtp", 25, implicit_tls=False)
smtps = _factory("smtps", 465, implicit_tls=True)


def mailer_from_mapping(conf: Mapping[str, Any]) -> SMTPMailer:
    """An :class:`SMTPMailer` from cyclone 1.x's dict: host, port, username, password, tls."""
    known = {"host", "port", "username", "password", "tls", "ssl", *OPTIONS}
    unknown = sorted(set(conf) - known)
    if unknown:
        raise TypeError(f"unknown mail settings: {', '.join(unknown)}")
    host = conf.get("host", "localhost")
    implicit = bool(conf.get("ssl", False))
    port = int(conf.get("port", 465 if implicit else 25))
    options = {k: v for k, v in conf.items() if k in OPTIONS}
    if not implicit and "starttls" not in options:
        options["starttls"] = "required" if conf.get("tls") else "optional"
    if conf.get("username"):
        options["username"] = conf["username"]
        if conf.get("password") is not None:
            options["password"] = conf["password"]
    scheme = smtps if implicit else smtp
    netloc = f"[{host}]" if ":" in host else host
    return scheme(f"{'smtps' if implicit else 'smtp'}://{netloc}:{port}", **options)
