"""Conditional responses: ETags, If-None-Match, If-Modified-Since, If-Range and 304.

A collaborator of the request handlers: plain functions of explicit values
(body chunks, header values, dates), so the rules of RFC 9110 section 13 live
in one place. :class:`cyclone.web.RequestHandler` computes its automatic ETag
and answers If-None-Match with them; :class:`cyclone.web.StaticFileHandler`
also uses the date and If-Range rules.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, MutableMapping

from cyclone.httputil import parse_http_date

__all__ = [
    "body_etag",
    "etag_matches",
    "if_range_allows",
    "not_modified_since",
    "strip_not_modified_headers",
]

# Representation headers a 304 does not carry (RFC 9110, section 15.4.5): the
# client keeps those of its stored copy.
_NOT_MODIFIED_DROPPED = (
    "Content-Type",
    "Content-Length",
    "Content-Encoding",
    "Content-Language",
    "Content-Md5",
    "Content-Range",
)


def body_etag(chunks: Iterable[bytes]) -> str:
    """The ETag of a response body: the SHA-1 of its bytes, hex, in quotes."""
    if isinstance(chunks, list) and len(chunks) == 1:
        return '"' + hashlib.sha1(chunks[0]).hexdigest() + '"'  # the common case
    hasher = hashlib.sha1()
    for chunk in chunks:
        hasher.update(chunk)
    return '"' + hasher.hexdigest() + '"'


def etag_matches(etag: str | None, if_none_match: str | None) -> bool:
    """True when an If-None-Match value names ``etag`` (or is ``*``).

    The comparison is the weak one RFC 9110 (section 13.1.2) asks for here:
    a ``W/`` prefix on either side is ignored.
    """
    if not etag or not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag[2:] if etag.startswith("W/") else etag
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == bare:
            return True
    return False


def not_modified_since(if_modified_since: str | None, modified: datetime.datetime | None) -> bool:
    """True when the client's If-Modified-Since date is at or after ``modified``.

    False when either is missing or the date is malformed (RFC 9110, section
    13.1.3: an invalid date is ignored).
    """
    if not if_modified_since or modified is None:
        return False
    since = parse_http_date(if_modified_since)
    return since is not None and since >= modified


def if_range_allows(
    if_range: str | None, etag: str | None, modified: datetime.datetime | None
) -> bool:
    """True unless an If-Range validator shows the client's partial copy is stale.

    An entity tag must equal ``etag`` exactly (weak tags never validate a
    range, RFC 9110 section 13.1.5); a date must equal ``modified``.
    """
    if if_range is None:
        return True
    condition = if_range.strip()
    if condition.startswith('"') or condition.startswith("W/"):
        return condition == etag
    when = parse_http_date(condition)
    return when is not None and modified is not None and when == modified


def strip_not_modified_headers(headers: MutableMapping[str, str]) -> None:
    """Remove from ``headers`` the representation headers a 304 must not send."""
    for name in _NOT_MODIFIED_DROPPED:
        headers.pop(name, None)
