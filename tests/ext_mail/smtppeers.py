"""Real SMTP peers on free loopback ports: aiosmtpd (TLS, AUTH) and Postfix's smtp-sink (faults).

``smtpd(**options)`` starts an aiosmtpd ``Controller`` in its own thread and
returns a :class:`Server` whose ``received`` list holds every message it took
(envelope, raw bytes, the login used). ``smtp_sink(*args)`` runs smtp-sink as a
plain process. Either fails the test under ``CI=true`` when it cannot start,
and skips it otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

USER, PASSWORD = "alice", "s3cret-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is needed under CI (.ci/run installs it)")
    pytest.skip(f"{what} is not available")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: bytes | None
    smtputf8: bool
    mail_options: list[str]
    peer: Any
    ehlo_name: str

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data.replace(b"\r\n", b"\n"), policy=policy.default)  # type: ignore[return-value]


@dataclass
class Server:
    port: int
    controller: Any = None
    received: list[Received] = field(default_factory=list)
    auth_mechanisms: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


class Handler:
    """Stores each message; refuses recipients whose local part starts with "refuse"."""

    def __init__(self, server: Server) -> None:
        self.server = server

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:  # fmt: skip
        if address.startswith("refuse"):
            return "550 5.1.1 no such user here"
        if address.startswith("later"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.server.received.append(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                getattr(session.auth_data, "login", session.auth_data), envelope.smtp_utf8,
                list(envelope.mail_options), session.peer, session.host_name,
            )
        )  # fmt: skip
        return "250 2.0.0 queued as test"

    async def auth_CRAM__MD5(self, server: Any, args: list[str]) -> Any:
        from aiosmtpd.smtp import AuthResult

        challenge = b"<1896.697170952@test.example>"
        response = await server.challenge_auth(challenge)
        login, _, digest = bytes(response).partition(b" ")
        good = hmac.new(PASSWORD.encode(), challenge, hashlib.md5).hexdigest().encode()
        ok = login == USER.encode() and hmac.compare_digest(digest, good)
        self.server.auth_mechanisms.append("CRAM-MD5")
        return AuthResult(success=ok, handled=False, auth_data=login)


def _authenticator(server: Server) -> Any:
    from aiosmtpd.smtp import AuthResult

    def check(smtp: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        server.auth_mechanisms.append(mechanism)
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return check


def tls_context(certificate: tuple[str, str]) -> ssl.SSLContext:
    key, cert = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def smtpd(certificate: tuple[str, str]) -> Iterator[Any]:
    """``smtpd(starttls=True, implicit_tls=False, auth=True, mechanisms=None, cert=None, **kw)``."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        missing("aiosmtpd")
    started: list[Any] = []

    def start(*, starttls: bool = True, implicit_tls: bool = False, auth: bool = True,
              mechanisms: list[str] | None = None, cert: tuple[str, str] | None = None,
              **kwargs: Any) -> Server:  # fmt: skip
        pair = cert or certificate
        server = Server(free_port())
        handler = Handler(server)
        options: dict[str, Any] = {"enable_SMTPUTF8": True, **kwargs}
        if starttls:
            options.update(tls_context=tls_context(pair), require_starttls=True)
        if implicit_tls:
            options["ssl_context"] = tls_context(pair)
        if auth:
            # aiosmtpd counts only STARTTLS as TLS; over implicit TLS AUTH is encrypted anyway.
            options.update(authenticator=_authenticator(server), auth_require_tls=not implicit_tls)
            if mechanisms is not None:
                every = ["PLAIN", "LOGIN", "CRAM-MD5"]
                options["auth_exclude_mechanism"] = [m for m in every if m not in mechanisms]
        else:
            options["auth_exclude_mechanism"] = ["PLAIN", "LOGIN", "CRAM-MD5"]
        controller = Controller(handler, hostname="127.0.0.1", port=server.port, **options)
        controller.start()
        started.append(controller)
        server.controller = controller
        return server

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def smtp_sink(tmp_path: Any) -> Iterator[Any]:
    """``smtp_sink(*options) -> port``: Postfix's smtp-sink on a free port, stopped by PID."""
    binary = shutil.which("smtp-sink") or (
        "/usr/sbin/smtp-sink" if os.path.exists("/usr/sbin/smtp-sink") else None
    )
    processes: list[subprocess.Popen[bytes]] = []

    def start(*options: str) -> int:
        if binary is None:
            missing("smtp-sink (Debian package postfix)")
        port = free_port()
        user = ["-u", "postfix"] if os.geteuid() == 0 else []
        process = subprocess.Popen(
            [binary, *user, *options, f"127.0.0.1:{port}", "16"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        processes.append(process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"smtp-sink exited: {process.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                return port
            except OSError:
                time.sleep(0.05)
        pytest.fail("smtp-sink did not start listening")

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
