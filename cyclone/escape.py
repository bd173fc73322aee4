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
            # Stay in bytes: raw query bytes need not be valid UTF-8.
            value = (
                value.replace(b"+", b" ") if isinstance(value, bytes) else value.replace("+", " ")
            )
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


# linkify works on already-escaped text, so the only "&" left are entity starts
# and no raw quote or angle bracket exists: a link can never break out of its
# attribute. A candidate runs to the next whitespace or entity other than &amp;
# (so &quot;, &#39;, &lt; and &gt; end it), then loses trailing punctuation.
_LINK_CANDIDATE = re.compile(
    r"\b(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?P<slashes>/{1,3}+)|www\.)(?:[^\s&]|&amp;)+"
)
_LINK_TRAILING = ".,:;!?*~'([{"
# Refused even when listed in permitted_protocols: these run code or smuggle content.
_LINK_FORBIDDEN_SCHEMES = frozenset({"javascript", "vbscript", "data"})
_LINK_SHORTEN_AT = 30


def _trim_link(url: str) -> str:
    """Drop trailing punctuation, a trailing &amp; and unbalanced closing parens."""
    while url:
        if url.endswith("&amp;"):
            url = url[:-5]
        elif url[-1] in _LINK_TRAILING or (url[-1] == ")" and url.count(")") > url.count("(")):
            url = url[:-1]
        else:
            break
    return url


def _shorten_link(text: str, prefix_length: int) -> str:
    """Keep the scheme, host and the start of the first path segment of a long link."""
    host, _, path = text[prefix_length:].partition("/")
    short = text[:prefix_length] + host
    if path:
        first = path.split("/")[0][:8].split("?")[0].split(".")[0]
        short += "/" + first
    if len(short) > _LINK_SHORTEN_AT * 1.5:
        short = short[:_LINK_SHORTEN_AT]
    # Never cut an entity in half.
    amp = short.rfind("&")
    if amp != -1 and ";" not in short[amp:]:
        short = short[:amp]
    return short + "..."


def linkify(
    text: str | bytes,
    shorten: bool = False,
    extra_params: Any = "",
    require_protocol: bool = False,
    permitted_protocols: list[str] | tuple[str, ...] = ("http", "https"),
) -> str:
    """Escape ``text`` for HTML and turn the URLs in it into ``<a>`` links.

    ``shorten`` abbreviates long link texts (the full URL goes into ``title``).
    ``extra_params`` is a string of attributes for every link, or a function
    ``href -> attributes``. With ``require_protocol`` bare ``www.`` names stay
    text; ``permitted_protocols`` lists the schemes that become links (compared
    case-insensitively). ``javascript:``, ``vbscript:`` and ``data:`` never do.
    """
    if extra_params and not callable(extra_params):
        extra_params = " " + extra_params.strip()

    def make_link(match: re.Match[str]) -> str:
        url = _trim_link(match.group(0))
        rest = match.group(0)[len(url) :]
        scheme = match.group("scheme")
        prefix_length = len(scheme) + 1 + len(match.group("slashes")) if scheme else 0
        if len(url) <= (prefix_length if scheme else len("www.")) or (
            scheme is None and require_protocol
        ):
            return match.group(0)
        if scheme is not None:
            lowered = scheme.lower()
            permitted = {p.lower() for p in permitted_protocols}
            if lowered not in permitted or lowered in _LINK_FORBIDDEN_SCHEMES:
                return match.group(0)
        href = url if scheme else "http://" + url
        params = " " + extra_params(href).strip() if callable(extra_params) else extra_params
        label = url
        if shorten and len(url) > _LINK_SHORTEN_AT:
            short = _shorten_link(url, prefix_length)
            if len(short) < len(url):
                label = short
                params += f' title="{href}"'
        return f'<a href="{href}"{params}>{label}</a>{rest}'

    return _LINK_CANDIDATE.sub(make_link, xhtml_escape(text))
