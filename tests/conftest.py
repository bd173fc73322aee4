"""Shared fixtures: one reactor thread for the session, servers on free loopback ports."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

# The reactor the in-process servers run on, installed before anything imports
# twisted.internet.reactor: cyclone's epoll reactor (what ``cyclone run`` uses),
# or Twisted's own with CYCLONE_TEST_REACTOR=epoll (.ci/run runs the wire tests
# both ways).
if os.environ.get("CYCLONE_TEST_REACTOR", "cyclone") == "epoll":
    from twisted.internet import epollreactor
else:
    from cyclone import epollreactor
epollreactor.install()

from cyclone.testing import ReactorThread, call, listen_tcp  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def reactor_thread() -> Iterator[None]:
    ReactorThread.start()
    yield
    ReactorThread.stop()


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(app) -> port``: listen on 127.0.0.1, stop listening after the test."""
    ports: list[Any] = []

    def _serve(factory: Any) -> int:
        port = listen_tcp(factory)
        ports.append(port)
        return port.getHost().port

    yield _serve
    for port in ports:
        call(port.stopListening)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed (key.pem, cert.pem) for localhost and 127.0.0.1, made with openssl."""
    directory = tmp_path_factory.mktemp("tls")
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
            "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return str(key), str(cert)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium; a skip without it, a failure under CI (.ci/run installs it)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is needed under CI (.ci/run installs it)")
    pytest.skip("chromium is not installed")

