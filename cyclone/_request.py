"""The HTTP request as handlers see it.

Strategy: everything the connection already knows (method, URI, headers,
addresses) is set once; everything that costs work and that many handlers never
touch (arguments, body parsing, cookies) is computed on first access.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from cyclone._multipart import MultipartStream
from cyclone.httputil import (
    HTTPFile,
    HTTPHeaders,
    HTTPInputError,
    HTTPLimits,
    SpooledBuffer,
    cookie_dict,
    parse_body_arguments,
    parse_qs_bytes,
    split_host_and_port,
)

if TYPE_CHECKING:
    from cyclone._connection import RequestConnection

_DEFAULT_LIMITS = HTTPLimits()


class HTTPRequest:
    """One HTTP request.

    ``arguments`` merges ``query_arguments`` and ``body_arguments`` (values are
    bytes, as in Tornado); ``files`` maps form field names to lists of
    :class:`~cyclone.httputil.HTTPFile`. A body that cannot be parsed raises
    :class:`~cyclone.httputil.HTTPInputError` on first access, which the web
    layer answers with 400.
    """

    def __init__(
        self,
        method: str,
        uri: str,
        version: str = "HTTP/1.1",
        headers: HTTPHeaders | None = None,
        body: bytes | SpooledBuffer | MultipartStream | None = None,
        remote_ip: str | None = None,
        protocol: str | None = None,
        host: str | None = None,
        files: dict[str, list[HTTPFile]] | None = None,
        connection: RequestConnection | None = None,
    ) -> None:
        self.method = method
        self.uri = uri
        self.version = version
        self.headers = headers if headers is not None else HTTPHeaders()
        self.remote_ip = remote_ip or "127.0.0.1"
        self.protocol = protocol or "http"
        self.host = host or self.headers.get("Host") or "127.0.0.1"
        self.connection = connection
        self._host_name: str | None = None
        # Whether the client's framing allows another request on this connection.
        self.keep_alive = True
        self.path, _, self.query = uri.partition("?")
        self._start_time = time.time()
        self._finish_time: float | None = None
        self._body_buffer: SpooledBuffer | None = None
        self._body: bytes | None = None
        self._multipart: MultipartStream | None = None
        if isinstance(body, SpooledBuffer):
            self._body_buffer = body
        elif isinstance(body, MultipartStream):
            # Parsed as it arrived (see MultipartStream); the raw bytes only if small.
            self._multipart = body
            self._body = body.raw
        else:
            self._body = body or b""
        self._files = files
        self._query_arguments: dict[str, list[bytes]] | None = None
        self._body_arguments: dict[str, list[bytes]] | None = None
        self._arguments: dict[str, list[bytes]] | None = None
        self._cookies: dict[str, Any] | None = None
        self._limits = connection.limits if connection is not None else _DEFAULT_LIMITS

    @property
    def host_name(self) -> str:
        """The host without its port, lower-cased (``Example.com:80`` → ``example.com``)."""
        if self._host_name is None:
            self._host_name = split_host_and_port(self.host.lower())[0]
        return self._host_name

    # -- body ----------------------------------------------------------------

    @property
    def body(self) -> bytes:
        """The request body as bytes (read back from disk when it was spilled).

        A multipart/form-data body larger than ``body_spill_threshold`` was parsed as
        it arrived and not kept: read it through ``files`` and ``body_arguments``.
        """
        if self._body is None:
            if self._body_buffer is None:
                raise ValueError(
                    "the raw multipart/form-data body was larger than body_spill_threshold"
                    " and was not kept: read request.files and request.body_arguments"
                )
            self._body = self._body_buffer.getvalue()
        return self._body

    @body.setter
    def body(self, value: bytes) -> None:
        self._body = value
        self._body_buffer = None
        self._multipart = None
        self._body_arguments = self._arguments = self._files = None

    @property
    def body_buffer(self) -> SpooledBuffer:
        """The body as a :class:`SpooledBuffer`, for streaming large uploads."""
        if self._body_buffer is None:
            body = self.body  # raises for a large multipart body that was not kept
            self._body_buffer = SpooledBuffer(self._limits.body_spill_threshold)
            self._body_buffer.write(body)
        return self._body_buffer

    # -- arguments -------------------------------------------------------------

    @property
    def query_arguments(self) -> dict[str, list[bytes]]:
        if self._query_arguments is None:
            self._query_arguments = parse_qs_bytes(self.query) if self.query else {}
        return self._query_arguments

    @query_arguments.setter
    def query_arguments(self, value: dict[str, list[bytes]]) -> None:
        self._query_arguments = value
        self._arguments = None

    def _parse_body(self) -> None:
        stream = self._multipart
        if stream is not None:
            if stream.error is not None:
                self._body_arguments, self._files = {}, {}
                error = stream.error
                raise HTTPInputError(f"invalid multipart/form-data body: {error}", error.status)
            self._body_arguments, self._files = stream.arguments, stream.files
            return
        args: dict[str, list[bytes]] = {}
        files: dict[str, list[HTTPFile]] = {} if self._files is None else self._files
        ctype = self.headers.get("Content-Type")
        has_body = self._body_buffer is not None or bool(self._body)
        if ctype and has_body and self.method not in ("GET", "HEAD"):
            source: bytes | SpooledBuffer = (
                self._body_buffer if self._body_buffer is not None else self.body
            )
            try:
                parse_body_arguments(ctype, source, args, files, self.headers, self._limits)
            except HTTPInputError:
                self._body_arguments, self._files = {}, {}
                raise
        self._body_arguments = args
        self._files = files

    @property
    def body_arguments(self) -> dict[str, list[bytes]]:
        if self._body_arguments is None:
            self._parse_body()
        return self._body_arguments  # type: ignore[return-value]

    @body_arguments.setter
    def body_arguments(self, value: dict[str, list[bytes]]) -> None:
        self._body_arguments = value
        self._arguments = None

    @property
    def files(self) -> dict[str, list[HTTPFile]]:
        if self._body_arguments is None:
            self._parse_body()
        return self._files  # type: ignore[return-value]

    @files.setter
    def files(self, value: dict[str, list[HTTPFile]]) -> None:
        self._files = value

    @property
    def arguments(self) -> dict[str, list[bytes]]:
        if self._arguments is None:
            merged = {k: list(v) for k, v in self.query_arguments.items()}
            for k, v in self.body_arguments.items():
                merged.setdefault(k, []).extend(v)
            self._arguments = merged
        return self._arguments

    @arguments.setter
    def arguments(self, value: dict[str, list[bytes]]) -> None:
        self._arguments = value

    # -- the rest ----------------------------------------------------------------

    @property
    def cookies(self) -> dict[str, Any]:
        """Request cookies by name; each has ``.value`` (like ``http.cookies.Morsel``)."""
        if self._cookies is None:
            self._cookies = cookie_dict(self.headers.get("Cookie"))
        return self._cookies

    def supports_http_1_1(self) -> bool:
        return self.version == "HTTP/1.1"

    def full_url(self) -> str:
        """``protocol://host/uri`` as the client asked for it."""
        return f"{self.protocol}://{self.host}{self.uri}"

    def request_time(self) -> float:
        """Seconds this request took, or has taken so far."""
        end = self._finish_time if self._finish_time is not None else time.time()
        return end - self._start_time

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(protocol={self.protocol!r}, host={self.host!r}, "
            f"method={self.method!r}, uri={self.uri!r}, version={self.version!r}, "
            f"remote_ip={self.remote_ip!r})"
        )
