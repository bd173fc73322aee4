"""cyclone 1.x's ``cyclone.sqlite``, now provided by the ``cyclone-ext-sql`` extension.

``InlineSQLite`` keeps its synchronous 1.x methods; new code should prefer the
``sqlite://`` service (``services={"db": "sqlite:///app.db"}``), whose methods
return Deferreds like the PostgreSQL and MySQL pools. See docs/sql.md.
"""

try:
    from cyclone_ext_sql import DatabaseUnavailable, InlineSQLite, SQLiteService
except ModuleNotFoundError as exc:
    if exc.name != "cyclone_ext_sql":
        raise
    raise ModuleNotFoundError(
        "cyclone.sqlite is provided by the SQL extension: pip install 'cyclone[sql]'",
        name=__name__,
    ) from None

__all__ = ["DatabaseUnavailable", "InlineSQLite", "SQLiteService"]
