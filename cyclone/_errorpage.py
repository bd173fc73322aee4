"""Error pages: the status line, headers and page a failed request is answered with.

A collaborator of :class:`cyclone.web.RequestHandler`: plain functions of
explicit values. ``send_error`` asks :func:`error_response` what the error
needs (status, reason, ``Allow``, ``WWW-Authenticate``); the default
``write_error`` renders :func:`plain_page`, or :func:`traceback_page` when the
``serve_traceback`` setting (on under ``debug``) is set. The handler keeps the
life cycle: when to send, asynchronous ``write_error``, the fallback when the
page itself fails.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from twisted.python.failure import Failure

from cyclone._errors import HTTPAuthenticationRequired, HTTPError
from cyclone.escape import xhtml_escape

__all__ = [
    "ErrorResponse",
    "ExcInfo",
    "error_response",
    "exc_info_of",
    "plain_page",
    "traceback_page",
]

ExcInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """What an error response carries besides its page.

    ``reason`` is None for the standard phrase; ``allow`` is the ``Allow``
    header of a 405; ``challenges`` are the ``WWW-Authenticate`` values of a 401.
    """

    status_code: int
    reason: str | None
    allow: str | None
    challenges: tuple[str, ...]


def error_response(
    status_code: int,
    reason: str | None,
    exc_info: ExcInfo | None,
    supported_methods: Sequence[str],
) -> ErrorResponse:
    """The status, reason and headers for answering ``status_code``.

    A status outside 100-599 becomes 500; without ``reason``, an
    :class:`~cyclone.web.HTTPError` in ``exc_info`` gives its own.
    """
    error = exc_info[1] if exc_info is not None else None
    if reason is None and isinstance(error, HTTPError):
        reason = error.reason
    if not 100 <= status_code <= 599:
        status_code = 500
    allow = ", ".join(supported_methods) if status_code == 405 else None
    challenges = tuple(error.challenges()) if isinstance(error, HTTPAuthenticationRequired) else ()
    return ErrorResponse(status_code, reason, allow, challenges)


def exc_info_of(error: BaseException, failure: Failure | None = None) -> ExcInfo:
    """The ``(type, value, traceback)`` of ``error``, from ``failure`` when given."""
    if failure is not None:
        return (failure.type, failure.value, failure.getTracebackObject())
    exc_info = sys.exc_info()
    if exc_info[1] is not error:
        return (type(error), error, error.__traceback__)
    return exc_info


def plain_page(status_code: int, reason: str) -> str:
    """The default error page: ``<code>: <reason>``, escaped, as title and body."""
    message = xhtml_escape(reason)
    return (
        f"<html><title>{status_code}: {message}</title><body>{status_code}: {message}</body></html>"
    )


def traceback_page(status_code: int, reason: str, exc_info: Any) -> str:
    """The debug error page: the status and the escaped traceback of ``exc_info``."""
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
