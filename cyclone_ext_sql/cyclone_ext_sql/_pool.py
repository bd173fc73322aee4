"""A Twisted adbapi connection pool that survives dropped connections.

Strategy. adbapi keeps one DB-API connection per pool thread and runs every
interaction in a transaction: ``begin; interaction(cursor); commit`` (rollback
on an exception). The database may drop a pooled connection while it sits idle
(PostgreSQL's ``pg_terminate_backend``, MariaDB's ``KILL``, a restart, an idle
timeout). Users must not see that on the next operation, yet a statement that
may have reached the server must never be silently sent again. The two cases
are told apart by *when* the failure is seen:

1. Before anything is sent. Each interaction starts with ``connect()`` in its
   pool thread, which checks the thread's connection first:

   - the driver already knows it is closed (it saw an error earlier), or
   - its socket is readable. Database protocols are strictly request/answer,
     so an idle connection has nothing to read unless the server spoke on its
     own: almost always to say goodbye (an error message, then EOF). A zero
     timeout ``poll()`` costs no round trip. Servers can also send harmless
     notices, so a readable socket is confirmed with one ``ping`` round trip
     (``SELECT 1``, MySQL's COM_PING) before the connection is dropped.

   A dead connection is closed quietly and replaced by a fresh one, and the
   interaction runs there: this is the single retry, and it is safe because
   nothing was sent on the dead connection. If the fresh connection cannot be
   made (refused, connect timeout, authentication), the operation fails with
   :class:`DatabaseUnavailable` (HTTP 503) at once: no statement was sent.

2. During the interaction. A connection that dies after a statement was sent
   may or may not have run it, so nothing is replayed: the operation fails
   with :class:`DatabaseUnavailable` (HTTP 503, ``maybe_ran=True``, the
   driver's error as ``cause``). Only connection losses are mapped, as each
   driver subclass tells in ``connection_lost`` (psycopg2's
   ``OperationalError``/``InterfaceError`` on a connection now closed;
   pymysql's "gone away"/"lost connection" codes 2006, 2013, 2055...); any
   other error (a syntax error, a constraint, a statement timeout) surfaces
   unchanged. The transaction was not committed (or its commit was lost), so
   the server rolls it back. The dead connection is dropped in the rollback,
   quietly, and the next operation gets a fresh one through (1).

A connection that dies in the instant between the check and the first
statement falls under (2): a 503, not replayed. That window is microseconds.

``stop()`` refuses new work, waits for operations in flight, then stops the
pool threads and closes every connection.
"""

from __future__ import annotations

import select
from collections.abc import Callable
from typing import Any

from twisted.enterprise import adbapi
from twisted.internet import defer
from twisted.logger import Logger

from cyclone_ext_sql._errors import DatabaseUnavailable

__all__ = ["ReconnectingPool"]

log = Logger()


def _readable(fd: int) -> bool:
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


class _PooledConnection(adbapi.Connection):
    """adbapi's connection wrapper; a rollback on a dead connection drops it quietly."""

    def rollback(self) -> None:
        pool: ReconnectingPool = self._pool
        try:
            self._connection.rollback()
        except Exception:
            if pool.is_alive(self._connection):
                raise
            # The statement's own error is what the caller sees; the connection
            # is gone, so forget it and let the next operation open a new one.
            pool.discard(self._connection)


