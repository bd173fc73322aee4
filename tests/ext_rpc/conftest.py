"""Fixtures for the RPC extension: the test application on a real port."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from rpc_app import application


@pytest.fixture
def port(serve: Any) -> int:
    return serve(application())


@pytest.fixture
def debug_port(serve: Any) -> int:
    return serve(application(debug=True))


def post(port: int, path: str, body: bytes | str, headers: dict[str, str] | None = None):
    """POST ``body``; returns (status, headers, body bytes)."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture
def jsonrpc(port: int) -> Callable[..., Any]:
    """``jsonrpc(payload, path="/json")`` -> the decoded answer (None for 204)."""

    def _call(payload: Any, path: str = "/json", headers: dict[str, str] | None = None) -> Any:
        body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
        status, _headers, data = post(port, path, body, headers)
        if status == 204:
            assert data == b""
            return None
        assert status == 200, (status, data)
        return json.loads(data)

    return _call
