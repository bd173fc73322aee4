"""template: the template language, UI modules and UI methods on one page.

    uv run python demos/template/app.py

http://127.0.0.1:8888/ renders ``templates/index.html``, which extends
``base.html`` (blocks), loops and branches, escapes what it prints, and uses:

- the ``Entry`` UI module (``modules.py``): its own template, and CSS and
  JavaScript that go into the page once however many entries there are;
- the built-in ``Template`` module (``tag.html`` declares its resources with
  ``set_resources``) and ``linkify``;
- the UI method ``ago`` (``uimethods.py``): a function of the handler.
"""

from __future__ import annotations

import os
import time

import cyclone.web
from demos.look import STATIC_PATH
from demos.template import modules, uimethods

HERE = os.path.dirname(os.path.abspath(__file__))

ENTRIES = [
    {
        "title": "Templates <compiled> to Python",
        "body": "Each template becomes a Python function: see https://www.tornadoweb.org/",
        "tags": ["templates", "speed"],
        "age": 600,
    },
    {
        "title": "UI modules",
        "body": "A module brings its CSS and JavaScript along, once per page.",
        "tags": ["modules"],
        "age": 7200,
    },
]


class IndexHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        now = time.time()
        entries = [{**e, "when": now - e["age"]} for e in ENTRIES]
        self.render("index.html", entries=entries, title="Template demo")


def Application() -> cyclone.web.Application:
    """The page at ``/`` with the demo's modules and methods."""
    return cyclone.web.Application(
        [(r"/", IndexHandler)],
        template_path=os.path.join(HERE, "templates"),
        static_path=STATIC_PATH,
        ui_modules=modules,
        ui_methods=uimethods,
    )


if __name__ == "__main__":
    from twisted.internet import reactor

    reactor.listenTCP(8888, Application(), interface="127.0.0.1")
    print("http://127.0.0.1:8888/")
    reactor.run()
