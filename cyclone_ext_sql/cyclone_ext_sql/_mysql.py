"""``mysql://`` — a pymysql pool on adbapi, for MySQL and MariaDB (see ``_pool``).

URL: ``mysql://user:password@host:port/database?option=value``. pymysql bounds
only the TCP connect with ``connect_timeout``; the handshake that follows reads
with the *read* timeout, which is unbounded by default, so a server that
accepts but never answers would hang a pool thread forever. The pool therefore
connects with read/write timeouts equal to ``timeout`` and, once connected,
puts the ``read_timeout``/``write_timeout`` options (unbounded by default)
in their place.
"""

from __future__ import annotations

from typing import Any

from cyclone_ext_sql._pool import ReconnectingPool
from cyclone_ext_sql._url import SERVER_DEFAULTS, SERVER_OPTIONS, parse_server_url

__all__ = ["MYSQL_OPTIONS", "MySQLPool", "mysql"]

# Error codes that mean the connection is gone (client-side CR_* and server-side ER_*).
LOST_CONNECTION_CODES = frozenset(
    {
        2006,  # CR_SERVER_GONE_ERROR: "MySQL server has gone away"
        2013,  # CR_SERVER_LOST: "Lost connection to MySQL server during query"
        2055,  # CR_SERVER_LOST_EXTENDED: "Lost connection ... system error"
        1053,  # ER_SERVER_SHUTDOWN: "Server shutdown in progress"
        1927,  # ER_CONNECTION_KILLED (MariaDB): "Connection was killed"
        4031,  # ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8): disconnected for inactivity
    }
)

MYSQL_OPTIONS: dict[str, Any] = {
    **SERVER_OPTIONS,
    "read_timeout": float,
    "write_timeout": float,
    "charset": str,
}

_DEFAULTS = {
    **SERVER_DEFAULTS,
    "read_timeout": None,
    "write_timeout": None,
    "charset": "utf8mb4",
}


class MySQLPool(ReconnectingPool):
    """pymysql connections on adbapi; parameters use ``%s`` / ``%(name)s`` placeholders."""

    paramstyle = "pyformat"

    def __init__(
        self,
        target: str,
        *,
        pool_min: int,
        pool_max: int,
        read_timeout: float | None = None,
        write_timeout: float | None = None,
        **connect_kwargs: Any,
    ) -> None:
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout
        super().__init__("pymysql", target, pool_min=pool_min, pool_max=pool_max, **connect_kwargs)

    def open_connection(self) -> Any:
        timeout = self.connkw["connect_timeout"]
        conn = self.dbapi.connect(**self.connkw, read_timeout=timeout, write_timeout=timeout)
        # pymysql reads these before every socket operation (see the module docstring).
        conn._read_timeout = self.read_timeout
        conn._write_timeout = self.write_timeout
        return conn

    def socket_of(self, conn: Any) -> int | None:
        sock = conn._sock  # pymysql has no public accessor for its socket
        return None if sock is None else sock.fileno()

    def is_closed(self, conn: Any) -> bool:
        return not conn.open

    def connection_lost(self, exc: BaseException, conn: Any) -> bool:
        if isinstance(exc, self.dbapi.OperationalError):
            return bool(exc.args) and exc.args[0] in LOST_CONNECTION_CODES
        # pymysql's InterfaceError(0, "") is "this connection is already closed".
        return isinstance(exc, self.dbapi.InterfaceError) and not conn.open

    def ping(self, conn: Any) -> None:
        conn.ping(reconnect=False)


def mysql(url: str, **options: Any) -> MySQLPool:
    """A MySQL/MariaDB pool for ``mysql://user:password@host:port/database?...``.

    Options (URL query or keywords): ``pool_min`` and ``pool_max`` pool
    threads, each with its own connection (1, 5); ``timeout`` seconds to
    connect and log in (5); ``read_timeout`` and ``write_timeout`` seconds for
    one socket read or write afterwards (unbounded); ``charset`` ("utf8mb4").
    """
    server = parse_server_url(
        url, options, scheme="mysql", driver="pymysql", accepted=MYSQL_OPTIONS, defaults=_DEFAULTS
    )
    opts = server.options
    connect: dict[str, Any] = {
        "host": server.host or "localhost",
        "port": server.port or 3306,
        "user": server.user,
        "password": server.password or "",
        "connect_timeout": opts["timeout"],
        "charset": opts["charset"],
    }
    if server.database:
        connect["database"] = server.database
    return MySQLPool(
        server.target,
        pool_min=opts["pool_min"],
        pool_max=opts["pool_max"],
        read_timeout=opts["read_timeout"],
        write_timeout=opts["write_timeout"],
        **connect,
    )


mysql.options = MYSQL_OPTIONS  # type: ignore[attr-defined]
