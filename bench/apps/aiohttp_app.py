"""aiohttp serving the benchmark endpoints (default asyncio loop).

Usage: python aiohttp_app.py PORT [--access-log FILE] [--static-dir DIR]

The access log is off unless ``--access-log FILE``: then aiohttp's default
access logger writes every line to FILE through a ``logging.FileHandler``.
``GET /template`` renders ``templates/rows.j2`` with Jinja2 (autoescape on);
``--static-dir DIR`` serves its files below ``/static/`` with ``FileResponse``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import jinja2
from _bench_data import ROWS, TEMPLATES, TITLE, option
from aiohttp import web

JINJA = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, auto_reload=False
)


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="Hello, world")


async def message(request: web.Request) -> web.Response:
    return web.json_response({"message": "Hello, world"})


async def user(request: web.Request) -> web.Response:
    return web.Response(text="user " + request.match_info["user_id"])


async def template(request: web.Request) -> web.Response:
    html = JINJA.get_template("rows.j2").render(title=TITLE, rows=ROWS)
    return web.Response(text=html, content_type="text/html")


def static_handler(directory: Path):
    async def static(request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        if "/" in name or name.startswith("."):
            raise web.HTTPNotFound()
        return web.FileResponse(directory / name)

    return static


def main() -> None:
    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/json", message)
    app.router.add_get("/user/{user_id}", user)
    app.router.add_get("/template", template)
    static_dir = option("--static-dir")
    if static_dir is not None:
        app.router.add_get("/static/{name}", static_handler(Path(static_dir)))
    access_log = None
    log_path = option("--access-log")
    if log_path is not None:
        access_log = logging.getLogger("aiohttp.access")
        access_log.setLevel(logging.INFO)
        access_log.addHandler(logging.FileHandler(log_path))
        access_log.propagate = False
    web.run_app(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        access_log=access_log,
        print=None,
        backlog=1024,
    )


if __name__ == "__main__":
    main()
