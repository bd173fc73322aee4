"""Tornado 6.6 serving the three benchmark endpoints (access log off).

Usage: python tornado_app.py PORT

``GET /template`` renders ``templates/rows.html`` (the same template as cyclone 2's).
"""

from __future__ import annotations

import asyncio
import json
import sys

import tornado.web
from _bench_data import ROWS, TEMPLATES, TITLE


class HelloHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.write("Hello, world")


class JSONHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"message": "Hello, world"}))


class UserHandler(tornado.web.RequestHandler):
    def get(self, user_id: str) -> None:
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.write("user " + user_id)


class TemplateHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.render("rows.html", title=TITLE, rows=ROWS)


async def serve(port: int) -> None:
    app = tornado.web.Application(
        [
            (r"/", HelloHandler),
            (r"/json", JSONHandler),
            (r"/user/([^/]+)", UserHandler),
            (r"/template", TemplateHandler),
        ],
        template_path=str(TEMPLATES),
        log_function=lambda handler: None,
    )
    app.listen(port, address="127.0.0.1", backlog=1024)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
