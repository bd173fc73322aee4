"""``sqlite://`` — SQLite inline, in the reactor thread, plus cyclone 1.x's InlineSQLite.

Strategy: SQLite is a library call on a local file, usually faster than a hop
to a thread, so :class:`SQLiteService` runs each statement right away in the
calling (reactor) thread and returns a Deferred that has already fired. Its
methods have the adbapi names and signatures, so code moves between
``sqlite://``, ``postgresql://`` and ``mysql://`` by changing the URL (and the
placeholder style: SQLite uses ``?`` and ``:name``). A long statement blocks
the reactor while it runs; use a server database for heavy work.

The connection runs in autocommit mode and the service manages transactions
itself: ``runQuery``/``runOperation`` are one statement each; ``runInteraction``
wraps its function in ``BEGIN``/``COMMIT`` (``ROLLBACK`` when it raises), DDL
included.

:class:`InlineSQLite` keeps cyclone 1.x's class: synchronous methods that
return rows directly, a commit after each operation unless told otherwise.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet import defer

from cyclone_ext_sql._url import merge_options, split_url

__all__ = ["SQLITE_OPTIONS", "InlineSQLite", "SQLiteService", "sqlite"]

SQLITE_OPTIONS: dict[str, Any] = {"journal_mode": str, "timeout": float}

_DEFAULTS = {"journal_mode": None, "timeout": 5.0}


class SQLiteService:
    """One SQLite connection used inline from the reactor thread.

    ``path`` is a file name or ``":memory:"``; ``timeout`` is how many seconds
    a statement waits for another process's lock; ``journal_mode`` (e.g.
    ``"wal"``) is set when the database opens. The database opens on
    :meth:`start` (or on first use) and closes on :meth:`stop`.
    """

    paramstyle = "qmark"

    def __init__(
        self, path: str = ":memory:", *, timeout: float = 5.0, journal_mode: str | None = None
    ) -> None:
        self.path = path
        self.timeout = timeout
        self.journal_mode = journal_mode
        self._conn: sqlite3.Connection | None = None
        self._stopped = False

    def __repr__(self) -> str:
        return f"<SQLiteService {self.path!r}>"

    def start(self) -> None:
        """Open the database (idempotent)."""
        self._connection()

    def stop(self) -> None:
        """Close the database; later calls fail."""
        self._stopped = True
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            if self._stopped:
                raise sqlite3.ProgrammingError(f"{self!r} is stopped")
            # check_same_thread=False: the service may be built in one thread and
            # used in the reactor thread; it is only ever used by one at a time.
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            if self.journal_mode:
                conn.execute(f"PRAGMA journal_mode={_identifier(self.journal_mode)}")
            self._conn = conn
        return self._conn

    def runQuery(self, sql: str, params: Any = None) -> defer.Deferred[list[tuple[Any, ...]]]:
        """Run a query; the Deferred has its rows (a list of tuples)."""
        try:
            rows = self._connection().execute(sql, params or ()).fetchall()
        except Exception:
            return defer.fail()
        return defer.succeed(rows)

    def runOperation(self, sql: str, params: Any = None) -> defer.Deferred[None]:
        """Run one statement (committed at once); the Deferred fires with ``None``."""
        try:
            self._connection().execute(sql, params or ())
        except Exception:
            return defer.fail()
        return defer.succeed(None)

    def runInteraction(
        self, func: Callable[..., Any], *args: Any, **kw: Any
    ) -> defer.Deferred[Any]:
        """Run ``func(cursor, *args, **kw)`` in a transaction; the Deferred has its result.

        The transaction commits when ``func`` returns and rolls back when it
        raises (the Deferred then fails with that exception). ``func`` is
        synchronous, as with adbapi.
        """
        try:
            conn = self._connection()
            cursor = conn.cursor()
            cursor.execute("BEGIN")
            try:
                result = func(cursor, *args, **kw)
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                cursor.close()
            if conn.in_transaction:
                conn.execute("COMMIT")
        except Exception:
            return defer.fail()
        return defer.succeed(result)


def _identifier(word: str) -> str:
    if not word.isidentifier():
        raise ValueError(f"not a valid SQLite keyword: {word!r}")
    return word


def sqlite(url: str, **options: Any) -> SQLiteService:
    """An inline SQLite service for ``sqlite:///:memory:``, ``sqlite:///rel.db``, ``sqlite:////abs.db``.

    Options (URL query or keywords): ``timeout`` seconds to wait for a lock
    held by another process (5); ``journal_mode``, e.g. ``wal`` (SQLite's
    default).
    """
    parts = split_url(url, "sqlite")
    if parts.netloc:
        raise ValueError(f"sqlite:// URLs have no host: use sqlite:///{parts.netloc}{parts.path}")
    opts = merge_options(parts, options, SQLITE_OPTIONS, _DEFAULTS)
    path = urllib.parse.unquote(parts.path[1:]) or ":memory:"
    return SQLiteService(path, timeout=opts["timeout"], journal_mode=opts["journal_mode"])


sqlite.options = SQLITE_OPTIONS  # type: ignore[attr-defined]


class InlineSQLite:
    """cyclone 1.x's synchronous SQLite wrapper, kept for old code.

    Unlike :class:`SQLiteService`, its methods block and return results
    directly (no Deferreds), take parameters as positional arguments after the
    SQL, and commit after each ``runOperation``/``runOperationMany`` when
    ``autoCommit`` is true (otherwise call :meth:`commit`). ``cursorClass``,
    when given, becomes the connection's ``row_factory`` (e.g. ``sqlite3.Row``).
    """

    def __init__(
        self,
        dbname: str = ":memory:",
        autoCommit: bool = True,
        cursorClass: Callable[..., Any] | None = None,
    ) -> None:
        self.autoCommit = autoCommit
        self.conn = sqlite3.connect(dbname)
        if cursorClass is not None:
            self.conn.row_factory = cursorClass
        self.curs = self.conn.cursor()

    def runQuery(self, query: str, *args: Any, **kwargs: Any) -> list[Any]:
        """Execute ``query`` and return all its rows."""
        self.curs.execute(query, *args, **kwargs)
        return self.curs.fetchall()

    def runOperation(self, command: str, *args: Any, **kwargs: Any) -> None:
        """Execute ``command``; commit when ``autoCommit``."""
        self.curs.execute(command, *args, **kwargs)
        if self.autoCommit:
            self.conn.commit()

    def runOperationMany(self, command: str, seq: Iterable[Any], *args: Any, **kw: Any) -> None:
        """Execute ``command`` once per parameter set in ``seq``; commit when ``autoCommit``."""
        self.curs.executemany(command, seq, *args, **kw)
        if self.autoCommit:
            self.conn.commit()

    def commit(self) -> None:
        """Commit the current transaction."""
        self.conn.commit()

    def rollback(self) -> None:
        """Roll back the current transaction."""
        self.conn.rollback()

    def close(self) -> None:
        """Close the database."""
        self.conn.close()
