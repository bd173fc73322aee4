"""MongoDB for cyclone on txmongo: the ``mongodb://`` service, shipped as a third party would.

This distribution registers ``mongodb`` in the ``cyclone.storage`` entry-point
group from its own ``pyproject.toml``; the core knows nothing of it::

    Application(handlers, services={"mongo": "mongodb://127.0.0.1:27017/app?timeout=5"})

    class PostsHandler(RequestHandler):
        async def get(self):
            posts = await self.settings.mongo.app.posts.find({"draft": False})

The pool connects when the server starts and closes when it stops. When
MongoDB cannot be reached, operations fail with :class:`MongoUnavailable`, an
``HTTPError(503)``. See docs/mongo.md.
"""

from cyclone_ext_mongo._service import (
    MONGO_OPTIONS,
    Collection,
    Database,
    MongoService,
    MongoUnavailable,
    mongodb,
)

__all__ = [
    "MONGO_OPTIONS",
    "Collection",
    "Database",
    "MongoService",
    "MongoUnavailable",
    "mongodb",
]
