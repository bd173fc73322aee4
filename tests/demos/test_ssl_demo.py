"""The ssl demo: a certificate from its script, then HTTP and HTTPS apps in one process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from demo_support import CYCLONE, ROOT
from servers import free_port


def curl(*args: str) -> tuple[int, str, str]:
    """(status, Location header, body) of one request."""
    out = subprocess.run(
        ["curl", "-s", "--max-time", "10", "-w", "\n%{http_code} %{redirect_url}", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, f"curl failed ({out.returncode}): {out.stderr}"
    body, _, tail = out.stdout.rpartition("\n")
    code, _, location = tail.partition(" ")
    return int(code), location, body


@pytest.fixture
def cert_dir(tmp_path):
    made = subprocess.run(
        ["sh", str(ROOT / "demos/ssl/make_certificate.sh"), str(tmp_path / "tls")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    return tmp_path / "tls"


def check_both_ports(http: int, https: int, cert: str) -> None:
    code, _, body = curl(f"http://127.0.0.1:{http}/")
    assert code == 200 and "This is the HTTP application" in body and "<code>http</code>" in body
    code, location, _ = curl(f"http://127.0.0.1:{http}/account")
    assert (code, location) == (301, f"https://127.0.0.1:{https}/account")
    code, _, body = curl("--cacert", cert, f"https://127.0.0.1:{https}/")
    assert code == 200 and "This is the HTTPS application" in body
    code, _, body = curl("--cacert", cert, "-L", f"http://127.0.0.1:{http}/account")
    assert code == 200 and json.loads(body) == {"account": "demo", "protocol": "https"}
    # The certificate is checked: without it curl refuses the self-signed server.
    assert subprocess.run(
        ["curl", "-s", "--max-time", "10", f"https://127.0.0.1:{https}/"], timeout=30
    ).returncode == 60  # fmt: skip


def test_cyclone_run_serves_both_applications(demo_process, cert_dir):
    http, https = free_port(), free_port()
    server = demo_process(
        [*CYCLONE, "run", "-r", "demos.ssl.app.HTTPApplication", "-c", str(https),
         "-p", str(http), "--ssl-app", "demos.ssl.app.HTTPSApplication",
         "--ssl-port", str(https), "--ssl-cert", str(cert_dir / "server.crt"),
         "--ssl-key", str(cert_dir / "server.key")],
        http,
    )  # fmt: skip
    server.wait_for_port(https)
    check_both_ports(http, https, str(cert_dir / "server.crt"))
    assert server.stop(signal.SIGINT) == 0, server.output()


def test_the_script_serves_both_applications(demo_process, cert_dir):
    http, https = free_port(), free_port()
    server = demo_process(
        [sys.executable, str(ROOT / "demos/ssl/app.py"), "--port", str(http),
         "--ssl-port", str(https)],
        http,
        cwd=cert_dir,
    )  # fmt: skip
    server.wait_for_port(https)
    check_both_ports(http, https, str(cert_dir / "server.crt"))
    server.stop()
