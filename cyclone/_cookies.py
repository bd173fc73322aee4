"""The ``Set-Cookie`` header value a handler's ``set_cookie`` sends (RFC 6265, section 4.1).

A collaborator of :class:`cyclone.web.RequestHandler`: it validates and
formats; the handler keeps the list of cookies of the response.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from cyclone.httputil import format_timestamp

__all__ = ["is_cookie_name", "set_cookie_value"]

_COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_UNSAFE_VALUE = re.compile(r"[\x00-\x20\x7f;,\"\\]")
_UNSAFE_ATTRIBUTE = re.compile(r"[\x00-\x1f\x7f;]")
_SAMESITE = frozenset(("strict", "lax", "none"))


def is_cookie_name(name: str) -> bool:
    """True when ``name`` is a token, as a cookie name must be."""
    return bool(_COOKIE_NAME.match(name))


def set_cookie_value(
    name: str,
    value: str,
    *,
    domain: str | None = None,
    expires: float | datetime.datetime | None = None,
    path: str | None = "/",
    expires_days: float | None = None,
    max_age: int | None = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """``name=value`` and its attributes, or ValueError for anything that could inject one.

    ``extra`` may hold the 1.x spellings ``Secure`` and ``HttpOnly``; any other
    key is a TypeError.
    """
    extra = dict(extra or {})
    if not is_cookie_name(name):
        raise ValueError(f"invalid cookie name {name!r}")
    if _UNSAFE_VALUE.search(value):
        raise ValueError(f"invalid cookie value {value!r}: quote or encode it first")
    parts = [f"{name}={value}"]
    for attr, attr_value in (("Domain", domain), ("Path", path)):
        if attr_value:
            if _UNSAFE_ATTRIBUTE.search(attr_value):
                raise ValueError(f"invalid cookie {attr.lower()} {attr_value!r}")
            parts.append(f"{attr}={attr_value}")
    if expires_days is not None and not expires:
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=expires_days)
    if expires:
        parts.append(f"Expires={format_timestamp(expires)}")
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if secure or extra.pop("Secure", False):
        parts.append("Secure")
    if httponly or extra.pop("HttpOnly", False):
        parts.append("HttpOnly")
    if samesite:
        if samesite.lower() not in _SAMESITE:
            raise ValueError(f"invalid SameSite value {samesite!r}")
        parts.append(f"SameSite={samesite.capitalize()}")
    if extra:
        raise TypeError(f"unknown cookie attributes: {', '.join(sorted(extra))}")
    return "; ".join(parts)
