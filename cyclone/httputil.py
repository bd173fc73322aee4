"""HTTP utilities shared by the server and the web layer.

Strategy: plain data structures and pure functions with no reactor in sight, so
every rule here (header folding, limits, cookie and body parsing) is testable on
its own. The connection (``cyclone.httpserver``) and the handlers
(``cyclone.web``) both build on this module; it imports neither.
"""

from __future__ import annotations

import calendar
import datetime
import email.utils
import ipaddress
import re
import time
import urllib.parse
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass, fields
from http import HTTPStatus
from typing import Any

from cyclone._multipart import (
    HTTPFile,
    MultipartError,
    SpooledBuffer,
    parse_header,
    parse_multipart_form_data,
)
from cyclone._util import ObjectDict

__all__ = [
    "HTTPFile",
    "HTTPHeaders",
    "HTTPInputError",
    "HTTPLimits",
    "MultipartError",
    "SpooledBuffer",
    "apply_xheaders",
    "format_timestamp",
    "http_date",
    "is_token",
    "is_valid_host",
    "is_valid_ip",
    "normalize_header_name",
    "parse_body_arguments",
    "parse_cookie",
    "parse_header",
    "parse_multipart_form_data",
    "responses",
    "split_absolute_form",
    "split_host_and_port",
    "url_concat",
]

responses: dict[int, str] = {s.value: s.phrase for s in HTTPStatus}
"""Reason phrases by status code."""


class HTTPInputError(ValueError):
    """A request that cannot be interpreted; answered with 400 (or ``status``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# -- header names ---------------------------------------------------------------

_normalized: dict[str, str] = {}


def normalize_header_name(name: str) -> str:
    """``content-TYPE`` → ``Content-Type``, cached because the same few names repeat."""
    try:
        return _normalized[name]
    except KeyError:
        norm = "-".join(w.capitalize() for w in name.split("-"))
        if len(_normalized) < 4096:
            _normalized[name] = norm
        return norm


class HTTPHeaders(MutableMapping[str, str]):
    """Case-insensitive headers that remember repeated fields.

    ``headers["Set-Cookie"]`` joins repeated values with a comma, as HTTP allows;
    ``get_list(name)`` returns each value separately and ``get_all()`` yields every
    ``(name, value)`` pair in order of arrival.
    """

    __slots__ = ("_dict", "_lists")

    def __init__(self, *args: Any, **kwargs: str) -> None:
        self._dict: dict[str, str] = {}
        self._lists: dict[str, list[str]] = {}
        if not args and not kwargs:
            return  # the wire makes one empty set per request: skip update()
        if len(args) == 1 and not kwargs and isinstance(args[0], HTTPHeaders):
            for k, v in args[0].get_all():
                self.add(k, v)
        else:
            self.update(*args, **kwargs)

    def add(self, name: str, value: str) -> None:
        """Add a value, keeping any earlier value of the same name."""
        norm = normalize_header_name(name)
        existing = self._lists.get(norm)
        if existing is None:
            self._dict[norm] = value
            self._lists[norm] = [value]
        else:
            existing.append(value)
            self._dict[norm] = self._dict[norm] + "," + value

    def get_list(self, name: str) -> list[str]:
        """Every value of ``name``, or an empty list."""
        return list(self._lists.get(normalize_header_name(name), ()))

    getlist = get_list

    def get_all(self) -> Iterator[tuple[str, str]]:
        """Every ``(name, value)`` pair, repeated names once per value."""
        for name, values in self._lists.items():
            for value in values:
                yield name, value

    def parse_line(self, line: str) -> None:
        """Add one ``Name: value`` line."""
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HTTPInputError(f"malformed header line: {line[:100]!a}")
        self.add(name, value.strip(" \t"))

    @classmethod
    def parse(cls, text: str) -> HTTPHeaders:
        """Parse a block of CRLF-separated header lines (no folding)."""
        headers = cls()
        for line in text.split("\r\n"):
            if line:
                headers.parse_line(line)
        return headers

    def __setitem__(self, name: str, value: str) -> None:
        norm = normalize_header_name(name)
        self._dict[norm] = value
        self._lists[norm] = [value]

    def __getitem__(self, name: str) -> str:
        return self._dict[normalize_header_name(name)]

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return self._dict.get(normalize_header_name(name), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize_header_name(name) in self._dict

    def __delitem__(self, name: str) -> None:
        norm = normalize_header_name(name)
        del self._dict[norm]
        del self._lists[norm]

    def __len__(self) -> int:
        return len(self._dict)

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def copy(self) -> HTTPHeaders:
        return HTTPHeaders(self)

    __copy__ = copy

    def __str__(self) -> str:
        return "".join(f"{n}: {v}\r\n" for n, v in self.get_all())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self._dict)!r})"


# -- limits ---------------------------------------------------------------------


@dataclass
class HTTPLimits:
    """Server limits; each field is also an Application setting of the same name.

    Sizes are bytes, times seconds. ``None`` for a timeout turns it off.
    """

    max_header_size: int = 64 * 1024
    max_headers: int = 100
    max_body_size: int = 100 * 1024 * 1024
    max_pipelined_requests: int = 16
    idle_connection_timeout: float | None = 60.0
    header_timeout: float | None = 20.0
    body_timeout: float | None = 120.0
    write_timeout: float | None = 60.0
    body_spill_threshold: int = 1024 * 1024
    max_multipart_parts: int = 1000
    max_multipart_header_size: int = 16 * 1024
    close_grace: float = 10.0
    idle_close_grace: float = 1.0

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> HTTPLimits:
        values = {f.name: settings[f.name] for f in fields(cls) if f.name in settings}
        return cls(**values)


# -- dates ----------------------------------------------------------------------


def format_timestamp(ts: float | int | datetime.datetime | time.struct_time | tuple) -> str:
    """Format a time as an HTTP date: ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    if isinstance(ts, (int, float)):
        seconds = ts
    elif isinstance(ts, (tuple, time.struct_time)):
        seconds = calendar.timegm(ts)
    elif isinstance(ts, datetime.datetime):
        seconds = calendar.timegm(ts.utctimetuple()) if ts.tzinfo is None else ts.timestamp()
    else:
        raise TypeError(f"unknown timestamp type: {ts!r}")
    return email.utils.formatdate(seconds, usegmt=True)


