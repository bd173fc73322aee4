"""Smoke test of the e-mail demo: the form sends through aiosmtpd (STARTTLS, AUTH)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).parents[1] / "ext_mail"))

from smtppeers import PASSWORD, USER, smtpd  # noqa: F401 - the fixture

from demos.email.app import Application


def test_form_sends_a_message_with_an_attachment(
    serve: Any, smtpd: Any, certificate: tuple[str, str]  # noqa: F811
) -> None:
    server = smtpd()
    url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{server.port}"
    port = serve(Application({"url": url, "ca_file": certificate[1], "timeout": 10}))
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    page = session.get(base + "/", timeout=10)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    blob = bytes(range(256)) * 40
    response = session.post(
        base + "/send",
        data={"_xsrf": xsrf, "from": "Demo <demo@example.com>", "to": "zoe@example.com",
              "subject": "Hi from the demo", "body": "Hello ✓"},
        files={"attachment": ("data.bin", blob, "application/octet-stream")},
        timeout=10,
    )  # fmt: skip
    assert response.status_code == 200 and "Sent to zoe@example.com." in response.text
    got = server.received[0].message
    assert got["Subject"] == "Hi from the demo"
    assert got.get_body(("plain",)).get_content().strip() == "Hello ✓"
    [attachment] = list(got.iter_attachments())
    assert attachment.get_filename() == "data.bin" and attachment.get_content() == blob

    bad = session.post(base + "/send", data={"_xsrf": xsrf, "from": "nobody", "to": "x@y.z"},
                       timeout=10)  # fmt: skip
    assert bad.status_code == 400 and "nobody" in bad.reason


def test_mail_server_down_answers_503(serve: Any) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    port = serve(Application(f"smtp://127.0.0.1:{dead}?starttls=off", xsrf_cookies=False))
    response = requests.post(
        f"http://127.0.0.1:{port}/send",
        data={"from": "a@example.com", "to": "b@example.com", "subject": "x", "body": "y"},
        timeout=10,
    )
    assert response.status_code == 503 and response.reason == "Mail Unavailable"
