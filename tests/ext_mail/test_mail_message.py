"""Building messages: address checks, header injection, MIME structure (no network)."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

import pytest

from cyclone.services import ServiceConfigError, UnknownOptionError, create_service
from cyclone_ext_mail import HeaderInjection, InvalidAddress, Message, parse_address, smtp, smtps


@pytest.mark.parametrize(
    "bad", ["plainword", "a@", "@b.example", "a b@c.example", "a@b..example", "<a@b>>", "a@-b.x"]
)
def test_malformed_address_is_named(bad: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        Message("a@example.com", ["ok@example.com", bad], "x")
    assert repr(bad.strip("<>")) in str(info.value) or repr(bad) in str(info.value)


@pytest.mark.parametrize(
    "value",
    [
        "a@example.com\r\nBcc: victim@example.com",
        "Name\n <a@example.com>",
        ("Evil\r\nX-Injected: 1", "a@example.com"),
    ],
)
def test_newline_in_an_address_is_refused(value: Any) -> None:
    with pytest.raises(HeaderInjection):
        Message("a@example.com", [value], "x")


def test_newline_in_subject_or_header_is_refused() -> None:
    with pytest.raises(HeaderInjection):
        Message("a@example.com", "b@example.com", "hi\r\nBcc: victim@example.com")
    msg = Message("a@example.com", "b@example.com", "hi")
    with pytest.raises(HeaderInjection):
        msg.add_header("X-Note", "one\ntwo")
    with pytest.raises(HeaderInjection):
        msg.add_header("X-Bad Name", "v")
    with pytest.raises(HeaderInjection):
        msg.attach("evil\r\n.txt", content=b"x")


def test_address_forms() -> None:
    assert parse_address("a@example.com").addr_spec == "a@example.com"
    named = parse_address('"Doe, Jane" <jane@example.com>')
    assert (named.display_name, named.addr_spec) == ("Doe, Jane", "jane@example.com")
    assert parse_address(("Zoë", "zoe@example.com")).display_name == "Zoë"
    assert parse_address("[email]@[127.0.0.1]".replace("[email]", "x")).domain == "[127.0.0.1]"
    msg = Message("a@example.com", 'b@example.com, "Doe, J" <j@example.com>', "x")
    assert msg.to_addrs == ["b@example.com", "j@example.com"]


def test_bcc_only_in_the_envelope() -> None:
    msg = Message("a@example.com", "b@example.com", "x", cc="c@example.com", bcc="d@example.com")
    assert msg.to_addrs == ["b@example.com", "c@example.com", "d@example.com"]
    rendered = msg.render()
    assert "d@example.com" not in rendered and "Bcc" not in rendered


def test_1x_signature_and_render(tmp_path: Any) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n")
    msg = Message("a@example.com", ["b@example.com"], "Report", "<h1>hi</h1>", mime="text/html")
    msg.attach(str(path))
    msg.attach("raw.bin", mime="application/x-thing", content=b"\x00\xff")
    msg.add_header("X-Mailer", "cyclone")
    text = msg.render()
    assert isinstance(text, str) and "\r\n" in text
    parsed = message_from_bytes(text.replace("\r\n", "\n").encode(), policy=policy.default)
    assert parsed.get_body(("html",)).get_content() == "<h1>hi</h1>\n"
    files = {p.get_filename(): p for p in parsed.iter_attachments()}
    assert files["data.csv"].get_content_type() == "text/csv"
    assert files["data.csv"].get_payload(decode=True) == b"a,b\r\n1,2\r\n"  # base64: as is
    assert files["raw.bin"].get_content() == b"\x00\xff"
    assert parsed["X-Mailer"] == "cyclone"


def test_alternative_when_text_and_html() -> None:
    msg = Message("a@example.com", "b@example.com", "x", text="t", html="<p>h</p>")
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_non_ascii_headers_are_encoded() -> None:
    msg = Message(("José", "jose@example.com"), "b@example.com", "¡Hola, señor!", text="ñ\n")
    raw = msg.as_bytes()
    assert raw.isascii()
    assert b"=?utf-8?" in raw
    parsed = message_from_bytes(msg.as_bytes(linesep="\n"), policy=policy.default)
    assert parsed["Subject"] == "¡Hola, señor!"
    assert parsed.get_content() == "ñ\n"


def test_managed_headers_come_from_arguments() -> None:
    msg = Message("a@example.com", "b@example.com", "x")
    with pytest.raises(ValueError, match="own arguments"):
        msg.add_header("Bcc", "c@example.com")
    msg.add_header("Message-ID", "<fixed@example.com>")
    assert b"Message-ID: <fixed@example.com>" in msg.as_bytes()


def test_url_options_and_masking(certificate: tuple[str, str]) -> None:
    mailer = smtp("smtp://user:pa%40ss@mx1.example:587,mx2.example?timeout=30&starttls=required")
    assert mailer.servers == [("mx1.example", 587), ("mx2.example", 25)]
    assert mailer.username == "user" and mailer.timeout == 30.0
    assert "pa@ss" not in repr(mailer) and "***" in repr(mailer)
    assert smtp("smtp://mx.example").starttls == "optional"
    assert smtp("smtp://u:p@mx.example").starttls == "required"
    assert smtps("smtps://u:p@mx.example").servers == [("mx.example", 465)]
    with pytest.raises(UnknownOptionError):
        smtp("smtp://mx.example?startls=off")
    with pytest.raises(ValueError):
        smtp("smtp://mx.example?starttls=sometimes")
    with pytest.raises(ValueError, match="implicit TLS"):
        smtps("smtps://mx.example?starttls=off")
    with pytest.raises(ValueError, match="no server"):
        smtp("smtp://")
    with pytest.raises(ValueError, match="positive"):
        smtp("smtp://mx.example?timeout=0")
    with pytest.raises(ServiceConfigError) as info:
        create_service("mail", "smtp://u:secret@mx.example?verify=maybe")
    assert "secret" not in str(info.value)
    service = create_service(
        "mail", {"url": "smtp://u:secret@", "hosts": ["a.example:587", "b.example:2525"]}
    )
    assert service.servers == [("a.example", 587), ("b.example", 2525)]
