"""cyclone 1.3 (from PyPI, with current Twisted) serving the benchmark endpoints.

Usage: python cyclone13_app.py PORT

cyclone 1.3 imports and runs on Python 3.11 and current Twisted as it is, so
no import shim is needed. Its access log is turned off with the
``log_function`` setting, as for the other servers.
"""

from __future__ import annotations

import json
import sys

from twisted.internet import reactor

import cyclone.web


class HelloHandler(cyclone.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.write("Hello, world")


class JSONHandler(cyclone.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"message": "Hello, world"}))


class UserHandler(cyclone.web.RequestHandler):
    def get(self, user_id):
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.write("user " + user_id)


def main() -> None:
    app = cyclone.web.Application(
        [
            (r"/", HelloHandler),
            (r"/json", JSONHandler),
            (r"/user/([^/]+)", UserHandler),
        ],
        log_function=lambda handler: None,
    )
    reactor.listenTCP(int(sys.argv[1]), app, backlog=1024, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
