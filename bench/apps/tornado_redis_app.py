"""Tornado with redis-py's asyncio client: ``GET /redis`` does one Redis GET and returns it.

Usage: python tornado_redis_app.py PORT REDIS_URL KEY
"""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio
import tornado.web


async def main() -> None:
    port, url, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    client = redis.asyncio.from_url(url, decode_responses=True)

    class RedisHandler(tornado.web.RequestHandler):
        async def get(self) -> None:
            self.set_header("Content-Type", "text/plain; charset=UTF-8")
            self.write(await client.get(key))

    app = tornado.web.Application([(r"/redis", RedisHandler)], log_function=lambda h: None)
    app.listen(port, address="127.0.0.1", backlog=1024)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
