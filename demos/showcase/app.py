"""The showcase demo: cyclone 2's core in one small app.

Run it with ``uv run python demos/showcase/app.py`` (or
``uv run cyclone run -r demos.showcase.app.Application``) and open
http://127.0.0.1:8888/.
"""

from __future__ import annotations

import os
import secrets
import sys
import time

from twisted.internet import defer, reactor, task

import cyclone.auth
import cyclone.web
from cyclone import locale
from cyclone.escape import xhtml_escape

HERE = os.path.dirname(os.path.abspath(__file__))
LANGUAGES = ("en_US", "pt_BR", "es_ES")


class IndexHandler(cyclone.web.RequestHandler):
    """The index, rendered from templates/ in the visitor's language."""

    def get_user_locale(self) -> locale.Locale | None:
        # ?lang=pt_BR wins; otherwise the Accept-Language header decides.
        code = self.get_query_argument("lang", None)
        return locale.get(code) if code in LANGUAGES else None

    def get(self) -> defer.Deferred[None]:
        _ = self.locale.translate
        pages = [
            ("/hello", _("plain text")),
            ("/json", _("a dict written as JSON")),
            (self.reverse_url("user", 42), _("a routed path (reverse_url)")),
            ("/sleep", _("@inlineCallbacks and deferLater")),
            ("/async", _("async def awaiting a Deferred")),
            ("/stream", _("a response flushed in chunks")),
            ("/clock", _("long polling: waits for the next tick of a shared clock")),
            ("/upload", _("a multipart file upload")),
            ("/boom", _("an uncaught error (a traceback page with --debug)")),
            ("/login", _("sign in as demo/demo: an XSRF-protected form, a signed cookie")),
            ("/me", _("a page for signed-in users only (@authenticated)")),
            ("/api/whoami", _("an API behind HTTP Basic authentication")),
        ]
        languages = [(code, locale.LOCALE_NAMES[code]["name"]) for code in LANGUAGES]
        return self.render("index.html", pages=pages, languages=languages)


class HelloHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.write("Hello, world\n")


class JSONHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write({"message": "Hello, world", "query": self.request.query})


class UserHandler(cyclone.web.RequestHandler):
    def get(self, user_id: str) -> None:
        self.write({"user": int(user_id)})


class SleepHandler(cyclone.web.RequestHandler):
    @defer.inlineCallbacks
    def get(self):
        started = time.monotonic()
        yield task.deferLater(reactor, 0.2, lambda: None)
        self.write({"slept": round(time.monotonic() - started, 3)})


class AsyncHandler(cyclone.web.RequestHandler):
    async def get(self) -> None:
        value = await task.deferLater(reactor, 0.05, lambda: "computed later")
        self.write({"value": value})


class StreamHandler(cyclone.web.RequestHandler):
    async def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        for i in range(5):
            self.write(f"chunk {i}\n")
            await self.flush()
            await task.deferLater(reactor, 0.05, lambda: None)


class Clock:
    """Ticks once a second and answers every waiting long-poll request."""

    def __init__(self, interval: float = 1.0) -> None:
        self.waiting: set[ClockHandler] = set()
        self.loop = task.LoopingCall(self.tick)
        self.interval = interval

    def start(self) -> None:
        if not self.loop.running:
            self.loop.start(self.interval, now=False)

    def tick(self) -> None:
        now = time.strftime("%H:%M:%S")
        waiting, self.waiting = self.waiting, set()
        for handler in waiting:
            handler.finish({"time": now})


class ClockHandler(cyclone.web.RequestHandler):
    def initialize(self, clock: Clock) -> None:
        self.clock = clock

    @cyclone.web.asynchronous
    def get(self) -> None:
        self.clock.start()
        self.clock.waiting.add(self)
        self.notifyFinish().addCallback(lambda _: self.clock.waiting.discard(self))


UPLOAD_FORM = """<!DOCTYPE html><html><body>
<form method="post" enctype="multipart/form-data">{xsrf}
<input type="file" name="file"> <input name="note" placeholder="a note">
<button>Upload</button></form></body></html>"""


class UploadHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(UPLOAD_FORM.format(xsrf=self.xsrf_form_html()))

    def post(self) -> None:
        files = [
            {"filename": f.filename, "content_type": f.content_type, "size": len(f.body)}
            for f in self.request.files.get("file", [])
        ]
        self.write({"files": files, "note": self.get_body_argument("note", "")})


class BoomHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        raise RuntimeError("the showcase fails on purpose here")


DEMO_USERS = {"demo": "demo"}

LOGIN_FORM = """<!DOCTYPE html><html><body>
<form method="post">{xsrf}<input type="hidden" name="next" value="{next}">
<input name="username" placeholder="user"> <input name="password" type="password">
<button>Sign in</button></form><p>{error}</p></body></html>"""


class SessionHandler(cyclone.web.RequestHandler):
    """The user is the name kept in the signed ``user`` cookie."""

    def get_current_user(self) -> str | None:
        name = self.get_signed_cookie("user")
        return name.decode() if name else None


class LoginHandler(SessionHandler):
    def get(self, error: str = "") -> None:
        next_url = xhtml_escape(self.get_argument("next", "/me"))
        self.write(LOGIN_FORM.format(xsrf=self.xsrf_form_html(), next=next_url, error=error))

    def post(self) -> None:
        name = self.get_body_argument("username", "")
        if DEMO_USERS.get(name) != self.get_body_argument("password", ""):
            self.set_status(403)
            self.get(error="Wrong user name or password.")
            return
        self.set_signed_cookie("user", name, httponly=True, samesite="Lax")
        # Only a local path: "next" must never send the user to another site.
        next_url = self.get_body_argument("next", "/me")
        self.redirect(next_url if next_url.startswith("/") else "/me")


class MeHandler(SessionHandler):
    @cyclone.web.authenticated
    def get(self) -> None:
        self.write(
            f"<p>Signed in as <b>{xhtml_escape(self.current_user)}</b>.</p>"
            f'<form method="post" action="/logout">{self.xsrf_form_html()}'
            "<button>Sign out</button></form>"
        )


class LogoutHandler(SessionHandler):
    def post(self) -> None:
        self.clear_cookie("user")
        self.redirect("/")


class WhoamiHandler(cyclone.web.RequestHandler):
    def get_password(self, username: str) -> str | None:
        return DEMO_USERS.get(username)

    @cyclone.auth.requires("basic", realm="showcase API")
    def get(self) -> None:
        self.write({"user": self.current_user})


def Application(
    debug: bool = False, clock_interval: float = 1.0, cookie_secret: str | None = None
) -> cyclone.web.Application:
    """Build the showcase application (a random ``cookie_secret`` unless given)."""
    clock = Clock(clock_interval)
    # CSV translations: plain text files, nothing to compile on a fresh machine.
    locale.load_translations(os.path.join(HERE, "locale"))
    return cyclone.web.Application(
        [
            (r"/", IndexHandler),
            (r"/hello", HelloHandler),
            (r"/json", JSONHandler),
            cyclone.web.url(r"/user/([0-9]+)", UserHandler, name="user"),
            (r"/sleep", SleepHandler),
            (r"/async", AsyncHandler),
            (r"/stream", StreamHandler),
            (r"/clock", ClockHandler, {"clock": clock}),
            (r"/upload", UploadHandler),
            (r"/boom", BoomHandler),
            (r"/login", LoginHandler),
            (r"/me", MeHandler),
            (r"/logout", LogoutHandler),
            (r"/api/whoami", WhoamiHandler),
        ],
        cookie_secret=cookie_secret or secrets.token_urlsafe(32),
        xsrf_cookies=True,
        login_url="/login",
        template_path=os.path.join(HERE, "templates"),
        static_path=os.path.join(HERE, "static"),
        compress_response=True,
        debug=debug,
    )


def main(argv: list[str]) -> None:
    from twisted.logger import globalLogBeginner, textFileLogObserver

    port = int(argv[argv.index("--port") + 1]) if "--port" in argv else 8888
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stdout)])
    reactor.listenTCP(port, Application(debug="--debug" in argv), interface="127.0.0.1")
    print(f"cyclone showcase on http://127.0.0.1:{port}/  (Ctrl-C stops it)")
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1:])
