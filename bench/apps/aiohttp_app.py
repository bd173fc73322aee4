"""aiohttp serving the benchmark endpoints (access log off, default asyncio loop).

Usage: python aiohttp_app.py PORT
"""

from __future__ import annotations

import sys

from aiohttp import web


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="Hello, world")


async def message(request: web.Request) -> web.Response:
    return web.json_response({"message": "Hello, world"})


async def user(request: web.Request) -> web.Response:
    return web.Response(text="user " + request.match_info["user_id"])


def main() -> None:
    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/json", message)
    app.router.add_get("/user/{user_id}", user)
    web.run_app(
        app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None, backlog=1024
    )


if __name__ == "__main__":
    main()
