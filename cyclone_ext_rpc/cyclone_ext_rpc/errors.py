"""RPC errors and how one error maps to each protocol.

A method raises :class:`JsonRpcError`, ``xmlrpc.client.Fault`` or
``cyclone.web.HTTPError``; whatever the protocol that called it, the client sees
the same code and message (an error object in JSON-RPC, a fault in XML-RPC).
Any other exception is an internal error: logged with its traceback, sent only
with ``debug=True``.
"""

from __future__ import annotations

import http.client
import traceback
from typing import Any
from xmlrpc.client import Fault

from cyclone.web import HTTPError

__all__ = [
    "FAILURE",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "NOT_FOUND",
    "PARSE_ERROR",
    "SERVER_ERROR",
    "UNAUTHORIZED",
    "Fault",
    "JsonRpcError",
    "error_of",
]

# JSON-RPC 2.0, section 5.1 (also used by the XML-RPC fault interoperability codes).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# Implementation-defined server errors (-32000 to -32099).
SERVER_ERROR = -32000
UNAUTHORIZED = -32001

# twisted.web.xmlrpc's and cyclone 1.x's fault codes.
NOT_FOUND = 8001
FAILURE = 8002

MESSAGES = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
    INTERNAL_ERROR: "Internal error",
    SERVER_ERROR: "Server error",
    UNAUTHORIZED: "Unauthorized",
}


class JsonRpcError(Exception):
    """A JSON-RPC error object: ``code`` (int), ``message`` (str), optional ``data``.

    Raised by methods for their own errors (use codes outside -32768..-32000), and by
    the clients when the server answers with an error.
    """

    def __init__(self, code: int, message: str | None = None, data: Any = None) -> None:
        self.code = int(code)
        self.message = message if message is not None else MESSAGES.get(self.code, "Error")
        self.data = data
        super().__init__(self.code, self.message, data)

    def __str__(self) -> str:
        text = f"{self.code} {self.message}"
        return text if self.data is None else f"{text} ({self.data!r})"

    def to_dict(self) -> dict[str, Any]:
        """The error object of a response (``data`` only when there is some)."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def error_of(exc: BaseException, debug: bool = False) -> tuple[JsonRpcError, bool]:
    """``(the error a client sees, whether it is unexpected)`` for an exception of a method.

    Unexpected errors are internal errors; their traceback is ``data`` when ``debug``.
    """
    if isinstance(exc, JsonRpcError):
        return exc, False
    if isinstance(exc, Fault):
        return JsonRpcError(exc.faultCode, exc.faultString), False
    if isinstance(exc, HTTPError):
        status = exc.status_code
        code = UNAUTHORIZED if status in (401, 403) else SERVER_ERROR
        # log_message is for the log only, as in cyclone.web.
        message = exc.reason or http.client.responses.get(status) or MESSAGES[code]
        return JsonRpcError(code, message, {"status": status}), False
    data = None
    if debug:
        data = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return JsonRpcError(INTERNAL_ERROR, "Internal error", data), True