class ReconnectingPool(adbapi.ConnectionPool):
    """An adbapi ``ConnectionPool`` with a liveness check, fast failures and ``stop()``.

    Subclasses name the driver module and say how to find a connection's
    socket, whether the driver knows it is closed, and how to ping it.
    ``target`` (the URL without its password) names the target in errors.
    Keyword arguments other than ``pool_min``/``pool_max`` go to the driver's
    ``connect()``.
    """

    connectionFactory = _PooledConnection

    def __init__(
        self,
        module: str,
        target: str,
        *,
        pool_min: int,
        pool_max: int,
        **connect_kwargs: Any,
    ) -> None:
        if pool_min < 0 or pool_max < 1:
            raise ValueError("pool_min must be >= 0 and pool_max >= 1")
        self.target = target
        self._in_flight: set[defer.Deferred[Any]] = set()
        self._stopped: defer.Deferred[None] | None = None
        # adbapi starts its threads as soon as the reactor runs; this pool starts
        # on start() or on first use instead, so building one costs nothing.
        self._building = True
        super().__init__(
            module, cp_min=pool_min, cp_max=pool_max, cp_reconnect=False, **connect_kwargs
        )
        self._building = False
        if self.startID:
            self._reactor.removeSystemEventTrigger(self.startID)
            self.startID = None

    def start(self) -> None:
        """Start the pool threads (idempotent; done on first use too). Reactor thread only."""
        if not self._building and self._stopped is None:
            super().start()

    # -- driver hooks -------------------------------------------------------

    def socket_of(self, conn: Any) -> int | None:
        """The file descriptor of ``conn``'s socket, or ``None`` when it has none."""
        raise NotImplementedError

    def is_closed(self, conn: Any) -> bool:
        """Whether the driver already knows ``conn`` is closed."""
        raise NotImplementedError

    def ping(self, conn: Any) -> None:
        """One round trip on ``conn``; raises when it is dead."""
        raise NotImplementedError

    def open_connection(self) -> Any:
        """A new DB-API connection (runs in a pool thread)."""
        return self.dbapi.connect(*self.connargs, **self.connkw)

    def connection_lost(self, exc: BaseException, conn: Any) -> bool:
        """Whether ``exc``, raised while using ``conn``, means the connection was lost.

        Only these failures become :class:`DatabaseUnavailable`; the default
        (for drivers without a better rule) is: a driver error on a connection
        the driver now knows is closed.
        """
        try:
            return isinstance(exc, self.dbapi.Error) and self.is_closed(conn)
        except Exception:
            return False

    # -- connections (pool threads) -----------------------------------------

    def is_alive(self, conn: Any) -> bool:
        """Cheap check that an idle connection is still usable (see the module docstring)."""
        try:
            if self.is_closed(conn):
                return False
            fd = self.socket_of(conn)
            if fd is None:
                return False
            if not _readable(fd):
                return True
            self.ping(conn)
        except Exception:
            return False
        return not self.is_closed(conn)

    def discard(self, conn: Any) -> None:
        """Forget this thread's connection ``conn`` and close it, ignoring errors."""
        tid = self.threadID()
        if self.connections.get(tid) is conn:
            del self.connections[tid]
        try:
            conn.close()
        except Exception:
            pass

    def connect(self) -> Any:
        """This thread's connection: checked, or replaced by a fresh one (see module doc)."""
        tid = self.threadID()
        conn = self.connections.get(tid)
        if conn is not None:
            if self.is_alive(conn):
                return conn
            self.discard(conn)
        try:
            conn = self.open_connection()
        except (self.dbapi.Error, OSError) as exc:
            raise DatabaseUnavailable(self.target, exc) from exc
        self.connections[tid] = conn
        return conn

    def _guarded(self, conn: adbapi.Connection, body: Callable[[], Any]) -> Any:
        """Run ``body`` then commit; roll back on failure, a lost connection failing with a 503."""
        try:
            result = body()
            conn.commit()
            return result
        except BaseException as exc:
            lost = isinstance(exc, Exception) and self.connection_lost(exc, conn._connection)
            try:
                conn.rollback()
            except BaseException:
                log.failure("rollback failed on {target}", target=self.target)
            if lost:
                raise DatabaseUnavailable(self.target, exc, maybe_ran=True) from exc
            raise

    def _runInteraction(self, interaction: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        # adbapi's, with the lost-connection mapping of _guarded (runs in a pool thread).
        conn = self.connectionFactory(self)
        trans = self.transactionFactory(self, conn)

        def body() -> Any:
            result = interaction(trans, *args, **kw)
            trans.close()
            return result

        return self._guarded(conn, body)

    def _runWithConnection(self, func: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        conn = self.connectionFactory(self)
        return self._guarded(conn, lambda: func(conn, *args, **kw))

    # -- the async API (reactor thread) --------------------------------------

    def _track(self, d: defer.Deferred[Any]) -> defer.Deferred[Any]:
        self._in_flight.add(d)

        def done(result: Any) -> Any:
            self._in_flight.discard(d)
            return result

        return d.addBoth(done)

    def runInteraction(
        self, interaction: Callable[..., Any], *args: Any, **kw: Any
    ) -> defer.Deferred[Any]:
        """Run ``interaction(transaction, *args, **kw)`` in a pool thread, in a transaction.

        ``transaction`` is cursor-like (``execute``, ``fetchall``...). The
        transaction commits when the function returns and rolls back when it
        raises; the Deferred fires with the function's result or failure.
        """
        if self._stopped is not None:
            return defer.fail(DatabaseUnavailable(self.target))
        self.start()
        return self._track(super().runInteraction(interaction, *args, **kw))

    def runWithConnection(self, func: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Run ``func(connection, *args, **kw)`` in a pool thread (adbapi semantics)."""
        if self._stopped is not None:
            return defer.fail(DatabaseUnavailable(self.target))
        self.start()
        return self._track(super().runWithConnection(func, *args, **kw))

    def runQuery(self, sql: str, params: Any = None) -> defer.Deferred[list[tuple[Any, ...]]]:
        """Run one query in its own transaction; fires with its rows as a list of tuples."""
        return self.runInteraction(self._runQuery, sql, params).addCallback(list)

    def runOperation(self, sql: str, params: Any = None) -> defer.Deferred[None]:
        """Run one statement in its own transaction (committed); fires with ``None``."""
        return self.runInteraction(self._runOperation, sql, params)

    def stop(self) -> defer.Deferred[None]:
        """Refuse new work, wait for operations in flight, then release threads and connections."""
        if self._stopped is None:
            pending = list(self._in_flight)
            self._stopped = defer.DeferredList(pending, consumeErrors=True).addCallback(
                lambda _: self.close()
            )
        stopped = defer.Deferred[None]()

        def release(result: Any) -> Any:
            stopped.callback(None)
            return result

        self._stopped.addBoth(release)
        return stopped
