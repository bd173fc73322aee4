"""aiohttp with redis-py's asyncio client: ``GET /redis`` does one Redis GET and returns it.

Usage: python aiohttp_redis_app.py PORT REDIS_URL KEY
"""

from __future__ import annotations

import sys

import redis.asyncio
from aiohttp import web


def main() -> None:
    port, url, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    client = redis.asyncio.from_url(url, decode_responses=True)

    async def get(request: web.Request) -> web.Response:
        return web.Response(text=await client.get(key))

    app = web.Application()
    app.router.add_get("/redis", get)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, backlog=1024)


if __name__ == "__main__":
    main()
