"""Fixtures for the SQL extension: factories by entry point, real servers, cleanup.

Tests that need PostgreSQL (127.0.0.1:5432) or MariaDB (127.0.0.1:3306) use
``pg_url`` / ``my_url``: when the server cannot be reached they FAIL if
``CI=true`` and are skipped otherwise.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import psycopg2
import pymysql
import pytest
from waiting import wait_until

from cyclone.testing import call

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
MY_URL = "mysql://root@127.0.0.1:3306/test"


def storage(name: str) -> Callable[..., Any]:
    """The factory registered as ``name`` in the ``cyclone.storage`` entry-point group."""
    (entry,) = entry_points(group="cyclone.storage", name=name)
    return entry.load()


def require_server(what: str, port: int) -> None:
    """Fail (CI=true) or skip the test when nothing answers on 127.0.0.1:``port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError as exc:
        message = f"{what} is not reachable on 127.0.0.1:{port}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def pg_url() -> str:
    require_server("PostgreSQL", 5432)
    return PG_URL


@pytest.fixture
def my_url() -> str:
    require_server("MariaDB", 3306)
    return MY_URL


@pytest.fixture
def unique() -> str:
    """A short unique suffix for table and application names."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def open_service() -> Iterator[Callable[..., Any]]:
    """``open_service(scheme, url, **options)``: made by its entry point, started; stopped after."""
    opened: list[Any] = []

    def _open(scheme: str, url: str, **options: Any) -> Any:
        service = call(storage(scheme), url, **options)
        call(service.start)
        opened.append(service)
        return service

    yield _open
    for service in reversed(opened):
        call(service.stop)


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
        wait_until(
            lambda: session_id not in self.sessions(),
            message="the server did not drop the connection",
        )

    def sessions(self) -> set[int]:
        """Ids of the server sessions the pool holds (PostgreSQL: by tag; MariaDB: all)."""
        if self.scheme == "postgresql":
            rows = self.sql(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (self.tag,)
            )
        else:
            rows = self.sql("SELECT ID FROM information_schema.PROCESSLIST")
        return {row[0] for row in rows}

    def running(self, marker: str) -> bool:
        """Whether a statement containing ``marker`` is running on the server (not ours)."""
        if self.scheme == "postgresql":
            rows = self.sql(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                " AND pid <> pg_backend_pid() AND position(%s in query) > 0",
                (marker,),
            )
        else:
            rows = self.sql(
                "SELECT count(*) FROM information_schema.PROCESSLIST"
                " WHERE ID <> CONNECTION_ID() AND LOCATE(%s, INFO) > 0",
                (marker,),
            )
        return rows[0][0] > 0

    def wait_running(self, marker: str, present: bool = True, timeout: float = 5) -> None:
        """Wait until a statement containing ``marker`` runs (or, ``present=False``, ended)."""
        wait_until(
            lambda: self.running(marker) == present,
            timeout,
            f"statement {marker!r} running: {not present}",
        )

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
