"""Sending through aiosmtpd with STARTTLS, implicit TLS and AUTH; the server's copy parsed back."""

from __future__ import annotations

import os
import subprocess
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

import pytest
from smtppeers import PASSWORD, USER

from cyclone import plugins
from cyclone.services import ServiceSet
from cyclone.testing import call
from cyclone_ext_mail import (
    Message,
    SendResult,
    SMTPAuthError,
    SMTPPermanentError,
    SMTPRecipientsRefused,
    SMTPTLSError,
    smtp,
    smtps,
)


@pytest.fixture
def ca(certificate: tuple[str, str]) -> str:
    return certificate[1]


def auth_url(server: Any, ca: str, extra: str = "") -> str:
    return f"smtp://{USER}:{PASSWORD}@127.0.0.1:{server.port}?ca_file={ca}&timeout=10{extra}"


def test_starttls_auth_delivers(smtpd: Any, ca: str) -> None:
    server = smtpd()
    mailer = smtp(auth_url(server, ca))
    msg = Message("Sender <from@example.com>", ["to@example.com"], "Hello", text="Body\n")
    result = call(mailer.send, msg)
    assert isinstance(result, SendResult)
    assert result.accepted == ("to@example.com",)
    assert result.refused == {}
    assert result.reply.code == 250
    assert result.server == server.address
    [got] = server.received
    assert got.login == USER.encode()
    assert got.mail_from == "from@example.com"
    assert got.message["Subject"] == "Hello"
    assert got.message["Message-ID"] == msg.message_id == result.message_id
    assert got.message["Date"]
    assert got.message.get_content() == "Body\n"


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_each_auth_mechanism(smtpd: Any, ca: str, mechanism: str) -> None:
    server = smtpd(mechanisms=[mechanism])
    call(smtp(auth_url(server, ca)).send, Message("a@example.com", "b@example.com", "x"))
    assert server.auth_mechanisms == [mechanism]
    assert server.received[0].login == USER.encode()


def test_cram_md5_preferred_when_offered(smtpd: Any, ca: str) -> None:
    server = smtpd()
    call(smtp(auth_url(server, ca)).send, Message("a@example.com", "b@example.com", "x"))
    assert server.auth_mechanisms == ["CRAM-MD5"]


def test_implicit_tls(smtpd: Any, ca: str) -> None:
    server = smtpd(starttls=False, implicit_tls=True)
    url = f"smtps://{USER}:{PASSWORD}@127.0.0.1:{server.port}?ca_file={ca}&timeout=10"
    result = call(smtps(url).send, Message("a@example.com", "b@example.com", "over TLS"))
    assert result.accepted == ("b@example.com",)
    assert server.received[0].message["Subject"] == "over TLS"