_date_cache: list[Any] = [0, ""]


def http_date() -> str:
    """The current time as an HTTP date, recomputed at most once a second."""
    now = int(time.time())
    if now != _date_cache[0]:
        _date_cache[0] = now
        _date_cache[1] = email.utils.formatdate(now, usegmt=True)
    return _date_cache[1]


def parse_http_date(value: str) -> datetime.datetime | None:
    """Parse an HTTP date into an aware UTC datetime, or None when malformed."""
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


# -- URLs, hosts and addresses --------------------------------------------------


def url_concat(url: str, args: dict[str, Any] | Iterable[tuple[str, Any]] | None) -> str:
    """Append query arguments to ``url``, keeping the ones it already has."""
    if not args:
        return url
    parsed = urllib.parse.urlparse(url)
    query = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
    items = args.items() if isinstance(args, dict) else args
    query.extend(items)
    return urllib.parse.urlunparse(parsed._replace(query=urllib.parse.urlencode(query)))


def is_valid_ip(ip: str) -> bool:
    """True for a literal IPv4 or IPv6 address."""
    if not ip or "\x00" in ip:
        return False
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return False
    return True


# RFC 9110 7.2 and RFC 3986 3.2.2: a reg-name or IPv4 address (same characters),
# or an IP literal in brackets, then an optional port made of digits.
_HOST_RE = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=%]*|\[([0-9A-Fa-f:.]+)\])(?::[0-9]*)?")
_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def is_valid_host(value: str) -> bool:
    """True for a valid ``Host`` value: ``name``, ``1.2.3.4`` or ``[::1]``, with ``:port``."""
    match = _HOST_RE.fullmatch(value)
    if match is None:
        return False
    literal = match.group(1)
    return literal is None or is_valid_ip(literal)


def is_token(value: bytes) -> bool:
    """True for a non-empty RFC 9110 token (a method or header name)."""
    return bool(value) and all(b in _TCHAR for b in value)


def split_absolute_form(target: str) -> tuple[str, str]:
    """``http://host/path?q`` → (``/path?q``, ``host``): the absolute-form of RFC 9112 3.2.2.

    Raises :class:`HTTPInputError` for another scheme or an invalid host.
    """
    scheme, sep, rest = target.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise HTTPInputError(f"invalid request target {target[:100]!a}")
    end = len(rest)
    for mark in "/?":
        pos = rest.find(mark)
        if 0 <= pos < end:
            end = pos
    host, path = rest[:end], rest[end:]
    if not host or not is_valid_host(host):
        raise HTTPInputError("invalid host in request target")
    return ("/" + path if path[:1] == "?" else path or "/"), host


