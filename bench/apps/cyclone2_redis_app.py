"""cyclone 2 with a ``redis://`` service: ``GET /redis`` does one Redis GET and returns it.

Usage: python cyclone2_redis_app.py PORT REDIS_URL KEY [--raw-txredisapi]

With ``--raw-txredisapi`` the handler uses txredisapi's own
``lazyConnectionPool`` instead of the extension's pool (what a user would
write without ``cyclone[redis]``), to show what the extension's pool costs.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from _runner import run_reactor
from twisted.internet import reactor

import cyclone.web


class RedisHandler(cyclone.web.RequestHandler):
    async def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.write(await self.settings.cache.get(self.settings.key))


def main() -> None:
    port, url, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    settings: dict = {"log_function": lambda handler: None, "key": key}
    if "--raw-txredisapi" in sys.argv:
        import txredisapi

        parts = urlsplit(url)
        settings["cache"] = txredisapi.lazyConnectionPool(
            parts.hostname, parts.port, int(parts.path.strip("/") or 0), poolsize=10
        )
    else:
        settings["services"] = {"cache": url + "?pool_size=10"}
    app = cyclone.web.Application([(r"/redis", RedisHandler)], **settings)
    reactor.listenTCP(port, app, backlog=1024, interface="127.0.0.1")
    run_reactor()


if __name__ == "__main__":
    main()
