"""Escaping and unescaping for HTML, URLs and JSON, plus str/bytes conversions.

Names and behaviour follow Tornado's ``tornado.escape`` so templates and handlers
port unchanged.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from typing import Any, overload

_XHTML_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})


def xhtml_escape(value: str | bytes) -> str:
    """Escape ``& < > " '`` so the value is safe in HTML text and attribute values."""
    return to_unicode(value).translate(_XHTML_ESCAPE)


def xhtml_unescape(value: str | bytes) -> str:
    """Turn HTML entities (named, decimal and hex) back into characters."""
    return html.unescape(to_unicode(value))


def json_encode(value: Any) -> str:
    """Serialize ``value`` as JSON that is also safe inside an HTML ``<script>`` element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def json_decode(value: str | bytes) -> Any:
    """Parse JSON from str or UTF-8 bytes."""
    return json.loads(value)


_SQUEEZE = re.compile(r"[\x00-\x20]+")


def squeeze(value: str) -> str:
    """Collapse each run of whitespace into a single space and strip the ends."""
    return _SQUEEZE.sub(" ", value).strip()


def url_escape(value: str | bytes, plus: bool = True) -> str:
    """Percent-encode ``value`` for a URL; with ``plus`` spaces become ``+`` (query style)."""
    quote = urllib.parse.quote_plus if plus else urllib.parse.quote
    return quote(utf8(value))


@overload
def url_unescape(value: str | bytes, encoding: None, plus: bool = True) -> bytes: ...
@overload
def url_unescape(value: str | bytes, encoding: str = "utf-8", plus: bool = True) -> str: ...


def url_unescape(
    value: str | bytes, encoding: str | None = "utf-8", plus: bool = True
) -> str | bytes:
    """Decode a percent-encoded value; ``encoding=None`` returns bytes."""
    if encoding is None:
        if plus:
            value = to_basestring(value).replace("+", " ")
        return urllib.parse.unquote_to_bytes(value)
    unquote = urllib.parse.unquote_plus if plus else urllib.parse.unquote
    return unquote(to_basestring(value), encoding=encoding)


def utf8(value: Any) -> Any:
    """Encode str as UTF-8 bytes; bytes and None pass through unchanged."""
    if value is None or isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected bytes, str or None; got {type(value).__name__}")
    return value.encode("utf-8")


def to_unicode(value: Any) -> Any:
    """Decode UTF-8 bytes to str; str and None pass through unchanged."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, bytes):
        raise TypeError(f"expected bytes, str or None; got {type(value).__name__}")
    return value.decode("utf-8")


_unicode = to_unicode
native_str = to_unicode
to_basestring = to_unicode


def recursive_unicode(obj: Any) -> Any:
    """Decode every bytes value inside dicts, lists and tuples to str."""
    if isinstance(obj, dict):
        return {recursive_unicode(k): recursive_unicode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [recursive_unicode(i) for i in obj]
    if isinstance(obj, tuple):
        return tuple(recursive_unicode(i) for i in obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8")
    return obj