def apply_xheaders(headers: HTTPHeaders, remote_ip: str, protocol: str) -> tuple[str, str]:
    """The client address and scheme that a trusted proxy reports, when valid.

    ``X-Real-Ip``, else the last hop of ``X-Forwarded-For``, replaces ``remote_ip``
    if it is an IP address; ``X-Scheme`` or the last ``X-Forwarded-Proto`` replaces
    ``protocol`` if it is ``http`` or ``https``. Anything else is ignored.
    """
    forwarded = headers.get("X-Forwarded-For")
    ip = headers.get("X-Real-Ip") or (forwarded.split(",")[-1].strip() if forwarded else None)
    if ip and is_valid_ip(ip):
        remote_ip = ip
    proto = headers.get("X-Scheme") or headers.get("X-Forwarded-Proto")
    if proto:
        proto = proto.split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            protocol = proto
    return remote_ip, protocol


def split_host_and_port(netloc: str) -> tuple[str, int | None]:
    """``example.com:8080`` → ``("example.com", 8080)``; IPv6 brackets are removed."""
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = netloc.partition(":")
    return host, (int(port) if port.isdigit() else None)


# -- request bodies ---------------------------------------------------------------


def parse_qs_bytes(qs: str | bytes, keep_blank_values: bool = True) -> dict[str, list[bytes]]:
    """Parse a query string into ``{name: [bytes, ...]}`` as Tornado does.

    Names are decoded as UTF-8 (invalid bytes replaced); values stay bytes so the
    handler's ``decode_argument`` decides how to decode them.
    """
    if isinstance(qs, bytes):
        qs = qs.decode("latin-1")
    result: dict[str, list[bytes]] = {}
    for name, value in urllib.parse.parse_qsl(
        qs, keep_blank_values=keep_blank_values, encoding="latin-1", errors="strict"
    ):
        key = name.encode("latin-1").decode("utf-8", "replace")
        result.setdefault(key, []).append(value.encode("latin-1"))
    return result


def parse_body_arguments(
    content_type: str,
    body: bytes | SpooledBuffer,
    arguments: dict[str, list[bytes]],
    files: dict[str, list[HTTPFile]],
    headers: HTTPHeaders | None = None,
    limits: HTTPLimits | None = None,
) -> None:
    """Parse a urlencoded or multipart body into ``arguments`` and ``files``.

    Raises :class:`HTTPInputError` for a body that cannot be parsed; other
    content types are left alone.
    """
    if headers is not None and "Content-Encoding" in headers:
        encoding = headers["Content-Encoding"][:100]
        raise HTTPInputError(f"unsupported Content-Encoding {encoding!a} for a form body", 415)
    ctype, params = parse_header(content_type)
    if ctype == "application/x-www-form-urlencoded":
        raw = body.getvalue() if isinstance(body, SpooledBuffer) else body
        try:
            parsed = parse_qs_bytes(raw)
        except (UnicodeError, ValueError) as e:
            raise HTTPInputError(f"invalid x-www-form-urlencoded body: {e}") from None
        for name, values in parsed.items():
            arguments.setdefault(name, []).extend(values)
    elif ctype == "multipart/form-data":
        boundary = params.get("boundary")
        if not boundary:
            raise HTTPInputError("multipart/form-data without a boundary")
        try:
            parse_multipart_form_data(
                boundary.encode("latin-1"), body, arguments, files, limits or HTTPLimits()
            )
        except MultipartError as e:
            raise HTTPInputError(f"invalid multipart/form-data body: {e}", e.status) from None


# -- cookies ----------------------------------------------------------------------


def parse_cookie(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header the way browsers send it, in linear time.

    Pairs are split on ``;``; a pair without ``=`` is a value with an empty name
    (as browsers treat it); surrounding quotes are removed. The first occurrence of
    a name wins, as in RFC 6265's recommended order.
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        if not sep:
            name, value = "", name
        name = name.strip(" \t")
        value = value.strip(" \t")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if (name or value) and name not in cookies:
            cookies[name] = value
    return cookies


def cookie_dict(header: str | None) -> dict[str, ObjectDict]:
    """Cookies as ``{name: ObjectDict(value=...)}`` for code that expects Morsels."""
    return {k: ObjectDict(key=k, value=v) for k, v in parse_cookie(header or "").items()}
