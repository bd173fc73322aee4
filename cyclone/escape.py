"""Escaping and unescaping for HTML, URLs and JSON, plus str/bytes conversions.

Names and output follow Tornado 6's ``tornado.escape`` exactly, so templates and
handlers port unchanged; ``tests/core/test_escape_tornado.py`` runs Tornado's
own escape tests against this module. One deliberate difference: where Tornado
raises (``url_unescape`` of bytes that are not UTF-8 with ``encoding=None``),
this module returns the decoded bytes.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from collections.abc import Callable
from typing import Any, overload

__all__ = [
    "json_decode",
    "json_encode",
    "linkify",
    "native_str",
    "parse_qs_bytes",
    "recursive_unicode",
    "squeeze",
    "to_basestring",
    "to_unicode",
    "url_escape",
    "url_unescape",
    "utf8",
    "xhtml_escape",
    "xhtml_unescape",
]


def xhtml_escape(value: str | bytes) -> str:
    """Escape ``& < > " '`` (``'`` becomes ``&#x27;``) for HTML text and quoted attributes."""
    return html.escape(to_unicode(value), quote=True)


def xhtml_unescape(value: str | bytes) -> str:
    """Turn HTML character references (named, decimal, hex) back into characters."""
    return html.unescape(to_unicode(value))


def json_encode(value: Any) -> str:
    """``json.dumps(value)`` that never contains ``</``, so it is safe in a ``<script>``."""
    return json.dumps(value).replace("</", "<\\/")


def json_decode(value: str | bytes) -> Any:
    """Parse JSON from str or UTF-8 bytes."""
    return json.loads(value)


_WHITESPACE_RUN = re.compile(r"[\x00-\x20]+")


def squeeze(value: str) -> str:
    """Collapse each run of whitespace (and control characters) to one space; strip the ends."""
    return _WHITESPACE_RUN.sub(" ", value).strip()


def url_escape(value: str | bytes, plus: bool = True) -> str:
    """Percent-encode ``value``; with ``plus`` (query style) spaces are ``+`` and ``/`` is
    encoded, without it (path style) spaces are ``%20`` and ``/`` stays."""
    if plus:
        return urllib.parse.quote_plus(value)
    return urllib.parse.quote(value)


# The standard library's unquote_to_bytes makes a list item per "%": on a large
# body that costs about twenty times its size. Decoding in slices keeps that
# overhead to one slice's worth.
_UNQUOTE_SLICE = 2048


def _unquote_to_bytes(data: bytes) -> bytes:
    """``urllib.parse.unquote_to_bytes(data)`` with memory bounded by a slice, not the input."""
    if b"%" not in data:
        return data
    if len(data) <= _UNQUOTE_SLICE:
        return urllib.parse.unquote_to_bytes(data)
    out = bytearray()
    start = 0
    while start < len(data):
        end = start + _UNQUOTE_SLICE
        if end < len(data):
            # An escape is "%XY": never cut one whose "%" is among the last two bytes.
            cut = data.find(b"%", end - 2, end)
            if cut != -1:
                end = cut
        out += urllib.parse.unquote_to_bytes(data[start:end])
        start = end
    return bytes(out)


@overload
def url_unescape(value: str | bytes, encoding: None, plus: bool = True) -> bytes: ...
@overload
def url_unescape(value: str | bytes, encoding: str = "utf-8", plus: bool = True) -> str: ...


def url_unescape(
    value: str | bytes, encoding: str | None = "utf-8", plus: bool = True
) -> str | bytes:
    """Decode a percent-encoded value; with ``plus`` a ``+`` is a space (query style).

    ``encoding=None`` returns bytes (and accepts bytes that are not UTF-8).
    """
    if encoding is None:
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        if plus:
            raw = raw.replace(b"+", b" ")
        return _unquote_to_bytes(raw)
    text = to_unicode(value)
    if plus:
        return urllib.parse.unquote_plus(text, encoding=encoding)
    return urllib.parse.unquote(text, encoding=encoding)


