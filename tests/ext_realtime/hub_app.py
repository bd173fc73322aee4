"""The application the Redis hub tests run on each server; ``python hub_app.py REDIS_URL``
serves it on a free port of its own process and prints that port.
"""

from __future__ import annotations

import sys

from cyclone.web import Application, RequestHandler
from cyclone_ext_realtime import HubMixin, SSEHandler


class Events(SSEHandler):
    """Streams a channel; the first event says the subscription is live in Redis."""

    def on_open(self, channel):
        sub = self.subscribe(channel)
        sub.ready().addCallback(lambda _: self.send_event("subscribed", event="ready"))


class Publish(HubMixin, RequestHandler):
    async def post(self, channel):
        receivers = await self.publish(channel, {"text": self.request.body.decode()})
        self.write({"receivers": receivers})


def make_app(redis_url: str) -> Application:
    return Application(
        [(r"/events/([\w.-]+)", Events), (r"/publish/([\w.-]+)", Publish)],
        services={"hub": redis_url.replace("redis://", "redis+hub://", 1)},
        sse_heartbeat_interval=0,
    )


if __name__ == "__main__":
    from twisted.internet import reactor

    port = reactor.listenTCP(0, make_app(sys.argv[1]), interface="127.0.0.1")
    print(port.getHost().port, flush=True)
    reactor.run()
