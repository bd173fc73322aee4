"""SQL services in handlers, through real HTTP: results, 503 when the database is down."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any

from conftest import storage

from cyclone.testing import call
from cyclone.web import Application, RequestHandler


class CountHandler(RequestHandler):
    async def get(self, name: str) -> None:
        rows = await self.settings[name].runQuery("SELECT 40 + 2")
        self.write({"service": name, "answer": rows[0][0]})


def fetch(port: int, path: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        return response.status, body
    finally:
        conn.close()


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_database_answers_503_and_a_reachable_one_200(serve):
    down = call(storage("postgresql"), f"postgresql://postgres:hunter2@127.0.0.1:{dead_port()}/x")
    down_my = call(storage("mysql"), f"mysql://root@127.0.0.1:{dead_port()}/x")
    up = call(storage("sqlite"), "sqlite:///:memory:")
    app = call(Application, [(r"/(\w+)", CountHandler)], down=down, down_my=down_my, up=up)
    port = serve(app)
    try:
        for name in ("down", "down_my"):
            status, body = fetch(port, f"/{name}")
            assert status == 503
            assert b"hunter2" not in body and b"Traceback" not in body
        status, body = fetch(port, "/up")
        assert (status, json.loads(body)) == (200, {"service": "up", "answer": 42})
    finally:
        for service in (down, down_my, up):
            call(service.stop)


def test_services_setting_end_to_end(serve, pg_url, my_url, tmp_path):
    app = call(
        Application,
        [(r"/(\w+)", CountHandler)],
        services={
            "db": "sqlite:///:memory:",
            "file": f"sqlite:///{tmp_path}/app.db?timeout=1",
            "pg": pg_url + "?pool_max=2&application_name=cyclone_e2e",
            "my": {"url": my_url, "pool_max": 2},
        },
    )
    port = serve(app)
    for name in ("db", "file", "pg", "my"):
        status, body = fetch(port, f"/{name}")
        assert (status, json.loads(body)) == (200, {"service": name, "answer": 42})
    assert app.settings.pg.max == 2 and app.settings.file.timeout == 1.0
    call(app.stop_services)
    assert not app.settings.pg.running and not app.settings.my.running
