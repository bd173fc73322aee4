"""Falcon (ASGI) on uvicorn (httptools + uvloop, one worker, access log off).

Usage: python falcon_app.py PORT
"""

from __future__ import annotations

import json
import sys

import falcon
import falcon.asgi
import uvicorn


class Hello:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = "text/plain; charset=UTF-8"
        resp.text = "Hello, world"


class Message:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        resp.content_type = "application/json"
        resp.text = json.dumps({"message": "Hello, world"})


class User:
    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, user_id: str
    ) -> None:
        resp.content_type = "text/plain; charset=UTF-8"
        resp.text = "user " + user_id


app = falcon.asgi.App()
app.add_route("/", Hello())
app.add_route("/json", Message())
app.add_route("/user/{user_id}", User())


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        workers=1,
        access_log=False,
        log_level="warning",
        backlog=1024,
    )
