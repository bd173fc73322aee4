"""What `cyclone run` and the twistd plugin share: loading an app, naming an endpoint."""

from __future__ import annotations

import os
import sys
from typing import Any

from cyclone._util import import_object
from cyclone.httpserver import HTTPServer


def load_application(name: str, command: str = "cyclone run") -> HTTPServer:
    """Import ``name`` (an Application, or a callable returning one) from the cwd too."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    obj: Any = import_object(name)
    if not isinstance(obj, HTTPServer) and callable(obj):
        try:
            obj = obj()
        except TypeError as e:
            raise SystemExit(f"{command}: {name} is not an Application factory: {e}") from None
    if not isinstance(obj, HTTPServer):
        raise SystemExit(f"{command}: {name} is not an Application (got {type(obj).__name__})")
    return obj


def endpoint_description(
    port: int | str,
    listen: str,
    unix: str | None = None,
    ssl_cert: str | None = None,
    ssl_key: str | None = None,
) -> str:
    """A Twisted server endpoint string for these listening options."""
    if unix:
        return f"unix:{unix}"
    if ssl_cert:
        key = ssl_key or ssl_cert
        return f"ssl:{port}:interface={listen}:certKey={ssl_cert}:privateKey={key}"
    return f"tcp:{port}:interface={listen}"
