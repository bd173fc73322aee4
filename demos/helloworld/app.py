"""helloworld: a page and a greeting, served with ``cyclone run``.

    uv run cyclone run -r demos.helloworld.app.Application -p 8888

then open http://127.0.0.1:8888/ or try ``curl 'http://127.0.0.1:8888/hello?name=you'``.
``cyclone run`` imports ``Application`` (here a function returning one), listens,
logs each request, and on Ctrl-C lets requests in flight finish before it exits.
"""

from __future__ import annotations

import cyclone.web
from demos.look import STATIC_PATH, page


class MainHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(
            page(
                "Hello, world",
                '<form action="/hello"><input name="name" placeholder="your name">'
                "<button>greet me</button></form>",
            )
        )


class HelloHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        name = self.get_argument("name", "world") or "world"
        self.write({"greeting": f"Hello, {name}"})


def Application() -> cyclone.web.Application:
    """The helloworld routes: ``/`` (a page) and ``/hello?name=`` (JSON)."""
    return cyclone.web.Application(
        [(r"/", MainHandler), (r"/hello", HelloHandler)], static_path=STATIC_PATH
    )
