"""cyclone 2 (this repository) serving the three benchmark endpoints.

Usage: python cyclone2_app.py PORT [--access-log PATH | --access-log-events PATH]

Without either option the access log is off (``log_function`` returns
nothing). ``--access-log PATH`` sets ``access_log_file=PATH``: cyclone writes
the lines to the file itself, a batch per ``access_log_flush_interval``.
``--access-log-events PATH`` keeps the access log as twisted.logger events
and has Twisted's text observer write every event to PATH (one write and one
flush per line, as ``cyclone run``'s output does).

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


def make_app(access_log: bool, access_log_file: str | None = None) -> cyclone.web.Application:
    settings: dict = {}
    if not access_log:
        settings["log_function"] = lambda handler: None
    elif access_log_file is not None:
        settings["access_log_file"] = access_log_file
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
    access_log = False
    log_file_path = None
    if "--access-log" in sys.argv:
        access_log = True
        log_file_path = sys.argv[sys.argv.index("--access-log") + 1]
    elif "--access-log-events" in sys.argv:
        access_log = True
        log_path = sys.argv[sys.argv.index("--access-log-events") + 1]
        from twisted.logger import globalLogBeginner, textFileLogObserver

        log_file = open(log_path, "a")
        globalLogBeginner.beginLoggingTo([textFileLogObserver(log_file)], redirectStandardIO=False)
    app = make_app(access_log, log_file_path)
    reactor.listenTCP(port, app, backlog=1024, interface="127.0.0.1")
    run_reactor()


if __name__ == "__main__":
    main()
