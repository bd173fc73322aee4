"""SQL storage for cyclone: ``sqlite://``, ``postgresql://`` and ``mysql://`` services.

Each scheme has a factory registered in the ``cyclone.storage`` entry-point
group: ``factory(url, **options) -> service``, with ``factory.options`` naming
the accepted options and the converter applied to their string values. A
service has ``start()`` and ``stop()`` plus adbapi's asynchronous API:
``runQuery(sql, params)``, ``runOperation(sql, params)`` and
``runInteraction(func, *args, **kw)``, whose Deferreds can be awaited in
``async def`` handlers::

    Application(handlers, services={"db": "postgresql://app@127.0.0.1/app"})

    class PostsHandler(RequestHandler):
        async def get(self):
            rows = await self.settings.db.runQuery("SELECT id, title FROM posts")

When the database cannot be reached, or the connection is lost while an
operation runs (which is then never replayed), operations fail with
:class:`DatabaseUnavailable`, an ``HTTPError(503)``. See docs/sql.md.
"""

from cyclone_ext_sql._errors import DatabaseUnavailable
from cyclone_ext_sql._mysql import MySQLPool, mysql
from cyclone_ext_sql._pool import ReconnectingPool
from cyclone_ext_sql._postgresql import PostgreSQLPool, postgresql
from cyclone_ext_sql._sqlite import InlineSQLite, SQLiteService, sqlite

__all__ = [
    "DatabaseUnavailable",
    "InlineSQLite",
    "MySQLPool",
    "PostgreSQLPool",
    "ReconnectingPool",
    "SQLiteService",
    "mysql",
    "postgresql",
    "sqlite",
]
