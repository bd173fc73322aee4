"""Fixtures for the realtime extension: raw WebSocket clients, a TLS certificate."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from wsraw import RawClient


@pytest.fixture
def raw_clients() -> Iterator[Any]:
    """``raw_clients(port, path, headers, early) -> RawClient``, all closed after the test."""
    made: list[RawClient] = []

    def connect(
        port: int, path: str = "/", headers: dict[str, str] | None = None, early: bytes = b""
    ) -> RawClient:
        client = RawClient(port, path, headers, early)
        made.append(client)
        return client

    yield connect
    for client in made:
        client.close()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: Any) -> tuple[str, str]:
    """A self-signed (key.pem, cert.pem) for 127.0.0.1 and localhost."""
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
    )  # fmt: skip
    return str(key), str(cert)
