"""Storage URLs: split them, and merge their query options with keyword options.

Every factory accepts ``scheme://...?...`` plus keyword options. Query values
are strings and go through the factory's converter (``int``, ``float``,
``str``...); keyword values that are strings are converted the same way, other
keyword values are taken as given, and keywords win over the query. An unknown
name is an error that lists the accepted ones, so a typo never goes unnoticed.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["merge_options", "redact", "split_url"]


def split_url(url: str, scheme: str) -> urllib.parse.SplitResult:
    """Split ``url``, checking that its scheme is ``scheme``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != scheme:
        raise ValueError(f"expected a {scheme}:// URL, got {url!r}")
    return parts


def merge_options(
    parts: urllib.parse.SplitResult,
    given: Mapping[str, Any],
    accepted: Mapping[str, Callable[[str], Any]],
    defaults: Mapping[str, Any],
) -> dict[str, Any]:
    """Defaults, then the URL's query, then ``given``, each converted; unknown names fail."""
    merged = dict(defaults)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    for source, items in (("URL option", query), ("option", given.items())):
        for name, value in items:
            if name not in accepted:
                known = ", ".join(sorted(accepted))
                raise TypeError(f"unknown {source} {name!r} for {parts.scheme}:// (known: {known})")
            if isinstance(value, str):
                try:
                    value = accepted[name](value)
                except ValueError as exc:
                    raise ValueError(f"bad value for {source} {name!r}: {exc}") from None
            merged[name] = value
    return merged


def redact(parts: urllib.parse.SplitResult) -> str:
    """The URL without its password and query, for messages and logs."""
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return f"{parts.scheme}://{netloc}{parts.path}"
