"""HTTPS with clients that offer ALPN, as curl, browsers and most TLS stacks do.

A server that speaks TLS but declares no application protocol answered such a
client's handshake with an ``internal error`` alert (curl: ``TLS alert, internal
error``). The Application declares ``http/1.1`` (``acceptableProtocols``), so every
client below must negotiate it and get the page: ``reactor.listenSSL`` and the
``ssl:`` endpoint in this process, ``cyclone run --ssl-cert`` and ``twistd cyclone
--ssl-cert`` as real commands, and headless Chromium. Without ``chromium`` that test
is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from browser import HEADLESS_FLAGS
from twisted.internet import endpoints, reactor
from twisted.internet import ssl as twisted_ssl

import cyclone.web
from cyclone.testing import call

pytestmark = pytest.mark.timeout(90)

PAGE = "<!doctype html><html><body><p id=msg>hello over TLS</p></body></html>"
TWISTD = str(Path(sys.executable).parent / "twistd")


class PageHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write(PAGE)


def make_app():
    return cyclone.web.Application([(r"/", PageHandler)])


APP_MODULE = f"""
import cyclone.web


class PageHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write({PAGE!r})


Application = cyclone.web.Application([(r"/", PageHandler)])
"""


class TLSPort(int):
    """The port number; ``alpn``: whether this way of listening negotiates ALPN."""

    alpn: bool


@pytest.fixture(params=["listenSSL", "ssl-endpoint", "listenSSL-legacy-context"])
def tls_port(request, certificate):
    """An Application served over TLS in this process, each way Twisted offers.

    ``CertificateOptions`` (what ``listenSSL`` gets from ``PrivateCertificate.options()``
    and what the ``ssl:`` endpoint builds) negotiates ALPN with the factory's
    ``acceptableProtocols``. The legacy ``DefaultOpenSSLContextFactory`` negotiates
    none: a client offering ALPN falls back to HTTP/1.1, and must still get the page.
    """
    key, cert = certificate
    app = make_app()
    if request.param == "listenSSL":
        pem = Path(cert).read_text() + Path(key).read_text()
        options = twisted_ssl.PrivateCertificate.loadPEM(pem).options()
        port = call(reactor.listenSSL, 0, app, options, interface="127.0.0.1")
    elif request.param == "ssl-endpoint":
        endpoint = endpoints.serverFromString(
            reactor, f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"
        )
        port = call(endpoint.listen, app)
    else:
        factory = twisted_ssl.DefaultOpenSSLContextFactory(key, cert)
        port = call(reactor.listenSSL, 0, app, factory, interface="127.0.0.1")
    number = TLSPort(port.getHost().port)
    number.alpn = request.param != "listenSSL-legacy-context"
    yield number
    call(port.stopListening)


def curl(url: str) -> subprocess.CompletedProcess:
    """Plain ``curl -sk``: it offers ALPN h2 and http/1.1, as it does by default."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    return subprocess.run(
        ["curl", "-sSk", "-m", "20", "-w", "\\n%{http_version} %{response_code}", url],
        capture_output=True,
        text=True,
        timeout=30,
    )


def assert_curl_got_the_page(url: str) -> None:
    result = curl(url)
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    assert status == "1.1 200", result.stdout + result.stderr
    assert body == PAGE


def test_curl_offering_h2_and_http11_gets_http11(tls_port):
    assert_curl_got_the_page(f"https://127.0.0.1:{tls_port}/")


def test_python_ssl_offering_h2_and_http11_selects_http11(tls_port):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2", "http/1.1"])
    raw = socket.create_connection(("127.0.0.1", int(tls_port)), timeout=10)
    with context.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.selected_alpn_protocol() == ("http/1.1" if tls_port.alpn else None)
        tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := tls.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert body.decode() == PAGE


def serve_command(command: list[str], cwd: Path) -> tuple[subprocess.Popen, str]:
    """Start a server command; the https URL it announces (once listening)."""
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seen = []
    for line in proc.stdout:
        seen.append(line)
        found = re.search(r"serving app\.Application on (\S+)$", line)
        if found:
            return proc, found.group(1)
    proc.wait(10)
    raise AssertionError(f"exited ({proc.returncode}) without serving:\n{''.join(seen)}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "app.py").write_text(APP_MODULE)
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "cyclone", "run"], [TWISTD, "-n", "--pidfile=", "cyclone"]],
    ids=["cyclone-run", "twistd"],
)
def test_the_commands_serve_https_to_curl(command, app_dir, certificate):
    key, cert = certificate
    proc, url = serve_command(
        [*command, "-r", "app.Application", "-p", "0", "--ssl-cert", cert, "--ssl-key", key],
        app_dir,
    )
    try:
        assert re.fullmatch(r"https://127\.0\.0\.1:\d+/", url)
        assert_curl_got_the_page(url)
    finally:
        stop(proc)


def test_chromium_loads_the_page_over_https(chromium, certificate, tmp_path):
    key, cert = certificate
    endpoint = endpoints.serverFromString(
        reactor, f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    )
    port = call(endpoint.listen, make_app())  # negotiates ALPN, as cyclone run --ssl-cert
    try:
        browser = subprocess.Popen(
            [
                chromium,
                *HEADLESS_FLAGS,
                "--ignore-certificate-errors",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--dump-dom",
                f"https://127.0.0.1:{port.getHost().port}/",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        try:
            dom, _ = browser.communicate(timeout=60)
        finally:
            if browser.poll() is None:
                os.killpg(browser.pid, signal.SIGKILL)
                browser.wait(10)
    finally:
        call(port.stopListening)
    assert '<p id="msg">hello over TLS</p>' in dom, dom
