"""bottle: cyclone 1.x's Bottle-style API, plain functions routed with ``@route``.

    uv run python demos/bottle/app.py [--port 8888]

Each function gets the request handler (``req.write``, ``req.get_argument``,
``req.current_user``...) and the path's groups; what it returns is written (a
dict as JSON). ``create_app(base_handler=...)`` gives every route a shared base
class, here the one that reads the signed-in user from a cookie; ``run`` listens
and runs the reactor until Ctrl-C. Try ``/``, ``/hello/you``, ``/login``, ``/me``.
"""

from __future__ import annotations

import argparse
import html
from typing import Any

from twisted.internet import reactor, task

import cyclone.web
from cyclone.bottle import create_app, route, run
from demos.look import STATIC_PATH, page


class BaseHandler(cyclone.web.RequestHandler):
    def get_current_user(self) -> str | None:
        name = self.get_signed_cookie("user")
        return name.decode() if name else None


@route("/")
def index(req: BaseHandler) -> None:
    who = html.escape(req.current_user) if req.current_user else "stranger"
    req.write(
        page(
            f"Hello, {who}",
            '<ul><li><a href="/hello/bottle">/hello/bottle</a> (JSON)</li>'
            '<li><a href="/later">/later</a> (async def)</li>'
            '<li><a href="/login">sign in</a> and see <a href="/me">/me</a></li></ul>',
        )
    )


@route(r"/hello/(\w+)")
def hello(req: BaseHandler, name: str) -> dict[str, str]:
    return {"hello": name}


@route("/later")
async def later(req: BaseHandler) -> dict[str, Any]:
    await task.deferLater(reactor, 0.05, lambda: None)
    return {"waited": 0.05}


@route("/login", method=["GET", "POST"])
def login(req: BaseHandler) -> None:
    if req.request.method == "POST":
        name = req.get_argument("name").strip()[:32]
        if name:
            req.set_signed_cookie("user", name, httponly=True, samesite="Lax")
            req.redirect(req.get_argument("next", "/me"))
            return
    req.write(
        page(
            "Sign in",
            '<form method="post"><input name="name" placeholder="your name" autofocus>'
            f"{req.xsrf_form_html()}<button>sign in</button></form>",
        )
    )


@route("/me")
@cyclone.web.authenticated
def me(req: BaseHandler) -> dict[str, str]:
    return {"user": req.current_user}


SETTINGS: dict[str, Any] = {
    "base_handler": BaseHandler,
    "login_url": "/login",
    "static_path": STATIC_PATH,
    "cookie_secret": "demo-only-secret-change-me",
    "xsrf_cookies": True,
}


def Application(**settings: Any) -> cyclone.web.Application:
    """The routes above, on :class:`BaseHandler`, with the demo's settings (``settings`` win)."""
    return create_app(**{**SETTINGS, **settings})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    args = parser.parse_args()
    run(host="127.0.0.1", port=args.port, **SETTINGS)
