"""The HTTP helper of the RPC tests: a POST with urllib that returns errors as answers."""

from __future__ import annotations

import urllib.error
import urllib.request


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
