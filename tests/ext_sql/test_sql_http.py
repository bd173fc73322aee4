"""SQL services in handlers, through real HTTP: results, 503 when the database is down."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from typing import Any

from conftest import storage
from sqlproxy import TCPProxy
from twisted.logger import globalLogPublisher

from cyclone.testing import call
from cyclone.web import Application, RequestHandler


class CountHandler(RequestHandler):
    async def get(self, name: str) -> None:
        rows = await self.settings[name].runQuery("SELECT 40 + 2")
        self.write({"service": name, "answer": rows[0][0]})


class SlowHandler(RequestHandler):
    """``GET /query``, ``POST /operation``, ``POST /interaction``: a slow statement each."""

    async def get(self, kind: str) -> None:
        db, app = self.settings.db, self.application
        if kind == "query":
            await db.runQuery(f"{app.sleep_sql} {app.marker}")
        elif kind == "syntax":
            await db.runQuery("SELEC 1")
        else:
            rows = await db.runQuery(f"SELECT count(*) FROM {app.table}")
            self.write({"rows": rows[0][0]})

    async def post(self, kind: str) -> None:
        db, app = self.settings.db, self.application
        if kind == "operation":
            await db.runOperation(app.slow_insert)
        else:

            def interaction(txn: Any) -> None:
                app.interactions.append(1)
                txn.execute(f"INSERT INTO {app.table} VALUES (2, 'txn')")
                txn.execute(f"{app.sleep_sql} {app.marker}")
                txn.fetchall()

            await db.runInteraction(interaction)
        self.write("done")


def fetch(port: int, path: str, method: str = "GET") -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path)
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


def test_connection_lost_mid_statement_answers_503_and_is_not_replayed(
    serve, backend, table, open_service
):
    proxy = TCPProxy(backend.port)
    proxy_port = proxy.start()
    try:
        url = backend.url.replace(f":{backend.port}/", f":{proxy_port}/")
        db = open_service(backend.scheme, url, pool_max=1, **backend.options())
        app = call(Application, [(r"/(\w+)", SlowHandler)], db=db)
        app.table, app.interactions = table, []
        app.sleep_sql = backend.sleep_sql.replace("5", "2")
        app.marker = f"/* cut {backend.tag} */"
        if backend.scheme == "postgresql":
            app.slow_insert = f"INSERT INTO {table} SELECT 1, 'op' FROM pg_sleep(2) {app.marker}"
        else:
            app.slow_insert = (
                f"INSERT INTO {table} SELECT 1, 'op' FROM DUAL WHERE SLEEP(2) = 0 {app.marker}"
            )
        port = serve(app)
        for method, path in (("GET", "/query"), ("POST", "/operation"), ("POST", "/interaction")):
            answer: list[tuple[int, bytes]] = []
            client = threading.Thread(
                target=lambda a=answer, p=path, m=method: a.append(fetch(port, p, m))
            )
            client.start()
            backend.wait_running(app.marker)
            proxy.stop()  # the connection is cut while the statement runs
            client.join(10)
            status, body = answer[0]
            assert status == 503, (path, body)
            assert b"Database Unavailable" in body
            assert b"Traceback" not in body and b"OperationalError" not in body
            backend.wait_running(app.marker, present=False)  # the orphan statement ended
            # Not replayed, and the cut transaction was never committed: no row.
            assert backend.sql(f"SELECT count(*) FROM {table}") == [(0,)]
            proxy.start()
            status, body = fetch(port, "/count")
            assert (status, json.loads(body)) == (200, {"rows": 0})  # the pool reconnected
        assert app.interactions == [1]
    finally:
        proxy.stop()


def test_sql_error_is_a_500_and_logged(serve, backend, open_service):
    db = open_service(backend.scheme, backend.url, **backend.options())
    app = call(Application, [(r"/(\w+)", SlowHandler)], db=db)
    port = serve(app)
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        status, body = fetch(port, "/syntax")
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert status == 500 and b"Traceback" not in body
    failures = [e["log_failure"] for e in events if "log_failure" in e]
    assert any(f.check(db.dbapi.ProgrammingError) for f in failures), events
