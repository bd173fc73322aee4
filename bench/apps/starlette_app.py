"""starlette on uvicorn (httptools + uvloop, one worker).

Usage: python starlette_app.py PORT [--access-log FILE] [--static-dir DIR]

The access log is off unless ``--access-log FILE``: then uvicorn's own access
logger (``uvicorn.access``, its default format) writes every line to FILE
through a ``logging.FileHandler``. ``--static-dir DIR`` mounts
``StaticFiles(directory=DIR)`` at ``/static``.
"""

from __future__ import annotations

import sys

import uvicorn
from _bench_data import option
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles


async def hello(request):
    return PlainTextResponse("Hello, world")


async def message(request):
    return JSONResponse({"message": "Hello, world"})


async def user(request):
    return PlainTextResponse("user " + request.path_params["user_id"])


routes = [
    Route("/", hello),
    Route("/json", message),
    Route("/user/{user_id}", user),
]
static_dir = option("--static-dir")
if static_dir is not None:
    routes.append(Mount("/static", StaticFiles(directory=static_dir)))
app = Starlette(routes=routes)


def log_config(path: str | None) -> dict:
    """uvicorn's default logging, with the access log written to ``path``."""
    config = {k: v for k, v in uvicorn.config.LOGGING_CONFIG.items()}
    if path is None:
        return config
    config["handlers"] = {
        **config["handlers"],
        "access": {"formatter": "access", "class": "logging.FileHandler", "filename": path},
    }
    return config


if __name__ == "__main__":
    log_path = option("--access-log")
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        workers=1,
        access_log=log_path is not None,
        log_config=log_config(log_path),
        log_level="info" if log_path is not None else "warning",
        backlog=1024,
    )
