"""The dbapi notes board on SQLite, PostgreSQL and MariaDB, and 1.x's InlineSQLite counters."""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from cyclone.testing import call
from demos.dbapi.app import Application as Notes
from demos.sqlite.app import Application as Hits

SERVERS = {
    "postgresql": ("postgresql://postgres@127.0.0.1:5432/test", 5432),
    "mysql": ("mysql://root@127.0.0.1:3306/test", 3306),
}


def request(url: str, data: bytes | None = None, method: str | None = None):
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data, method=method), timeout=10
        ) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def drop(url: str, table: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "postgresql":
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="test")
    else:
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", user="root", database="test")
    with conn:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        conn.commit()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'notes.sqlite3'}", "notes"
        return
    url, port = SERVERS[request.param]
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{request.param} is needed on port {port} under CI: {exc}")
        pytest.skip(f"no {request.param} on 127.0.0.1:{port}")
    table = f"demo_notes_{uuid.uuid4().hex[:8]}"
    yield url, table
    drop(url, table)


def test_the_notes_board(serve, db_url):
    url, table = db_url
    base = f"http://127.0.0.1:{serve(Notes(url, table))}"
    status, body = request(base + "/")
    assert status == 200 and "/static/demo.css" in body and '<ul class="log"></ul>' in body
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(base + "/", b"text=first+%3Cnote%3E", timeout=10)
    assert info.value.code == 302
    info.value.close()
    assert "<li>first &lt;note&gt;</li>" in request(base + "/")[1]

    status, body = request(base + "/api/notes", json.dumps(["two", "three"]).encode())
    assert (status, json.loads(body)) == (201, {"added": 2, "total": 3})
    status, body = request(base + "/api/notes", json.dumps(["four", "x" * 501]).encode())
    assert status == 400  # one bad note: none is stored
    status, body = request(base + "/api/notes", json.dumps(["it's; DROP TABLE x"]).encode())
    assert status == 201
    notes = json.loads(request(base + "/api/notes")[1])["notes"]
    assert [n["text"] for n in notes] == ["first <note>", "two", "three", "it's; DROP TABLE x"]
    assert [n["id"] for n in notes] == sorted(n["id"] for n in notes)


def test_inline_sqlite_counters(serve, tmp_path):
    path = str(tmp_path / "hits.sqlite3")
    # InlineSQLite's connection belongs to the thread that opened it: here, the reactor's
    # (as when an application is built in the main thread and the reactor runs there).
    base = f"http://127.0.0.1:{serve(call(Hits, path))}"
    for _ in range(3):
        request(base + "/hits/home", b"")
    status, body = request(base + "/hits/about", b"")
    assert (status, json.loads(body)) == (200, {"page": "about", "hits": 1})
    assert json.loads(request(base + "/hits")[1]) == {"about": 1, "home": 3}
    # The file holds them: a new application on the same file sees the counts.
    again = f"http://127.0.0.1:{serve(call(Hits, path))}"
    assert json.loads(request(again + "/hits")[1]) == {"about": 1, "home": 3}
