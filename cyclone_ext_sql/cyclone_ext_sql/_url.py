"""Storage URLs: split them, merge their options, and the skeleton of a pool factory.

Every factory accepts ``scheme://...?...`` plus keyword options, parsed by the
core's :func:`cyclone.services.parse_options`: query values are strings and go
through the factory's converter (``int``, ``float``, ``str``...); keyword
values that are strings are converted the same way, other keyword values are
taken as given, and keywords win over the query. An unknown name is a
``TypeError`` that lists the accepted ones, so a typo never goes unnoticed; a
bad value is a ``ValueError``. Messages name the URL as
:func:`cyclone.services.mask_url` shows it (no password).
"""

from __future__ import annotations

import importlib
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cyclone.services import mask_url, parse_options

__all__ = [
    "SERVER_DEFAULTS",
    "SERVER_OPTIONS",
    "ServerURL",
    "merge_options",
    "parse_server_url",
    "split_url",
]

SERVER_OPTIONS: dict[str, Any] = {"pool_min": int, "pool_max": int, "timeout": float}
"""The options every database-server pool accepts: its threads, and seconds to connect."""

SERVER_DEFAULTS: dict[str, Any] = {"pool_min": 1, "pool_max": 5, "timeout": 5.0}


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
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query_part = f"?{parts.query}" if parts.query else ""
    where = mask_url(f"{parts.scheme}://{parts.netloc}{parts.path}{query_part}")
    return {
        **defaults,
        **parse_options(parts.scheme, accepted, query, given, where=where, given_wins=True),
    }


@dataclass(frozen=True)
class ServerURL:
    """A database server's URL, decoded: what a pool factory needs from it."""

    target: str  # the URL without its query, password masked: for messages and logs
    host: str | None
    port: int | None
    user: str | None
    password: str | None
    database: str  # "" when the URL names none
    options: dict[str, Any]


def parse_server_url(
    url: str,
    given: Mapping[str, Any],
    *,
    scheme: str,
    driver: str,
    accepted: Mapping[str, Callable[[str], Any]],
    defaults: Mapping[str, Any],
) -> ServerURL:
    """``scheme://user:password@host:port/database?...`` decoded, with its options merged.

    Fails first, with the extra to install, when the ``driver`` module (which
    the ``cyclone[scheme]`` extra installs) cannot be imported.
    """
    try:
        importlib.import_module(driver)
    except ImportError as exc:
        raise ImportError(f"{scheme}:// needs {driver}: pip install 'cyclone[{scheme}]'") from exc
    parts = split_url(url, scheme)
    options = merge_options(parts, given, accepted, defaults)

    def unquoted(value: str | None) -> str | None:
        return urllib.parse.unquote(value) if value else None

    return ServerURL(
        target=mask_url(f"{parts.scheme}://{parts.netloc}{parts.path}"),
        host=unquoted(parts.hostname),
        port=parts.port,
        user=unquoted(parts.username),
        password=unquoted(parts.password),
        database=urllib.parse.unquote(parts.path.lstrip("/")),
        options=options,
    )
