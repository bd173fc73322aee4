"""postgresql:// and mysql:// pools against the real local PostgreSQL and MariaDB.

Each test runs for both backends. Connections are cut the way an operator
would (``pg_terminate_backend`` by application_name, MariaDB's ``KILL``), and
"the server is down" is a port where nothing listens, a socket that never
answers, or a real TCP proxy that is stopped and started again.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import psycopg2
import pymysql
import pytest
from conftest import storage
from servers import free_port
from sqlproxy import TCPProxy
from waiting import wait_until

from cyclone.testing import call
from cyclone_ext_sql import DatabaseUnavailable


def pending(func: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Start ``func`` in the reactor thread without waiting for its Deferred."""
    return call(lambda: [func(*args, **kw)])[0]


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


def test_connection_killed_during_a_statement_is_a_503_and_is_not_replayed(
    backend, table, open_service
):
    pool = open_service(backend.scheme, backend.url, pool_max=1, **backend.options())
    calls: list[int] = []
    marker = f"/* killed {backend.tag} */"

    def insert_then_sleep(txn: Any) -> None:
        txn.execute(backend.session_sql)
        calls.append(txn.fetchall()[0][0])
        txn.execute(f"INSERT INTO {table} VALUES (1, 'maybe')")
        txn.execute(f"{backend.sleep_sql} {marker}")
        txn.fetchall()

    started = time.monotonic()
    d = pending(pool.runInteraction, insert_then_sleep)
    backend.wait_running(marker)  # the sleep statement runs on the server
    backend.kill(calls[0])
    with pytest.raises(DatabaseUnavailable) as info:
        call(lambda: d)
    assert info.value.status_code == 503 and info.value.maybe_ran
    driver_error = pymysql.OperationalError if backend.scheme == "mysql" else psycopg2.Error
    assert isinstance(info.value.cause, driver_error)
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
    wait_until(
        lambda: not ids & backend.sessions(), message="pooled connections still open on the server"
    )
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


def test_errors_on_a_live_connection_are_not_mapped_to_503(backend, table, open_service):
    """A statement timeout is an OperationalError too, but the connection lives: no 503."""
    pool = open_service(backend.scheme, backend.url, pool_max=1, **backend.options())
    session = call(pool.runQuery, backend.session_sql)[0][0]

    def timed_out(txn: Any) -> None:
        if backend.scheme == "postgresql":
            txn.execute("SET LOCAL statement_timeout = 100")
            txn.execute("SELECT pg_sleep(2)")
        else:
            txn.execute("SET STATEMENT max_statement_time = 0.1 FOR SELECT SLEEP(2)")
            txn.fetchall()

    driver = pymysql if backend.scheme == "mysql" else psycopg2
    with pytest.raises(driver.OperationalError) as info:  # 57014 / 1969
        call(pool.runInteraction, timed_out)
    assert not isinstance(info.value, DatabaseUnavailable)
    with pytest.raises(driver.ProgrammingError):
        call(pool.runOperation, "SELEC 1")
    assert call(pool.runQuery, backend.session_sql)[0][0] == session  # same connection


def test_proxy_cut_mid_statement_is_a_503_not_replayed_then_service_resumes(
    backend, table, open_service
):
    proxy = TCPProxy(backend.port)
    port = proxy.start()
    try:
        url = backend.url.replace(f":{backend.port}/", f":{port}/")
        pool = open_service(backend.scheme, url, pool_max=1, **backend.options())
        marker = f"/* cut {backend.tag} */"
        sleep = backend.sleep_sql.replace("5", "2")
        calls: list[int] = []

        def insert_then_sleep(txn: Any) -> None:
            calls.append(1)
            txn.execute(f"INSERT INTO {table} VALUES (1, 'maybe')")
            txn.execute(f"{sleep} {marker}")
            txn.fetchall()

        d = pending(pool.runInteraction, insert_then_sleep)
        backend.wait_running(marker)
        proxy.stop()
        with pytest.raises(DatabaseUnavailable) as info:
            call(lambda: d)
        assert info.value.maybe_ran and calls == [1]
        assert "secret" not in str(info.value) and "127.0.0.1" in str(info.value)
        backend.wait_running(marker, present=False)
        assert backend.sql(f"SELECT count(*) FROM {table}") == [(0,)]
        proxy.start()
        assert call(pool.runQuery, "SELECT 2") == [(2,)]
    finally:
        proxy.stop()


@pytest.mark.parametrize(
    ("code", "lost"),
    [
        (2006, True),
        (2013, True),
        (2055, True),
        (1927, True),
        (1064, False),
        (1969, False),
        (1317, False),
    ],
)
def test_mysql_lost_connection_codes(code, lost):
    pool = call(storage("mysql"), "mysql://root@127.0.0.1:1/x")
    try:
        live = type("Conn", (), {"open": True})()
        assert pool.connection_lost(pymysql.OperationalError(code, "x"), live) is lost
        assert not pool.connection_lost(pymysql.ProgrammingError(1064, "syntax"), live)
        assert not pool.connection_lost(pymysql.InterfaceError(0, ""), live)
        live.open = False
        assert pool.connection_lost(pymysql.InterfaceError(0, ""), live)
    finally:
        call(pool.stop)
