"""cyclone 2 (this repository) serving the three benchmark endpoints.

Usage: python cyclone2_app.py PORT [--access-log PATH]

Without ``--access-log`` the access log is off (``log_function`` returns
nothing). With it, the default twisted.logger access log runs and a text
observer writes every line to PATH, so the cost of logging is measured.

If the environment variable ``BENCH_PROFILE`` names a file, the server runs
under cProfile and dumps its statistics there when it is stopped (SIGTERM or
SIGINT).
"""

from __future__ import annotations

import json
import sys

from _runner import run_reactor
from twisted.internet import reactor

import cyclone.web


class HelloHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.write("Hello, world")


class JSONHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"message": "Hello, world"}))


class UserHandler(cyclone.web.RequestHandler):
    def get(self, user_id: str) -> None:
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.write("user " + user_id)


def make_app(access_log: bool) -> cyclone.web.Application:
    settings: dict = {}
    if not access_log:
        settings["log_function"] = lambda handler: None
    return cyclone.web.Application(
        [
            (r"/", HelloHandler),
            (r"/json", JSONHandler),
            (r"/user/([^/]+)", UserHandler),
        ],
        **settings,
    )


def main() -> None:
    port = int(sys.argv[1])
    log_path = None
    if "--access-log" in sys.argv:
        log_path = sys.argv[sys.argv.index("--access-log") + 1]
        from twisted.logger import globalLogBeginner, textFileLogObserver

        log_file = open(log_path, "a")
        globalLogBeginner.beginLoggingTo([textFileLogObserver(log_file)], redirectStandardIO=False)
    reactor.listenTCP(port, make_app(log_path is not None), backlog=1024, interface="127.0.0.1")
    run_reactor()


if __name__ == "__main__":
    main()
