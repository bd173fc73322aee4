"""Fixtures for the RPC extension: the test application on a real port."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rpc_app import application
from rpc_http import post


@pytest.fixture
def port(serve: Any) -> int:
    return serve(application())


@pytest.fixture
def debug_port(serve: Any) -> int:
    return serve(application(debug=True))


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
