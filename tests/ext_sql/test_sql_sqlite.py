"""sqlite:// (inline, Deferreds already fired) and cyclone 1.x's InlineSQLite."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import pytest
from conftest import storage

from cyclone.testing import call


def open_files() -> set[str]:
    return {os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")}


def test_every_scheme_is_a_factory_with_declared_options():
    for name in ("sqlite", "postgresql", "mysql"):
        factory = storage(name)
        assert callable(factory)
        assert isinstance(factory.options, Mapping)
        assert all(callable(convert) for convert in factory.options.values())


def test_url_forms(tmp_path, monkeypatch, open_service):
    monkeypatch.chdir(tmp_path)
    memory = open_service("sqlite", "sqlite:///:memory:")
    assert memory.path == ":memory:"
    relative = open_service("sqlite", "sqlite:///relative.db")
    call(relative.runOperation, "CREATE TABLE t (x)")
    assert (tmp_path / "relative.db").exists()
    absolute = open_service("sqlite", f"sqlite:///{tmp_path}/sub%20dir.db")
    assert absolute.path == f"{tmp_path}/sub dir.db"
    assert absolute.path.startswith("/")
    call(absolute.runOperation, "CREATE TABLE t (x)")
    assert (tmp_path / "sub dir.db").exists()
    with pytest.raises(ValueError, match="no host"):
        storage("sqlite")("sqlite://relative.db")
    with pytest.raises(ValueError, match="sqlite://"):
        storage("sqlite")("postgresql:///x")


def test_options_from_the_url_and_keywords(open_service):
    service = open_service("sqlite", "sqlite:///:memory:?timeout=2.5&journal_mode=memory")
    assert service.timeout == 2.5
    assert call(service.runQuery, "PRAGMA journal_mode") == [("memory",)]
    assert storage("sqlite")("sqlite:///:memory:?timeout=2", timeout="7").timeout == 7.0
    with pytest.raises(TypeError, match="journal_mode, timeout"):
        storage("sqlite")("sqlite:///:memory:?busy=1")
    with pytest.raises(ValueError, match="timeout"):
        storage("sqlite")("sqlite:///:memory:?timeout=soon")
    with pytest.raises(ValueError, match="keyword"):
        open_service("sqlite", "sqlite:///:memory:", journal_mode="wal; DROP TABLE x")


def test_queries_return_fired_deferreds_of_lists_of_tuples(open_service):
    db = open_service("sqlite", "sqlite:///:memory:")

    def inline() -> list[Any]:
        deferreds = [
            db.runOperation("CREATE TABLE t (id INTEGER, name TEXT)"),
            db.runOperation("INSERT INTO t VALUES (?, ?)", (1, "a")),
            db.runOperation("INSERT INTO t VALUES (:id, :name)", {"id": 2, "name": "b"}),
            db.runQuery("SELECT id, name FROM t ORDER BY id"),
        ]
        assert all(d.called for d in deferreds)
        return deferreds

    results = [call(lambda d=d: d) for d in call(inline)]
    assert results == [None, None, None, [(1, "a"), (2, "b")]]
    failed = call(lambda: [db.runQuery("SELECT nope FROM t")])[0]
    assert failed.called
    with pytest.raises(sqlite3.OperationalError, match="nope"):
        call(lambda: failed)


def test_parameters_stay_data(open_service):
    db = open_service("sqlite", "sqlite:///:memory:")
    attack = "x'); DROP TABLE t; --"
    call(db.runOperation, "CREATE TABLE t (name TEXT)")
    call(db.runOperation, "INSERT INTO t VALUES (?)", (attack,))
    assert call(db.runQuery, "SELECT name FROM t") == [(attack,)]
    assert call(db.runQuery, "SELECT count(*) FROM sqlite_master WHERE name = 't'") == [(1,)]


def test_interactions_commit_or_roll_back_everything(open_service):
    db = open_service("sqlite", "sqlite:///:memory:")

    def create_and_fill(cursor: Any, n: int) -> int:
        cursor.execute("CREATE TABLE t (x)")
        cursor.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(n)])
        return cursor.execute("SELECT count(*) FROM t").fetchone()[0]

    def fill_then_fail(cursor: Any) -> None:
        cursor.execute("INSERT INTO t VALUES (100)")
        cursor.execute("CREATE TABLE u (y)")
        raise LookupError("undo")

    assert call(db.runInteraction, create_and_fill, 3) == 3
    with pytest.raises(LookupError, match="undo"):
        call(db.runInteraction, fill_then_fail)
    assert call(db.runQuery, "SELECT count(*) FROM t") == [(3,)]
    assert call(db.runQuery, "SELECT name FROM sqlite_master") == [("t",)]

    async def handler_like() -> Any:
        await db.runOperation("INSERT INTO t VALUES (?)", (4,))
        return await db.runQuery("SELECT max(x) FROM t")

    assert call(handler_like) == [(4,)]


def test_stop_closes_the_file(tmp_path):
    path = tmp_path / "app.db"
    db = call(storage("sqlite"), f"sqlite:///{path}")
    call(db.start)
    call(db.runOperation, "CREATE TABLE t (x)")
    assert str(path) in open_files()
    call(db.stop)
    assert str(path) not in open_files()
    with pytest.raises(sqlite3.ProgrammingError, match="stopped"):
        call(db.runQuery, "SELECT 1")


def test_inline_sqlite_keeps_the_synchronous_1x_api(tmp_path):
    from cyclone.sqlite import InlineSQLite

    db = InlineSQLite(":memory:")
    db.runOperation("CREATE TABLE t (id INTEGER, name TEXT)")
    db.runOperation("INSERT INTO t VALUES (?, ?)", (1, "a"))
    db.runOperationMany("INSERT INTO t VALUES (?, ?)", [(2, "b"), (3, "c")])
    assert db.runQuery("SELECT name FROM t WHERE id > ? ORDER BY id", (1,)) == [("b",), ("c",)]
    db.close()

    path = str(tmp_path / "old.db")
    manual = InlineSQLite(path, autoCommit=False, cursorClass=sqlite3.Row)
    manual.runOperation("CREATE TABLE t (id INTEGER)")
    manual.commit()
    manual.runOperation("INSERT INTO t VALUES (1)")
    manual.rollback()
    manual.runOperation("INSERT INTO t VALUES (2)")
    manual.commit()
    rows = manual.runQuery("SELECT id FROM t")
    assert [row["id"] for row in rows] == [2]
    manual.close()


def test_cyclone_sqlite_names_the_extra_when_the_extension_is_missing():
    script = "import sys; sys.modules['cyclone_ext_sql'] = None; import cyclone.sqlite"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "pip install 'cyclone[sql]'" in result.stderr
    import cyclone.sqlite
    import cyclone_ext_sql

    assert cyclone.sqlite.InlineSQLite is cyclone_ext_sql.InlineSQLite
