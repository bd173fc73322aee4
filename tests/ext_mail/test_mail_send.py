"""Sending through aiosmtpd with STARTTLS, implicit TLS and AUTH; the server's copy parsed back."""

from __future__ import annotations

from typing import Any

import pytest

from cyclone.testing import call
from cyclone_ext_mail import (
    Message,
    SMTPAuthError,
    SMTPRecipientsRefused,
    SMTPTLSError,
    smtp,
    smtps,
)

from smtppeers import PASSWORD, USER


@pytest.fixture
def ca(certificate: tuple[str, str]) -> str:
    return certificate[1]


def test_starttls_auth_delivers(smtpd: Any, ca: str) -> None:
    server = smtpd()
    mailer = smtp(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{server.port}?ca_file={ca}&timeout=10")
    msg = Message("Sender <from@example.com>", ["to@example.com"], "Hello", text="Body\n")
    result = call(mailer.send, msg)
    assert result.accepted == ("to@example.com",)
    assert result.refused == {}
    assert result.reply.code == 250
    [got] = server.received
    assert got.login == USER.encode()
    assert got.mail_from == "from@example.com"
    assert got.message["Subject"] == "Hello"
    assert got.message.get_content() == "Body\n"
