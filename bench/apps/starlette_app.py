"""starlette on uvicorn (httptools + uvloop, one worker, access log off).

Usage: python starlette_app.py PORT
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def hello(request):
    return PlainTextResponse("Hello, world")


async def message(request):
    return JSONResponse({"message": "Hello, world"})


async def user(request):
    return PlainTextResponse("user " + request.path_params["user_id"])


app = Starlette(
    routes=[
        Route("/", hello),
        Route("/json", message),
        Route("/user/{user_id}", user),
    ]
)


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