def test_certificate_not_trusted_is_a_tls_error(smtpd: Any) -> None:
    server = smtpd()
    mailer = smtp(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{server.port}?timeout=10")
    with pytest.raises(SMTPTLSError) as info:
        call(mailer.send, Message("a@example.com", "b@example.com", "x"))
    assert PASSWORD not in str(info.value)
    assert server.received == []


def test_host_name_mismatch_is_a_tls_error(smtpd: Any, tmp_path: Any) -> None:
    key, cert = str(tmp_path / "key.pem"), str(tmp_path / "cert.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=other.example",
         "-addext", "subjectAltName=DNS:other.example"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    server = smtpd(starttls=False, implicit_tls=True, cert=(key, cert))
    # Trusted (it is its own CA) but issued for another name than 127.0.0.1.
    mailer = smtps(f"smtps://127.0.0.1:{server.port}?ca_file={cert}&timeout=10")
    with pytest.raises(SMTPTLSError):
        call(mailer.send, Message("a@example.com", "b@example.com", "x"))
    assert server.received == []


def test_verify_false_skips_the_check(smtpd: Any) -> None:
    server = smtpd()
    url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{server.port}?verify=false&timeout=10"
    call(smtp(url).send, Message("a@example.com", "b@example.com", "x"))
    assert len(server.received) == 1


def test_no_starttls_offered_while_required(smtpd: Any) -> None:
    server = smtpd(starttls=False, auth=False)
    mailer = smtp(f"smtp://127.0.0.1:{server.port}?starttls=required&timeout=10")
    with pytest.raises(SMTPTLSError, match="STARTTLS"):
        call(mailer.send, Message("a@example.com", "b@example.com", "x"))
    assert server.received == []


def test_credentials_make_starttls_required(smtpd: Any) -> None:
    server = smtpd(starttls=False, auth=False)
    mailer = smtp(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{server.port}?timeout=10")
    assert mailer.starttls == "required"
    with pytest.raises(SMTPTLSError):
        call(mailer.send, Message("a@example.com", "b@example.com", "x"))


def test_plain_server_without_credentials(smtpd: Any) -> None:
    server = smtpd(starttls=False, auth=False)
    call(smtp(f"smtp://127.0.0.1:{server.port}").send, Message("a@x.org", "b@x.org", "x"))
    assert len(server.received) == 1


def test_wrong_password(smtpd: Any, ca: str) -> None:
    server = smtpd(mechanisms=["PLAIN"])
    mailer = smtp(f"smtp://{USER}:wrong@127.0.0.1:{server.port}?ca_file={ca}&timeout=10")
    with pytest.raises(SMTPAuthError) as info:
        call(mailer.send, Message("a@example.com", "b@example.com", "x"))
    assert info.value.code == 535
    assert "wrong" not in str(info.value)


def test_one_recipient_refused(smtpd: Any, ca: str) -> None:
    server = smtpd()
    msg = Message("a@example.com", ["ok@example.com", "refuse@example.com"], "partial")
    result = call(smtp(auth_url(server, ca)).send, msg)
    assert result.accepted == ("ok@example.com",)
    assert result.refused["refuse@example.com"] == (550, "5.1.1 no such user here")
    assert server.received[0].rcpt_tos == ["ok@example.com"]


def test_every_recipient_refused(smtpd: Any, ca: str) -> None:
    server = smtpd()
    msg = Message("a@example.com", ["refuse@example.com", "later@example.com"], "none")
    with pytest.raises(SMTPRecipientsRefused) as info:
        call(smtp(auth_url(server, ca)).send, msg)
    refused = info.value.refused
    assert refused["refuse@example.com"].code == 550
    assert refused["later@example.com"] == (451, "4.3.0 try again later")
    assert "550" in str(info.value) and "451" in str(info.value)
    assert server.received == []


def test_full_message_round_trip(smtpd: Any, ca: str, tmp_path: Any) -> None:
    server = smtpd(enable_SMTPUTF8=False)
    blob = os.urandom(200_000) + b"\r\n.\r\n\n.\n" + bytes(range(256))
    path = tmp_path / "report.pdf"
    path.write_bytes(blob)
    msg = Message(
        ("Jörg Müller", "jorg@example.com"),
        ["Zoë <zoe@example.com>", "bob@example.com"],
        "Grüße — ünïcödé subject",
        cc="carol@example.com",
        bcc=["hidden@example.com"],
        reply_to="replies@example.com",
        text="plain text ✓\n",
        html='<p>html ✓ <img src="cid:{cid}"></p>',
        headers={"X-Campaign": "spring"},
    )
    cid = msg.embed("logo.png", content=b"\x89PNG\r\n\x1a\nfake")
    msg.html = msg.html.replace("{cid}", cid)
    msg.attach(str(path))
    msg.attach("notes.txt", content="línea 1\nlínea 2\n")
    result = call(smtp(auth_url(server, ca)).send, msg)
    assert set(result.accepted) == {
        "zoe@example.com", "bob@example.com", "carol@example.com", "hidden@example.com"
    }  # fmt: skip
    [got] = server.received
    assert got.rcpt_tos == list(result.accepted)
    assert got.data.isascii()  # no SMTPUTF8 here: RFC 2047 and base64/QP only
    parsed = got.message
    assert "hidden" not in got.data.decode() and parsed["Bcc"] is None
    assert parsed["Subject"] == "Grüße — ünïcödé subject"
    assert parsed["From"].addresses[0].display_name == "Jörg Müller"
    assert parsed["To"].addresses[0].display_name == "Zoë"
    assert str(parsed["Cc"]) == "carol@example.com"
    assert str(parsed["Reply-To"]) == "replies@example.com"
    assert parsed["X-Campaign"] == "spring"
    assert parsed.get_body(("plain",)).get_content() == "plain text ✓\n"
    html = parsed.get_body(("html",))
    assert f"cid:{cid}" in html.get_content()
    parts = {p.get_filename(): p for p in parsed.walk() if p.get_filename()}
    assert parts["report.pdf"].get_content() == blob
    assert parts["report.pdf"].get_content_type() == "application/pdf"
    assert parts["notes.txt"].get_content() == "línea 1\nlínea 2\n"
    assert parts["logo.png"]["Content-ID"] == f"<{cid}>"
    assert parts["logo.png"].get_content() == b"\x89PNG\r\n\x1a\nfake"
    assert parsed.get_content_type() == "multipart/mixed"


def test_smtputf8_when_offered(smtpd: Any, ca: str) -> None:
    server = smtpd()
    msg = Message("Jörg <jörg@exämple.com>", "zoë@example.com", "Grüße", text="hi\n")
    call(smtp(auth_url(server, ca)).send, msg)
    [got] = server.received
    assert got.smtputf8 and "SMTPUTF8" in got.mail_options
    assert got.mail_from == "jörg@exämple.com"
    assert "Subject: Grüße".encode() in got.data  # RFC 6532: UTF-8 headers
    parsed = message_from_string(got.data.decode("utf-8"), policy=policy.default)
    assert parsed["From"].addresses[0].username == "jörg"
    assert parsed["To"].addresses[0].domain == "example.com"


def test_non_ascii_local_part_needs_smtputf8(smtpd: Any, ca: str) -> None:
    server = smtpd(enable_SMTPUTF8=False)
    with pytest.raises(SMTPPermanentError, match="SMTPUTF8"):
        call(smtp(auth_url(server, ca)).send, Message("a@example.com", "zoë@example.com", "x"))


def test_idna_domain_without_smtputf8(smtpd: Any, ca: str) -> None:
    server = smtpd(enable_SMTPUTF8=False)
    call(smtp(auth_url(server, ca)).send, Message("a@example.com", "z@exämple.com", "x"))
    assert server.received[0].rcpt_tos == ["z@xn--exmple-cua.com"]


def test_dot_lines_across_chunks(smtpd: Any, ca: str) -> None:
    server = smtpd()
    # ASCII lines starting with dots, long enough to cross twisted.mail's 16 KiB chunks.
    text = "".join(f".{'.' * (i % 3)}line {i}\n" for i in range(12_000))
    call(smtp(auth_url(server, ca)).send, Message("a@example.com", "b@example.com", "x", text))
    assert server.received[0].message.get_content() == text


def test_send_many_reuses_one_connection(smtpd: Any, ca: str) -> None:
    server = smtpd()
    mailer = smtp(auth_url(server, ca))
    messages = [Message("a@example.com", f"r{i}@example.com", f"n{i}") for i in range(25)]
    messages.insert(3, Message("a@example.com", "refuse@example.com", "refused"))
    outcomes = call(mailer.send_many, messages)
    assert len(outcomes) == 26
    assert isinstance(outcomes[3], SMTPRecipientsRefused)
    assert all(isinstance(o, SendResult) for i, o in enumerate(outcomes) if i != 3)
    assert [r.message["Subject"] for r in server.received] == [f"n{i}" for i in range(25)]
    assert len({r.peer for r in server.received}) == 1  # one connection
    assert server.auth_mechanisms == ["CRAM-MD5"]  # authenticated once


def test_stdlib_email_message(smtpd: Any, ca: str) -> None:
    server = smtpd()
    msg = EmailMessage()
    msg["From"] = "a@example.com"
    msg["To"] = "b@example.com, c@example.com"
    msg["Bcc"] = "secret@example.com"
    msg["Subject"] = "stdlib"
    msg.set_content("from the email package\n")
    result = call(smtp(auth_url(server, ca)).send, msg)
    assert set(result.accepted) == {"b@example.com", "c@example.com", "secret@example.com"}
    got = server.received[0]
    assert got.message["Bcc"] is None and b"secret" not in got.data
    assert msg["Bcc"] == "secret@example.com"  # the caller's message is left alone


def test_local_hostname_for_ehlo(smtpd: Any, ca: str) -> None:
    server = smtpd()
    mailer = smtp(auth_url(server, ca, "&local_hostname=app.example.org"))
    call(mailer.send, Message("a@example.com", "b@example.com", "x"))
    assert server.received[0].ehlo_name == "app.example.org"


def test_registered_and_served_as_a_service(smtpd: Any, ca: str) -> None:
    assert {"smtp", "smtps"} <= set(plugins.names(plugins.MAIL))
    assert plugins.load(plugins.MAIL, "smtp") is smtp
    server = smtpd()
    services = ServiceSet(
        {"mail": {"url": f"smtp://{USER}:{PASSWORD}@127.0.0.1:{server.port}", "ca_file": ca}}
    )
    assert PASSWORD not in repr(services) and PASSWORD not in repr(services["mail"])
    call(services.start)
    call(services["mail"].send, Message("a@example.com", "b@example.com", "service"))
    call(services.stop)
    assert server.received[0].message["Subject"] == "service"


def test_cyclone_plugins_lists_both_schemes() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "cyclone", "plugins"], capture_output=True, text=True, timeout=60
    ).stdout
    lines = [line.split() for line in out.splitlines()]
    assert ["smtp", "cyclone-ext-mail"] in [line[:2] for line in lines]
    assert ["smtps", "cyclone-ext-mail"] in [line[:2] for line in lines]


def test_one_service_per_server(smtpd: Any, ca: str) -> None:
    main, bulk = smtpd(), smtpd(starttls=False, implicit_tls=True)
    services = ServiceSet(
        {
            "mail": {"url": f"smtp://{USER}:{PASSWORD}@127.0.0.1:{main.port}", "ca_file": ca},
            "bulk": {"url": f"smtps://{USER}:{PASSWORD}@127.0.0.1:{bulk.port}", "ca_file": ca},
        }
    )
    call(services.start)
    call(services["mail"].send, Message("a@example.com", "b@example.com", "main"))
    call(services["bulk"].send_many, [Message("a@example.com", "c@example.com", "bulk")] * 3)
    call(services.stop)
    assert [r.message["Subject"] for r in main.received] == ["main"]
    assert [r.message["Subject"] for r in bulk.received] == ["bulk"] * 3
