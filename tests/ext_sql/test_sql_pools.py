"""postgresql:// and mysql:// pools against the real local PostgreSQL and MariaDB.

Each test runs for both backends. Connections are cut the way an operator
would (``pg_terminate_backend`` by application_name, MariaDB's ``KILL``), and
"the server is down" is a port where nothing listens, a socket that never
answers, or a real TCP proxy that is stopped and started again.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import pymysql
import pytest
from conftest import MY_URL, PG_URL, require_server, storage
from sqlproxy import TCPProxy

from cyclone.testing import call
from cyclone_ext_sql import DatabaseUnavailable


@dataclass
class Backend:
    scheme: str
    url: str
    port: int
    session_sql: str
    sleep_sql: str
    tag: str
    _admin: Any = field(default=None, repr=False)

    def options(self) -> dict[str, Any]:
        """Options that tag the pool's connections (PostgreSQL's application_name)."""
        return {"application_name": self.tag} if self.scheme == "postgresql" else {}

    def admin(self) -> Any:
        """A plain driver connection from the test thread: the operator's console."""
        if self._admin is None:
            if self.scheme == "postgresql":
                self._admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="test")
                self._admin.autocommit = True
            else:
                self._admin = pymysql.connect(
                    host="127.0.0.1", user="root", password="", database="test", autocommit=True
                )
        return self._admin

    def sql(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        cursor = self.admin().cursor()
        cursor.execute(statement, params)
        rows = list(cursor.fetchall()) if cursor.description else []
        cursor.close()
        return rows

    def kill(self, session_id: int) -> None:
        """Cut the pool's connection server-side, and wait until the server forgot it."""
        if self.scheme == "postgresql":
            self.sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (self.tag,),
            )
        else:
            self.sql("KILL %s", (session_id,))
        deadline = time.monotonic() + 5
        while self.sessions() and session_id in self.sessions():
            assert time.monotonic() < deadline, "the server did not drop the connection"
            time.sleep(0.02)

    def sessions(self) -> set[int]:
        """Ids of the server sessions the pool holds (PostgreSQL: by tag; MariaDB: all)."""
        if self.scheme == "postgresql":
            rows = self.sql(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (self.tag,)
            )
        else:
            rows = self.sql("SELECT ID FROM information_schema.PROCESSLIST")
        return {row[0] for row in rows}

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()


@pytest.fixture(params=["postgresql", "mysql"])
def backend(request: pytest.FixtureRequest, unique: str) -> Iterator[Backend]:
    if request.param == "postgresql":
        require_server("PostgreSQL", 5432)
        found = Backend(
            "postgresql",
            PG_URL,
            5432,
            "SELECT pg_backend_pid()",
            "SELECT pg_sleep(5)",
            "t" + unique,
        )
    else:
        require_server("MariaDB", 3306)
        found = Backend(
            "mysql", MY_URL, 3306, "SELECT CONNECTION_ID()", "SELECT SLEEP(5)", "t" + unique
        )
    yield found
    found.close()


@pytest.fixture
def table(backend: Backend) -> Iterator[str]:
    """A fresh table ``(id int, name varchar)`` named after the test's tag; dropped after."""
    name = f"cyclone_{backend.tag}"
    backend.sql(f"CREATE TABLE {name} (id integer, name varchar(200))")
    yield name
    backend.sql(f"DROP TABLE IF EXISTS {name}")


