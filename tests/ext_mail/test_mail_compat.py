"""cyclone 1.x's cyclone.mail: Message, attach, add_header, render and sendmail(mailconf, msg)."""

from __future__ import annotations

from typing import Any

import pytest
from smtppeers import PASSWORD, USER

from cyclone.testing import call


def test_old_names_come_from_the_extension() -> None:
    import cyclone.mail
    import cyclone_ext_mail

    assert cyclone.mail.Message is cyclone_ext_mail.Message
    assert cyclone.mail.sendmail is cyclone_ext_mail.sendmail


def test_sendmail_with_the_1x_dict(smtpd: Any, certificate: tuple[str, str]) -> None:
    from cyclone.mail import Message, sendmail

    server = smtpd()
    msg = Message("from@example.com", ["to@example.com"], "1.x", "old <b>style</b>", "text/html")
    msg.attach("a.txt", content="attached")
    msg.add_header("X-Old", "yes")
    conf = {
        "host": "127.0.0.1", "port": server.port, "username": USER, "password": PASSWORD,
        "tls": True, "ca_file": certificate[1],
    }  # fmt: skip
    result = call(sendmail, conf, msg)
    assert result.accepted == ("to@example.com",)
    got = server.received[0].message
    assert got["X-Old"] == "yes"
    assert got.get_body(("html",)).get_content() == "old <b>style</b>\n"


def test_sendmail_refuses_unknown_settings() -> None:
    from cyclone.mail import Message, sendmail

    with pytest.raises(TypeError, match="hots"):
        call(sendmail, {"hots": "x"}, Message("a@example.com", "b@example.com", "x"))
