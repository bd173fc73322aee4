"""FastAPI on uvicorn (httptools + uvloop, one worker, access log off).

Usage: python fastapi_app.py PORT
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/", response_class=PlainTextResponse)
async def hello() -> str:
    return "Hello, world"


@app.get("/json")
async def message() -> dict:
    return {"message": "Hello, world"}


@app.get("/user/{user_id}", response_class=PlainTextResponse)
async def user(user_id: str) -> str:
    return "user " + user_id


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
