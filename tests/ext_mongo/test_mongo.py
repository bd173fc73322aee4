"""cyclone_ext_mongo without a MongoDB server: what can be real on this machine.

No MongoDB server can be installed here, so these tests cover the entry point,
URL and option parsing, ``cyclone plugins``, a server that starts (and stops)
while MongoDB is absent, and the 503 a handler answers when nothing listens
on the service's port, or when something listens but never answers. Queries
against a real MongoDB are not tested (docs/mongo.md says so).
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from waiting import wait_until

import cyclone_ext_mongo
from cyclone import plugins
from cyclone.services import ServiceConfigError, UnknownOptionError
from cyclone.testing import call, listen_tcp
from cyclone.web import Application, RequestHandler
from cyclone_ext_mongo import MongoService, MongoUnavailable

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def fetch(port: int, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.reason, response.read()
    finally:
        conn.close()


# -- registration -------------------------------------------------------------------


def test_mongodb_is_registered_by_its_own_distribution() -> None:
    (entry,) = entry_points(group="cyclone.storage", name="mongodb")
    assert entry.value == "cyclone_ext_mongo:mongodb"
    assert entry.dist is not None and entry.dist.name == "cyclone-ext-mongo"
    assert "mongodb" in plugins.names(plugins.STORAGE)
    factory = plugins.load(plugins.STORAGE, "mongodb")
    assert factory is cyclone_ext_mongo.mongodb
    assert not plugins.contract_problems(factory, plugins.CONTRACTS[plugins.STORAGE].protocol)
    service = factory("mongodb://127.0.0.1/app")
    assert not plugins.contract_problems(service, plugins.CONTRACTS[plugins.STORAGE].returns)


def test_the_extension_is_not_part_of_cyclone_all() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert not any("mongo" in requirement for requirement in extras["all"])
    own = tomllib.loads((ROOT / "cyclone_ext_mongo" / "pyproject.toml").read_text())
    assert own["project"]["entry-points"]["cyclone.storage"] == {
        "mongodb": "cyclone_ext_mongo:mongodb"
    }
    assert any(dep.startswith("txmongo") for dep in own["project"]["dependencies"])


def test_cyclone_plugins_lists_mongodb() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cyclone", "plugins"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (line,) = [row for row in result.stdout.splitlines() if row.strip().startswith("mongodb ")]
    assert "cyclone-ext-mongo" in line
    assert "cyclone_ext_mongo:mongodb" in line
    assert line.rstrip().endswith("ok")


# -- URLs and options ---------------------------------------------------------------


def test_url_parts_and_defaults() -> None:
    service = cyclone_ext_mongo.mongodb("mongodb://127.0.0.1/app")
    assert service.hosts == [("127.0.0.1", 27017)]
    assert service.database_name == "app"
    assert service.options == {
        "pool_size": 1,
        "timeout": 10.0,
        "retry_delay": 1.0,
        "max_delay": 30.0,
    }
    many = cyclone_ext_mongo.mongodb("mongodb://u:p@a.example:1,[::1]:2,b.example/")
    assert many.hosts == [("a.example", 1), ("::1", 2), ("b.example", 27017)]
    assert many.database_name == ""
    with pytest.raises(ValueError, match="names no database"):
        many.database  # noqa: B018


def test_query_options_are_converted_and_reach_txmongo() -> None:
    app = Application(
        [],
        services={
            "mongo": "mongodb://127.0.0.1:1/app?pool_size=3&timeout=2.5"
            "&replicaSet=rs0&w=majority&journal=true&authSource=admin"
        },
    )
    service = app.settings.mongo
    assert isinstance(service, MongoService)
    assert service.options["pool_size"] == 3
    assert service.options["timeout"] == 2.5
    assert service.options["journal"] is True
    try:
        call(service.start)
        uri_options = call(lambda: service.pool.uri["options"])
        assert uri_options["replicaset"] == "rs0"
        assert uri_options["authsource"] == "admin"
        assert uri_options["w"] == "majority"
        assert len(call(service.pool.getprotocols)) == 3
    finally:
        call(service.stop)


def test_dict_spec_keywords_are_options_too() -> None:
    app = Application([], services={"m": {"url": "mongodb://127.0.0.1/db", "timeout": 0.5}})
    assert app.settings.m.options["timeout"] == 0.5


def test_an_unknown_option_fails_naming_it_and_the_accepted_ones_with_the_password_masked() -> None:
    with pytest.raises(UnknownOptionError) as info:
        Application([], services={"mongo": "mongodb://app:hunter2@127.0.0.1/app?poolsize=3"})
    message = str(info.value)
    assert "'poolsize'" in message
    assert "pool_size" in message and "replicaSet" in message
    assert "services['mongo']" in message
    assert "hunter2" not in message
    assert "app:***@127.0.0.1" in message
    with pytest.raises(TypeError, match="'colour'"):
        cyclone_ext_mongo.mongodb("mongodb://127.0.0.1/app", colour="red")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mongodb://app:hunter2@127.0.0.1/app?timeout=soon", "'timeout'"),
        ("mongodb://app:hunter2@127.0.0.1/app?pool_size=0", "pool_size"),
        ("mongodb://app:hunter2@127.0.0.1:notaport/app", "port"),
        ("mongodb://app:hunter2@127.0.0.1:70000/app", "port"),
        ("mongodb://app:hunter2@127.0.0.1/bad.name", "database name"),
        ("mongodb://app:hunter2@/app", "host"),
    ],
)
def test_bad_urls_fail_when_the_application_is_built(url: str, fragment: str) -> None:
    with pytest.raises(ServiceConfigError) as info:
        Application([], services={"mongo": url})
    assert fragment in str(info.value).lower()
    assert "hunter2" not in str(info.value)


def test_the_service_never_shows_its_password() -> None:
    service = cyclone_ext_mongo.mongodb("mongodb://app:hunter2@127.0.0.1/app")
    assert "hunter2" not in repr(service)
    assert "hunter2" not in service.target
    assert "hunter2" not in repr(service.app.posts)


# -- life cycle without a server ----------------------------------------------------


class FindHandler(RequestHandler):
    async def get(self) -> None:
        posts = await self.settings.mongo.app.posts.find({"draft": False})
        self.write({"posts": len(posts)})


class InsertHandler(RequestHandler):
    async def get(self) -> None:
        await self.settings.mongo.database["posts"].insert_one({"title": "x"})
        self.write("inserted")


def test_the_server_starts_and_stops_without_mongodb() -> None:
    url = f"mongodb://app:hunter2@127.0.0.1:{closed_port()}/app"
    app = Application([(r"/", FindHandler)], services={"mongo": url})
    service = app.settings.mongo
    assert not service.running  # building the Application connects to nothing
    listening = listen_tcp(app)
    try:
        wait_until(lambda: service.running, message="the service did not start")
        wait_until(lambda: service.unreachable, message="the pool never noticed the closed port")
        assert not service.connected
        status, _, _ = fetch(listening.getHost().port, "/")
        assert status == 503
    finally:
        call(listening.stopListening)
    wait_until(lambda: not service.running, message="the service did not stop with the server")
    assert service.pool is None


def test_nothing_listening_answers_503_at_once_over_http(serve: Any) -> None:
    url = f"mongodb://app:hunter2@127.0.0.1:{closed_port()}/app?timeout=8"
    app = Application(
        [(r"/find", FindHandler), (r"/insert", InsertHandler)], services={"mongo": url}
    )
    port = serve(app)
    wait_until(lambda: app.settings.mongo.running, message="the service did not start")
    for path in ("/find", "/insert", "/find"):
        started = time.monotonic()
        status, reason, body = fetch(port, path)
        elapsed = time.monotonic() - started
        assert (status, reason) == (503, "Database Unavailable")
        assert b"hunter2" not in body
        assert elapsed < 4, f"{path} took {elapsed:.1f}s: not fail-fast (timeout is 8s)"


def test_a_server_that_never_answers_is_a_503_after_the_timeout(
    serve: Any, silent_port: int
) -> None:
    url = f"mongodb://127.0.0.1:{silent_port}/app?timeout=0.5"
    app = Application([(r"/", FindHandler)], services={"mongo": url})
    port = serve(app)
    wait_until(lambda: app.settings.mongo.running, message="the service did not start")
    started = time.monotonic()
    status, reason, _ = fetch(port, "/")
    elapsed = time.monotonic() - started
    assert (status, reason) == (503, "Database Unavailable")
    assert 0.4 < elapsed < 5


def test_operations_before_start_and_after_stop_are_503() -> None:
    service = cyclone_ext_mongo.mongodb(f"mongodb://127.0.0.1:{closed_port()}/app")

    def find() -> Any:
        return service.app.posts.find({})

    with pytest.raises(MongoUnavailable, match="not running") as info:
        call(find)
    assert info.value.status_code == 503
    call(service.start)
    assert service.running
    call(service.stop)
    assert not service.running and service.pool is None
    with pytest.raises(MongoUnavailable, match="not running"):
        call(find)


def test_names_that_are_service_attributes_are_reached_by_item() -> None:
    service = cyclone_ext_mongo.mongodb("mongodb://127.0.0.1/app")
    assert service["start"].name == "start"
    assert service.app.name == "app"
    assert service.app["posts"].comments.name == "posts.comments"
    assert callable(service.app.posts.find)
    with pytest.raises(AttributeError):
        service._private  # noqa: B018
