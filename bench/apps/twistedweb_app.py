"""twisted.web with a plain Resource tree serving the benchmark endpoints.

Usage: python twistedweb_app.py PORT

The Site's access log is replaced by a no-op, like every other server here.
"""

from __future__ import annotations

import json
import sys

from twisted.internet import reactor
from twisted.web import resource, server


class Hello(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"Content-Type", b"text/plain; charset=UTF-8")
        return b"Hello, world"


class JSONMessage(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"Content-Type", b"application/json")
        return json.dumps({"message": "Hello, world"}).encode()


class User(resource.Resource):
    isLeaf = True

    def __init__(self, user_id: bytes) -> None:
        super().__init__()
        self.user_id = user_id

    def render_GET(self, request):
        request.setHeader(b"Content-Type", b"text/plain; charset=UTF-8")
        return b"user " + self.user_id


class Users(resource.Resource):
    def getChild(self, path, request):
        return User(path)


class Root(resource.Resource):
    def getChild(self, path, request):
        if path == b"":
            return Hello()
        return resource.NoResource()


class QuietSite(server.Site):
    def log(self, request):
        pass


def main() -> None:
    root = Root()
    root.putChild(b"json", JSONMessage())
    root.putChild(b"user", Users())
    reactor.listenTCP(int(sys.argv[1]), QuietSite(root), backlog=1024, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