def pending(func: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Start ``func`` in the reactor thread without waiting for its Deferred."""
    return call(lambda: [func(*args, **kw)])[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_rows_are_lists_of_tuples_and_parameters_stay_data(backend, table, open_service):
    pool = open_service(backend.scheme, backend.url, **backend.options())
    attack = f"x'); DROP TABLE {table}; --"
    call(pool.runOperation, f"INSERT INTO {table} VALUES (%s, %s)", (1, attack))
    call(
        pool.runOperation, f"INSERT INTO {table} VALUES (%(id)s, %(name)s)", {"id": 2, "name": "b"}
    )
    rows = call(pool.runQuery, f"SELECT id, name FROM {table} ORDER BY id")
    assert rows == [(1, attack), (2, "b")]
    assert call(pool.runQuery, f"SELECT name FROM {table} WHERE name = %s", (attack,)) == [
        (attack,)
    ]
    assert call(pool.runQuery, "SELECT %s", ("%s %(x)s '\"\\",)) == [("%s %(x)s '\"\\",)]


def test_interaction_commits_on_return_and_rolls_back_on_exception(backend, table, open_service):
    pool = open_service(backend.scheme, backend.url, **backend.options())

    def add_two(txn: Any, first: int) -> int:
        txn.execute(f"INSERT INTO {table} VALUES (%s, 'a')", (first,))
        txn.execute(f"INSERT INTO {table} VALUES (%s, 'b')", (first + 1,))
        txn.execute(f"SELECT count(*) FROM {table}")
        return txn.fetchall()[0][0]

    def add_then_fail(txn: Any) -> None:
        txn.execute(f"INSERT INTO {table} VALUES (99, 'lost')")
        raise LookupError("changed my mind")

    assert call(pool.runInteraction, add_two, 1) == 2
    with pytest.raises(LookupError, match="changed my mind"):
        call(pool.runInteraction, add_then_fail)
    with pytest.raises(pymysql.Error if backend.scheme == "mysql" else psycopg2.Error):
        call(pool.runOperation, "SELECT * FROM no_such_table_anywhere")
    assert call(pool.runQuery, f"SELECT id FROM {table} ORDER BY id") == [(1,), (2,)]
    assert backend.sql(f"SELECT count(*) FROM {table}") == [(2,)]


def test_awaitable_from_a_coroutine(backend, open_service):
    pool = open_service(backend.scheme, backend.url, **backend.options())

    async def handler_like() -> list[tuple[Any, ...]]:
        await pool.runOperation("SELECT 1")
        return await pool.runQuery("SELECT %s + 1", (41,))

    assert call(handler_like) == [(42,)]


def test_killed_idle_connection_is_replaced_before_the_next_operation(backend, open_service):
    pool = open_service(backend.scheme, backend.url, pool_max=1, **backend.options())
    seen = [call(pool.runQuery, backend.session_sql)[0][0]]
    for _ in range(2):
        backend.kill(seen[-1])
        seen.append(call(pool.runQuery, backend.session_sql)[0][0])
    assert len(set(seen)) == 3  # every operation after a kill ran, on a fresh connection


def test_connection_killed_during_a_statement_surfaces_and_is_not_replayed(
    backend, table, open_service
):
    pool = open_service(backend.scheme, backend.url, pool_max=1, **backend.options())
    calls: list[int] = []
    sleeping = threading.Event()

    def insert_then_sleep(txn: Any) -> None:
        txn.execute(backend.session_sql)
        calls.append(txn.fetchall()[0][0])
        txn.execute(f"INSERT INTO {table} VALUES (1, 'maybe')")
        sleeping.set()
        txn.execute(backend.sleep_sql)
        txn.fetchall()

    started = time.monotonic()
    d = pending(pool.runInteraction, insert_then_sleep)
    assert sleeping.wait(5)
    time.sleep(0.1)  # let the sleep statement reach the server
    backend.kill(calls[0])
    driver_error = pymysql.OperationalError if backend.scheme == "mysql" else psycopg2.Error
    with pytest.raises(driver_error):
        call(lambda: d)
    assert time.monotonic() - started < 4
    assert len(calls) == 1  # not replayed
    assert backend.sql(f"SELECT count(*) FROM {table}") == [(0,)]  # rolled back
    assert call(pool.runQuery, backend.session_sql)[0][0] != calls[0]


def test_server_down_fails_fast_with_database_unavailable(backend, open_service):
    url = backend.url.replace("@", ":secret@").replace(f":{backend.port}/", f":{free_port()}/")
    pool = open_service(backend.scheme, url, timeout=2)
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as info:
        call(pool.runQuery, "SELECT 1")
    assert time.monotonic() - started < 1
    assert info.value.status_code == 503
    assert "127.0.0.1" in str(info.value)
    assert "secret" not in str(info.value)


def test_server_that_never_answers_times_out(backend, open_service):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel accepts; nobody ever speaks
    try:
        port = silent.getsockname()[1]
        url = backend.url.replace(f":{backend.port}/", f":{port}/")
        pool = open_service(backend.scheme, url, timeout=1)
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable):
            call(pool.runQuery, "SELECT 1")
        assert 0.9 < time.monotonic() - started < 4  # libpq rounds up to 2 s
    finally:
        silent.close()


def test_service_resumes_by_itself_when_the_server_comes_back(backend, open_service):
    proxy = TCPProxy(backend.port)
    port = proxy.start()
    try:
        url = backend.url.replace(f":{backend.port}/", f":{port}/")
        pool = open_service(backend.scheme, url, pool_max=2, timeout=2, **backend.options())
        assert call(pool.runQuery, "SELECT 1") == [(1,)]
        proxy.stop()
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable):
                call(pool.runQuery, "SELECT 1")
            assert time.monotonic() - started < 1
        proxy.start()
        assert call(pool.runQuery, "SELECT 2") == [(2,)]
    finally:
        proxy.stop()


def test_first_use_starts_a_pool_that_was_never_started(backend):
    pool = call(storage(backend.scheme), backend.url, **backend.options())
    try:
        assert call(pool.runQuery, "SELECT 3") == [(3,)]
        assert pool.running
    finally:
        call(pool.stop)
    assert not pool.running


def test_stop_waits_for_work_then_releases_threads_and_connections(backend, open_service):
    factory = storage(backend.scheme)
    pool = call(factory, backend.url, pool_min=2, pool_max=2, **backend.options())
    call(pool.start)
    slow = pending(pool.runQuery, backend.sleep_sql.replace("5", "0.3"))
    ids = {call(pool.runQuery, backend.session_sql)[0][0] for _ in range(4)}
    assert ids <= backend.sessions()
    call(pool.stop)
    assert slow.called
    assert not any(thread.is_alive() for thread in pool.threadpool.threads)
    assert pool.connections == {}
    deadline = time.monotonic() + 5
    while ids & backend.sessions():
        assert time.monotonic() < deadline, "pooled connections still open on the server"
        time.sleep(0.02)
    with pytest.raises(DatabaseUnavailable):
        call(pool.runQuery, "SELECT 1")


def test_options_from_the_url_and_keywords(backend):
    factory = storage(backend.scheme)
    assert {"pool_min", "pool_max", "timeout"} <= set(factory.options)
    pool = call(factory, backend.url + "?pool_min=0&pool_max=3&timeout=2.5", pool_max=4)
    try:
        assert (pool.min, pool.max) == (0, 4)
        assert not pool.running and pool.threadpool.threads == []  # built, not started
        assert pool.connkw["connect_timeout"] in (2.5, 3)
    finally:
        call(pool.stop)
    with pytest.raises(TypeError, match="pool_size"):
        call(factory, backend.url + "?pool_size=3")
    with pytest.raises(ValueError, match="pool_max"):
        call(factory, backend.url, pool_max="many")
