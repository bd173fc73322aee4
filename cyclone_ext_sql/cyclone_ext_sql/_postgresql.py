"""``postgresql://`` — a psycopg2 pool on adbapi (see ``_pool`` for reconnects).

URL: ``postgresql://user:password@host:port/dbname?option=value``; every part
may be left out to get libpq's default (the local socket, the OS user...).
Each pooled connection carries ``application_name`` so that an operator can
find (or terminate) the application's sessions in ``pg_stat_activity``.
"""

from __future__ import annotations

import math
from typing import Any

from cyclone_ext_sql._pool import ReconnectingPool
from cyclone_ext_sql._url import SERVER_DEFAULTS, SERVER_OPTIONS, parse_server_url

__all__ = ["POSTGRESQL_OPTIONS", "PostgreSQLPool", "postgresql"]

POSTGRESQL_OPTIONS: dict[str, Any] = {
    **SERVER_OPTIONS,
    "application_name": str,
    "sslmode": str,
}

_DEFAULTS = {
    **SERVER_DEFAULTS,
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
    server = parse_server_url(
        url,
        options,
        scheme="postgresql",
        driver="psycopg2",
        accepted=POSTGRESQL_OPTIONS,
        defaults=_DEFAULTS,
    )
    opts = server.options
    connect: dict[str, Any] = {
        "connect_timeout": max(2, math.ceil(opts["timeout"])),
        "application_name": opts["application_name"],
    }
    # Only what is given: libpq's defaults (the local socket, the OS user...) for the rest.
    given = {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "dbname": server.database,
        "sslmode": opts["sslmode"],
    }
    connect.update({name: value for name, value in given.items() if value})
    return PostgreSQLPool(
        "psycopg2",
        server.target,
        pool_min=opts["pool_min"],
        pool_max=opts["pool_max"],
        **connect,
    )


postgresql.options = POSTGRESQL_OPTIONS  # type: ignore[attr-defined]
