"""``postgresql://`` — a psycopg2 pool on adbapi (see ``_pool`` for reconnects).

URL: ``postgresql://user:password@host:port/dbname?option=value``; every part
may be left out to get libpq's default (the local socket, the OS user...).
Each pooled connection carries ``application_name`` so that an operator can
find (or terminate) the application's sessions in ``pg_stat_activity``.
"""

from __future__ import annotations

import math
import urllib.parse
from typing import Any

from cyclone_ext_sql._pool import ReconnectingPool
from cyclone_ext_sql._url import merge_options, redact, split_url

__all__ = ["POSTGRESQL_OPTIONS", "PostgreSQLPool", "postgresql"]

POSTGRESQL_OPTIONS: dict[str, Any] = {
    "pool_min": int,
    "pool_max": int,
    "timeout": float,
    "application_name": str,
    "sslmode": str,
}

_DEFAULTS = {
    "pool_min": 1,
    "pool_max": 5,
    "timeout": 5.0,
    "application_name": "cyclone",
    "sslmode": None,
}


class PostgreSQLPool(ReconnectingPool):
    """psycopg2 connections on adbapi; parameters use ``%s`` / ``%(name)s`` placeholders."""

    paramstyle = "pyformat"

    def socket_of(self, conn: Any) -> int | None:
        return conn.fileno()

    def is_closed(self, conn: Any) -> bool:
        return bool(conn.closed)

    def connection_lost(self, exc: BaseException, conn: Any) -> bool:
        # libpq marks the connection closed (``closed == 2``) when its socket
        # failed or the server ended the session; a syntax error or a statement
        # timeout leaves it open.
        lost_types = (self.dbapi.OperationalError, self.dbapi.InterfaceError)
        return isinstance(exc, lost_types) and bool(conn.closed)

    def ping(self, conn: Any) -> None:
        cursor = conn.cursor()
        try:
            cursor.execute("SELECT 1")
            cursor.fetchall()
        finally:
            cursor.close()
        conn.rollback()


def postgresql(url: str, **options: Any) -> PostgreSQLPool:
    """A PostgreSQL pool for ``postgresql://user:password@host:port/dbname?...``.

    Options (URL query or keywords): ``pool_min`` and ``pool_max`` pool
    threads, each with its own connection (1, 5); ``timeout`` seconds to
    connect (5; libpq counts whole seconds, at least 2); ``application_name``
    ("cyclone"); ``sslmode`` (libpq's default).
    """
    try:
        import psycopg2  # noqa: F401 - fail here, with the extra to install
    except ImportError as exc:
        raise ImportError(
            "postgresql:// needs psycopg2: pip install 'cyclone[postgresql]'"
        ) from exc
    parts = split_url(url, "postgresql")
    opts = merge_options(parts, options, POSTGRESQL_OPTIONS, _DEFAULTS)
    connect: dict[str, Any] = {
        "connect_timeout": max(2, math.ceil(opts["timeout"])),
        "application_name": opts["application_name"],
    }
    if parts.hostname:
        connect["host"] = urllib.parse.unquote(parts.hostname)
    if parts.port:
        connect["port"] = parts.port
    if parts.username:
        connect["user"] = urllib.parse.unquote(parts.username)
    if parts.password:
        connect["password"] = urllib.parse.unquote(parts.password)
    dbname = urllib.parse.unquote(parts.path.lstrip("/"))
    if dbname:
        connect["dbname"] = dbname
    if opts["sslmode"]:
        connect["sslmode"] = opts["sslmode"]
    return PostgreSQLPool(
        "psycopg2",
        redact(parts),
        pool_min=opts["pool_min"],
        pool_max=opts["pool_max"],
        **connect,
    )


postgresql.options = POSTGRESQL_OPTIONS  # type: ignore[attr-defined]
