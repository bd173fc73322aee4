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
from importlib.metadata import entry_points
from typing import Any

import pytest

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
