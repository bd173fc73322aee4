"""sqlite: cyclone 1.x's ``InlineSQLite``, synchronous SQLite in the reactor thread.

    uv run python demos/sqlite/app.py

``curl -d '' http://127.0.0.1:8888/hits/home`` counts a hit, ``curl
http://127.0.0.1:8888/hits`` lists the counters. ``InlineSQLite`` returns rows
directly, not Deferreds: fine for small local work, as in 1.x. New code should
prefer the ``sqlite://`` service (``demos/dbapi``): same API as PostgreSQL's.
"""

from __future__ import annotations

import cyclone.web
from cyclone.sqlite import InlineSQLite


class HitsHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        rows = self.settings.sqlite.runQuery("SELECT page, hits FROM hits ORDER BY page")
        self.write({page: hits for page, hits in rows})


class HitHandler(cyclone.web.RequestHandler):
    def post(self, page: str) -> None:
        db = self.settings.sqlite
        db.runOperation(
            "INSERT INTO hits (page, hits) VALUES (?, 1)"
            " ON CONFLICT (page) DO UPDATE SET hits = hits + 1",
            (page,),
        )
        self.write(
            {
                "page": page,
                "hits": db.runQuery("SELECT hits FROM hits WHERE page = ?", (page,))[0][0],
            }
        )


def Application(path: str = ":memory:") -> cyclone.web.Application:
    """The counters, in the SQLite file ``path`` (in memory by default)."""
    db = InlineSQLite(path)
    db.runOperation("CREATE TABLE IF NOT EXISTS hits (page TEXT PRIMARY KEY, hits INTEGER)")
    return cyclone.web.Application(
        [(r"/hits", HitsHandler), (r"/hits/([\w-]+)", HitHandler)], sqlite=db
    )


if __name__ == "__main__":
    from twisted.internet import reactor

    reactor.listenTCP(8888, Application(), interface="127.0.0.1")
    print("http://127.0.0.1:8888/hits")
    reactor.run()
