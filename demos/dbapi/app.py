"""dbapi: a notes board on an SQL service: ``runQuery``, ``runOperation``, ``runInteraction``.

    uv run python demos/dbapi/app.py                                   # SQLite, ./notes.sqlite3
    uv run python demos/dbapi/app.py --db postgresql://127.0.0.1/test  # or mysql://root@127.0.0.1/test

Open http://127.0.0.1:8888/ to post notes; ``/api/notes`` lists them as JSON and
``POST /api/notes`` with a JSON list adds several in one transaction (all or
none). The same handlers run on SQLite, PostgreSQL and MySQL: only the URL
changes (the placeholders follow the service's ``paramstyle``).
"""

from __future__ import annotations

import argparse
import html
import json
from typing import Any

import cyclone.web
from demos.look import STATIC_PATH, page

# The one thing the three databases spell differently here: a generated key.
GENERATED_ID = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgresql": "SERIAL PRIMARY KEY",
    "mysql": "INTEGER PRIMARY KEY AUTO_INCREMENT",
}
MAX_TEXT = 500


def sql(db: Any, statement: str) -> str:
    """``statement`` written with ``?`` placeholders, in the style of ``db``'s driver."""
    return statement if db.paramstyle == "qmark" else statement.replace("?", "%s")


class NotesBase(cyclone.web.RequestHandler):
    async def prepare(self) -> None:
        # The first request makes the table (IF NOT EXISTS: harmless when it is there).
        if not self.settings.schema_ready:
            await self.settings.db.runOperation(self.settings.schema)
            self.settings.schema_ready = True

    async def notes(self) -> list[dict[str, Any]]:
        rows = await self.settings.db.runQuery(
            f"SELECT id, text FROM {self.settings.table} ORDER BY id"
        )
        return [{"id": row[0], "text": row[1]} for row in rows]

    def note_text(self, value: Any) -> str:
        text = value.strip() if isinstance(value, str) else ""
        if not text or len(text) > MAX_TEXT:
            raise cyclone.web.HTTPError(400, reason=f"A note is 1 to {MAX_TEXT} characters")
        return text


class BoardHandler(NotesBase):
    async def get(self) -> None:
        items = "".join(f"<li>{html.escape(n['text'])}</li>" for n in await self.notes())
        self.write(
            page(
                "Notes",
                '<form method="post"><input name="text" placeholder="a note" autofocus>'
                f'<button>add</button></form><ul class="log">{items}</ul>'
                '<p class="muted"><a href="/api/notes">as JSON</a></p>',
            )
        )

    async def post(self) -> None:
        db = self.settings.db
        text = self.note_text(self.get_body_argument("text", ""))
        await db.runOperation(
            sql(db, f"INSERT INTO {self.settings.table} (text) VALUES (?)"), (text,)
        )
        self.redirect("/")


class NotesAPIHandler(NotesBase):
    async def get(self) -> None:
        self.write({"notes": await self.notes()})

    async def post(self) -> None:
        try:
            texts = json.loads(self.request.body)
        except ValueError:
            raise cyclone.web.HTTPError(400, reason="The body is not JSON")
        if not isinstance(texts, list):
            raise cyclone.web.HTTPError(400, reason="Send a JSON list of notes")
        texts = [self.note_text(t) for t in texts]  # every note is checked before any is stored
        db, table = self.settings.db, self.settings.table

        def add_all(txn: Any) -> int:
            # One transaction: it commits when this returns, rolls back if it raises.
            for text in texts:
                txn.execute(sql(db, f"INSERT INTO {table} (text) VALUES (?)"), (text,))
            txn.execute(f"SELECT COUNT(*) FROM {table}")
            return txn.fetchone()[0]

        total = await db.runInteraction(add_all)
        self.set_status(201)
        self.write({"added": len(texts), "total": total})


def Application(
    db: str = "sqlite:///notes.sqlite3", table: str = "notes"
) -> cyclone.web.Application:
    """The board on the database at URL ``db``, in ``table`` (made on first use)."""
    scheme = db.split(":", 1)[0].split("+", 1)[0]
    return cyclone.web.Application(
        [(r"/", BoardHandler), (r"/api/notes", NotesAPIHandler)],
        services={"db": db},
        static_path=STATIC_PATH,
        table=table,
        schema=f"CREATE TABLE IF NOT EXISTS {table} "
        f"(id {GENERATED_ID[scheme]}, text VARCHAR({MAX_TEXT}) NOT NULL)",
        schema_ready=False,
    )


if __name__ == "__main__":
    from twisted.internet import reactor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--db", default="sqlite:///notes.sqlite3")
    args = parser.parse_args()
    reactor.listenTCP(args.port, Application(args.db), interface="127.0.0.1")
    print(f"http://127.0.0.1:{args.port}/ on {args.db}")
    reactor.run()
