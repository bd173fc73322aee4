"""The traceback page served for uncaught errors when ``debug`` (``serve_traceback``) is on."""

from __future__ import annotations

import traceback
from typing import Any

from cyclone.escape import xhtml_escape


def traceback_page(status_code: int, reason: str, exc_info: tuple[Any, Any, Any]) -> str:
    """An HTML page with the status and the escaped traceback of ``exc_info``."""
    lines = traceback.format_exception(*exc_info)
    body = xhtml_escape("".join(lines))
    title = xhtml_escape(f"{status_code}: {reason}")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:2em}"
        "pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head>"
        f"<body><h1>{title}</h1><pre>{body}</pre></body></html>"
    )
