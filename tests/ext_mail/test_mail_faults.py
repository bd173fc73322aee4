"""Faults from Postfix's smtp-sink, and failover from a refusing server to aiosmtpd."""

from __future__ import annotations

import time
from typing import Any

import pytest
from smtppeers import free_port

from cyclone.services import create_service
from cyclone.testing import call
from cyclone.web import HTTPError
from cyclone_ext_mail import (
    MailUnavailable,
    Message,
    SendResult,
    SMTPConnectError,
    SMTPConnectionLost,
    SMTPPermanentError,
    SMTPTemporaryError,
    SMTPTimeout,
    smtp,
)


def message(to: str | list[str] = "b@example.com") -> Message:
    return Message("a@example.com", to, "fault", text="body\n")


def sink_mailer(port: int, options: str = "") -> Any:
    return smtp(f"smtp://127.0.0.1:{port}?starttls=off&timeout=5{options}")


def test_sink_accepts(smtp_sink: Any) -> None:
    result = call(sink_mailer(smtp_sink()).send, message(["b@example.com", "c@example.com"]))
    assert result.accepted == ("b@example.com", "c@example.com")


def test_421_and_disconnect_at_rcpt(smtp_sink: Any) -> None:
    port = smtp_sink("-Q", "RCPT")
    with pytest.raises(SMTPTemporaryError) as info:
        call(sink_mailer(port).send, message())
    assert info.value.code == 421
    assert isinstance(info.value, HTTPError) and info.value.status_code == 503


def test_4xx_at_mail(smtp_sink: Any) -> None:
    with pytest.raises(SMTPTemporaryError) as info:
        call(sink_mailer(smtp_sink("-r", "MAIL")).send, message())
    assert 400 <= info.value.code < 500 and "sender" in str(info.value)


def test_5xx_at_rcpt_for_every_recipient(smtp_sink: Any) -> None:
    from cyclone_ext_mail import SMTPRecipientsRefused

    with pytest.raises(SMTPRecipientsRefused) as info:
        call(sink_mailer(smtp_sink("-f", "RCPT")).send, message(["b@x.org", "c@x.org"]))
    assert set(info.value.refused) == {"b@x.org", "c@x.org"}
    assert all(500 <= r.code < 600 for r in info.value.refused.values())


def test_5xx_at_end_of_data(smtp_sink: Any) -> None:
    with pytest.raises(SMTPPermanentError) as info:
        call(sink_mailer(smtp_sink("-f", ".")).send, message())
    assert 500 <= info.value.code < 600 and "message" in str(info.value)


def test_4xx_at_data(smtp_sink: Any) -> None:
    with pytest.raises(SMTPTemporaryError):
        call(sink_mailer(smtp_sink("-r", "DATA")).send, message())


def test_disconnect_after_data(smtp_sink: Any) -> None:
    with pytest.raises(SMTPConnectionLost):
        call(sink_mailer(smtp_sink("-q", ".")).send, message())


def test_slow_reply_times_out(smtp_sink: Any) -> None:
    port = smtp_sink("-W", "RCPT:5")
    started = time.monotonic()
    with pytest.raises(SMTPTimeout):
        call(sink_mailer(port, "&timeout=0.5").send, message())
    assert time.monotonic() - started < 3


def test_slow_greeting_times_out(smtp_sink: Any) -> None:
    port = smtp_sink("-W", "CONNECT:5")
    with pytest.raises(SMTPTimeout):
        call(sink_mailer(port, "&timeout=0.5").send, message())


def test_send_many_with_a_refused_message(smtp_sink: Any) -> None:
    outcomes = call(sink_mailer(smtp_sink("-f", ".")).send_many, [message(), message()])
    assert all(isinstance(o, SMTPPermanentError) for o in outcomes)


def test_connection_refused() -> None:
    port = free_port()
    with pytest.raises(SMTPConnectError) as info:
        call(sink_mailer(port).send, message())
    assert isinstance(info.value, MailUnavailable)
    assert f"127.0.0.1:{port}" in str(info.value)


# -- failover -------------------------------------------------------------------------


def test_failover_from_refused_connection(smtpd: Any) -> None:
    good = smtpd(starttls=False, auth=False)
    dead = free_port()
    # The failover list as a services= URL, resolved through the cyclone.mail entry point.
    mailer = create_service("mail", f"smtp://127.0.0.1:{dead},127.0.0.1:{good.port}?timeout=5")
    result = call(mailer.send, message())
    assert result.server == good.address
    assert len(good.received) == 1


@pytest.mark.parametrize("greeting", ["-r", "-f"])  # 4xx, 5xx greeting
def test_failover_from_refusing_greeting(smtpd: Any, smtp_sink: Any, greeting: str) -> None:
    bad = smtp_sink(greeting, "CONNECT")
    good = smtpd(starttls=False, auth=False)
    mailer = smtp(f"smtp://127.0.0.1:{bad}?timeout=5", hosts=[f"127.0.0.1:{good.port}"])
    result = call(mailer.send, message())
    assert result.server == good.address
    assert len(good.received) == 1


def test_failover_batch(smtpd: Any) -> None:
    good = smtpd(starttls=False, auth=False)
    mailer = smtp(f"smtp://127.0.0.1:{free_port()},127.0.0.1:{good.port}?timeout=5")
    outcomes = call(mailer.send_many, [message(), message(), message()])
    assert all(isinstance(o, SendResult) for o in outcomes)
    assert len(good.received) == 3 and len({r.peer for r in good.received}) == 1


def test_no_failover_once_a_transaction_started(smtpd: Any, smtp_sink: Any) -> None:
    first = smtp_sink("-q", ".")  # takes MAIL, RCPT and the data, then hangs up
    second = smtpd(starttls=False, auth=False)
    mailer = smtp(f"smtp://127.0.0.1:{first},127.0.0.1:{second.port}?timeout=5")
    with pytest.raises(SMTPConnectionLost):
        call(mailer.send, message())
    assert second.received == []  # never sent twice


def test_every_server_failing_names_each() -> None:
    a, b = free_port(), free_port()
    mailer = smtp(f"smtp://127.0.0.1:{a},127.0.0.1:{b}?timeout=5")
    with pytest.raises(SMTPConnectError) as info:
        call(mailer.send, message())
    assert f"127.0.0.1:{a}" in str(info.value) and f"127.0.0.1:{b}" in str(info.value)


def test_stop_waits_for_the_deliveries_in_progress(smtp_sink: Any) -> None:
    mailer = sink_mailer(smtp_sink("-W", "RCPT:1"))

    async def send_then_stop() -> tuple[bool, Any]:
        sending = mailer.send(message())
        await mailer.stop()
        return sending.called, await sending

    finished_first, result = call(send_then_stop)
    assert finished_first and isinstance(result, SendResult)
