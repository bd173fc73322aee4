"""The Redis demo: keys over HTTP, and a pub/sub page streamed with Server-Sent Events.

Run it with ``uv run python demos/redis/app.py`` (Redis on 127.0.0.1:6379, or
``--redis redis://...``) and try::

    curl -d value=hello http://127.0.0.1:8888/text/greeting   # SET
    curl http://127.0.0.1:8888/text/greeting                  # GET
    curl -X DELETE http://127.0.0.1:8888/text/greeting        # DEL

Open http://127.0.0.1:8888/ to watch the ``demo`` channel live;
``curl -d message=hi http://127.0.0.1:8888/publish/demo`` (or ``redis-cli
PUBLISH demo hi``) sends to it. When Redis is down, every request answers 503.
"""

from __future__ import annotations

import argparse
from typing import Any

import cyclone.web
from cyclone_ext_realtime import SSEHandler
from demos.look import STATIC_PATH

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>cyclone + Redis</title>
<link rel="stylesheet" href="/static/demo.css"></head>
<body>
<h1>Channel <code>demo</code></h1>
<form id="f"><input id="m" placeholder="message" autofocus><button>publish</button></form>
<ul id="log"></ul>
<script>
const log = document.getElementById("log");
new EventSource("/events/demo").onmessage = (e) => {
  const li = document.createElement("li");
  li.textContent = e.data;
  log.appendChild(li);
};
document.getElementById("f").onsubmit = (e) => {
  e.preventDefault();
  const m = document.getElementById("m");
  fetch("/publish/demo", {method: "POST", body: new URLSearchParams({message: m.value})});
  m.value = "";
};
</script></body></html>
"""


class TextHandler(cyclone.web.RequestHandler):
    """``GET``/``POST``/``DELETE /text/<key>``: cyclone 1.x's Redis demo."""

    async def get(self, key: str) -> None:
        value = await self.settings.redis.get(key)
        if value is None:
            raise cyclone.web.HTTPError(404)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.write(value)

    async def post(self, key: str) -> None:
        value = self.get_argument("value")
        await self.settings.redis.set(key, value)
        self.write({"key": key, "value": value})

    async def delete(self, key: str) -> None:
        self.write({"deleted": await self.settings.redis.delete(key)})


class PublishHandler(cyclone.web.RequestHandler):
    async def post(self, channel: str) -> None:
        receivers = await self.settings.redis.publish(channel, self.get_argument("message"))
        self.write({"receivers": receivers})


class EventsHandler(SSEHandler):
    """Every message published on the channel, as an SSE ``message`` event."""

    def on_open(self, channel: str) -> Any:
        self.subscription = self.settings.redis.add_subscription(channel, self.on_redis)
        return self.subscription.when_active().addCallback(
            lambda _: self.send_event("subscribed", event="ready")
        )

    def on_redis(self, channel: str, message: Any) -> None:
        self.send_event(message)

    def on_close(self) -> None:
        self.subscription.cancel()


class PageHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(PAGE)


def Application(redis_url: str = "redis://127.0.0.1:6379/0") -> cyclone.web.Application:
    """The demo's routes over one ``redis://`` service named ``redis``."""
    return cyclone.web.Application(
        [
            (r"/", PageHandler),
            (r"/text/(.+)", TextHandler),
            (r"/publish/(\w+)", PublishHandler),
            (r"/events/(\w+)", EventsHandler),
        ],
        services={"redis": redis_url},
        static_path=STATIC_PATH,
    )


def main() -> None:
    from twisted.internet import reactor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    reactor.listenTCP(args.port, Application(args.redis), interface="127.0.0.1")
    print(f"http://127.0.0.1:{args.port}/")
    reactor.run()


if __name__ == "__main__":
    main()
