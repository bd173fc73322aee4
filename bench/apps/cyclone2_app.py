"""cyclone 2 (this repository) serving the three benchmark endpoints.

Usage: python cyclone2_app.py PORT [--access-log PATH | --access-log-events PATH]
                                     [--static-dir DIR] [--reactor epoll|uvloop]

Without either option the access log is off (``log_function`` returns
nothing). ``--access-log PATH`` sets ``access_log_file=PATH``: cyclone writes
the lines to the file itself, a batch per ``access_log_flush_interval``.
``--access-log-events PATH`` keeps the access log as twisted.logger events
and has Twisted's text observer write every event to PATH (one write and one
flush per line, as ``cyclone run``'s output does).

``GET /template`` renders ``templates/rows.html`` (100 escaped rows in a base
layout with blocks); ``--static-dir DIR`` serves DIR below ``/static/``
(``StaticFileHandler``). The reactor is what ``cyclone run`` installs by
default, :mod:`cyclone.epollreactor`; ``--reactor epoll`` runs on Twisted's
own epoll reactor instead, ``--reactor uvloop`` on Twisted's asyncio reactor
over uvloop (uvloop must be installed).

If the environment variable ``BENCH_PROFILE`` names a file, the server runs
under cProfile and dumps its statistics there when it is stopped (SIGTERM or
SIGINT).
"""

from __future__ import annotations

import json
import sys

REACTOR = sys.argv[sys.argv.index("--reactor") + 1] if "--reactor" in sys.argv else "default"
if REACTOR == "uvloop":
    import asyncio

    import uvloop
    from twisted.internet import asyncioreactor

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncioreactor.install(asyncio.new_event_loop())
elif REACTOR == "epoll":
    from twisted.internet import epollreactor

    epollreactor.install()
else:  # what ``cyclone run`` installs by default
    from cyclone import epollreactor as cyclone_epollreactor

    cyclone_epollreactor.install()

from _bench_data import ROWS, TEMPLATES, TITLE, option  # noqa: E402
from _runner import run_reactor  # noqa: E402
from twisted.internet import reactor  # noqa: E402

import cyclone.web  # noqa: E402


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


class TemplateHandler(cyclone.web.RequestHandler):
    def get(self) -> object:
        return self.render("rows.html", title=TITLE, rows=ROWS)


def make_app(
    access_log: bool, access_log_file: str | None = None, static_dir: str | None = None
) -> cyclone.web.Application:
    settings: dict = {"template_path": str(TEMPLATES)}
    if static_dir is not None:
        settings["static_path"] = static_dir
    if not access_log:
        settings["log_function"] = lambda handler: None
    elif access_log_file is not None:
        settings["access_log_file"] = access_log_file
    return cyclone.web.Application(
        [
            (r"/", HelloHandler),
            (r"/json", JSONHandler),
            (r"/user/([^/]+)", UserHandler),
            (r"/template", TemplateHandler),
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
    app = make_app(access_log, log_file_path, option("--static-dir"))
    reactor.listenTCP(port, app, backlog=1024, interface="127.0.0.1")
    run_reactor()


if __name__ == "__main__":
    main()