def parse_qs_bytes(
    qs: str | bytes,
    keep_blank_values: bool = False,
    strict_parsing: bool = False,
    *,
    max_num_fields: int | None = None,
) -> dict[str, list[bytes]]:
    """Parse a query string into ``{name: [value, ...]}`` with bytes values.

    Names are decoded as latin-1 (a str ``qs`` is encoded as latin-1 first).
    Fields with an empty value are dropped unless ``keep_blank_values``;
    ``strict_parsing`` raises ``ValueError`` on an empty field or one without
    ``=``; more than ``max_num_fields`` fields raise ``ValueError``.
    """
    data = qs.encode("latin-1") if isinstance(qs, str) else qs
    parsed: dict[str, list[bytes]] = {}
    if not data:
        return parsed
    if max_num_fields is not None and data.count(b"&") + 1 > max_num_fields:
        raise ValueError(f"more than {max_num_fields} fields in the query string")
    for field in data.split(b"&"):
        name, equals, value = field.partition(b"=")
        if strict_parsing and not equals:
            raise ValueError(f"query field without '=': {field!r}")
        if not field or not (value or keep_blank_values):
            continue
        key = _unquote_to_bytes(name.replace(b"+", b" ")).decode("latin-1")
        parsed.setdefault(key, []).append(_unquote_to_bytes(value.replace(b"+", b" ")))
    return parsed


@overload
def utf8(value: str | bytes) -> bytes: ...
@overload
def utf8(value: None) -> None: ...


def utf8(value: str | bytes | None) -> bytes | None:
    """Encode str as UTF-8 bytes; bytes and None pass through unchanged."""
    if value is None or isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected bytes, str or None; got {type(value).__name__}")
    return value.encode("utf-8")


@overload
def to_unicode(value: str | bytes) -> str: ...
@overload
def to_unicode(value: None) -> None: ...


def to_unicode(value: str | bytes | None) -> str | None:
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


# linkify runs on text that is already escaped, so "&" only starts an entity and
# no raw quote or angle bracket is left. A link is a scheme ("name:" and one to
# three slashes) or "www.", then one or more segments: a run of URL characters
# that does not end in punctuation, or a run inside one pair of parentheses.
# The only entities a URL may contain are &amp; and &quot;: &lt;, &gt; and
# &#x27; end it.
_URL_CHAR = r"(?:[^\s&()]|&amp;|&quot;)"
_URL_LAST_CHAR = r"""[^\s!"#$%&'()*+,.:;<=>?@\[\]^`{|}~]"""
_LINK = re.compile(
    r"\b(?:(?P<scheme>[\w-]+):(?P<slashes>/{1,3})|www[.])"
    rf"(?:{_URL_CHAR}*{_URL_LAST_CHAR}|\({_URL_CHAR}*\))+"
)
_SHORTEN_AT = 30


def _shortened(label: str, prefix_length: int) -> str:
    """A long link's text cut to its host and the start of its path, ending in "..."."""
    host_and_path = label[prefix_length:].split("/")
    short = label
    if len(host_and_path) > 1:
        first = host_and_path[1][:8].split("?")[0].split(".")[0]
        short = f"{label[:prefix_length]}{host_and_path[0]}/{first}"
    if len(short) > _SHORTEN_AT * 1.5:
        short = short[:_SHORTEN_AT]
    if short == label:
        return label
    entity = short.rfind("&")
    if entity > _SHORTEN_AT - 5:  # do not leave half an entity at the end
        short = short[:entity]
    return short + "..."


def linkify(
    text: str | bytes,
    shorten: bool = False,
    extra_params: str | Callable[[str], str] = "",
    require_protocol: bool = False,
    permitted_protocols: list[str] | tuple[str, ...] = ("http", "https"),
) -> str:
    """Escape ``text`` for HTML and turn the URLs in it into ``<a>`` links.

    ``shorten`` abbreviates link texts past 30 characters (the full URL goes
    into ``title``). ``extra_params`` is a string of attributes for every link,
    or a function ``href -> attributes``. With ``require_protocol`` bare
    ``www.`` names stay text; ``permitted_protocols`` lists the schemes that
    become links (compared as written; ``javascript`` is never in the default).
    """
    if extra_params and not callable(extra_params):
        extra_params = " " + extra_params.strip()

    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        scheme = match.group("scheme")
        if scheme is None and require_protocol:
            return url
        if scheme is not None and scheme not in permitted_protocols:
            return url
        href = url if scheme is not None else "http://" + url
        params = " " + extra_params(href).strip() if callable(extra_params) else extra_params
        label = url
        if shorten and len(url) > _SHORTEN_AT:
            prefix_length = len(scheme) + 1 + len(match.group("slashes")) if scheme else 0
            short = _shortened(url, prefix_length)
            if len(short) < len(url):
                label = short
                params += f' title="{href}"'
        return f'<a href="{href}"{params}>{label}</a>'

    return _LINK.sub(link, xhtml_escape(text))
