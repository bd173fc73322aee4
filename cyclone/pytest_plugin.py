"""The pytest plugin of cyclone (entry point ``pytest11``: ``cyclone``).

Define a ``cyclone_app`` fixture returning your Application; then
``cyclone_client`` is an in-process :class:`~cyclone.testing.BlockingClient`
on it (no socket) and ``cyclone_server`` a :class:`~cyclone.testing.LiveServer`
on a real loopback port. The reactor runs in a background thread
(:class:`~cyclone.testing.ReactorThread`), started by the first fixture that
needs it. Nothing is imported from Twisted until a fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def cyclone_app() -> Any:
    """The Application under test: override this fixture in your conftest.py."""
    raise pytest.UsageError(
        "define a 'cyclone_app' fixture that returns your Application"
        " (in conftest.py: @pytest.fixture def cyclone_app(): return make_app())"
    )


@pytest.fixture
def cyclone_client(cyclone_app: Any) -> Iterator[Any]:
    """An in-process client on ``cyclone_app``: ``cyclone_client.get("/")`` returns a Response."""
    from cyclone.testing import BlockingClient

    client = BlockingClient(cyclone_app)
    yield client
    client.close()


@pytest.fixture
def cyclone_server(cyclone_app: Any) -> Iterator[Any]:
    """``cyclone_app`` on a free loopback port: ``.fetch(path)``, ``.url(path)``, ``.port``."""
    from cyclone.testing import LiveServer

    server = LiveServer(cyclone_app)
    yield server
    server.close()
