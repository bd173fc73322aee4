"""The showcase demo: cyclone 2's core in one small app.

Run it with ``uv run python demos/showcase/app.py`` (or
``uv run cyclone run -r demos.showcase.app.Application``) and open
http://127.0.0.1:8888/.

The guest book keeps its entries in SQLite, in the file named by ``--db``, the
``SHOWCASE_DB`` environment variable, or else ``cyclone-showcase.sqlite3`` in
the system's temporary directory. The table is created on first use.
"""

from __future__ import annotations

import ast
import os
import secrets
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from twisted.internet import defer, reactor, task

import cyclone.auth
import cyclone.web
from cyclone import locale
from demos.look import STATIC_PATH

HERE = os.path.dirname(os.path.abspath(__file__))
DEMOS = os.path.dirname(HERE)
LANGUAGES = ("en_US", "pt_BR", "es_ES")
DEFAULT_DB = os.path.join(tempfile.gettempdir(), "cyclone-showcase.sqlite3")


class BaseHandler(cyclone.web.RequestHandler):
    """What every page shares: the language choice, the signed-in user, the error page."""

    def get_user_locale(self) -> locale.Locale | None:
        # ?lang=pt_BR wins (and is remembered in a cookie for the other pages);
        # otherwise the Accept-Language header decides.
        code = self.get_query_argument("lang", None)
        if code in LANGUAGES:
            self.set_cookie("lang", code, samesite="Lax")
        else:
            code = self.get_cookie("lang")
        return locale.get(code) if code in LANGUAGES else None

    def get_current_user(self) -> str | None:
        """The user is the name kept in the signed ``user`` cookie."""
        name = self.get_signed_cookie("user")
        return name.decode() if name else None

    def get_template_namespace(self) -> dict[str, Any]:
        namespace = super().get_template_namespace()
        namespace["languages"] = [(code, locale.LOCALE_NAMES[code]["name"]) for code in LANGUAGES]
        return namespace

    def write_error(self, status_code: int, **kwargs: Any) -> Any:
        if self.settings.get("serve_traceback") and kwargs.get("exc_info"):
            return super().write_error(status_code, **kwargs)
        return self.render("error.html", status_code=status_code, reason=self._reason)


class NotFoundHandler(BaseHandler):
    """Paths no route matches: a 404 page with the site's layout."""

    def prepare(self) -> None:
        raise cyclone.web.HTTPError(404)

    def check_xsrf_cookie(self) -> None:
        pass  # a 404 stays a 404, whatever the XSRF state of the request


class IndexHandler(BaseHandler):
    """The index, rendered from templates/ in the visitor's language."""

    def initialize(self, demos: list[dict[str, Any]]) -> None:
        self.demos = demos

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
            ("/guestbook", _("a guest book kept in SQLite (the sqlite:// service)")),
            ("/boom", _("an uncaught error (a traceback page with --debug)")),
            ("/login", _("sign in as demo/demo: an XSRF-protected form, a signed cookie")),
            ("/me", _("a page for signed-in users only (@authenticated)")),
            ("/api/whoami", _("an API behind HTTP Basic authentication")),
        ]
        return self.render("index.html", pages=pages, demos=self.demos)


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


def preferred_type(accept: str | None, offers: tuple[str, ...]) -> str:
    """The offer the ``Accept`` header ranks highest (ties, and no header, go to the first)."""
    if not accept:
        return offers[0]
    ranges = []
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))

    def quality(offer: str) -> tuple[float, int]:
        kind = offer.split("/")[0]
        matches = [
            (specificity, q)
            for media, q in ranges
            for specificity, pattern in ((2, offer), (1, kind + "/*"), (0, "*/*"))
            if media == pattern
        ]
        return (max(matches)[1], 0) if matches else (0.0, 0)

    best = max(offers, key=lambda offer: (quality(offer)[0], -offers.index(offer)))
    return best if quality(best)[0] > 0 else offers[0]


class UploadHandler(BaseHandler):
    """A multipart form; the answer is an HTML page, or JSON for ``Accept: application/json``."""

    def get(self) -> defer.Deferred[None]:
        return self.render("upload.html", files=None, note="")

    def post(self) -> defer.Deferred[None] | None:
        files = [
            {"filename": f.filename, "content_type": f.content_type, "size": len(f.body)}
            for f in self.request.files.get("file", [])
        ]
        note = self.get_body_argument("note", "")
        self.set_header("Vary", "Accept")
        accept = self.request.headers.get("Accept")
        if preferred_type(accept, ("text/html", "application/json")) == "application/json":
            self.write({"files": files, "note": note})
            return None
        return self.render("upload.html", files=files, note=note)


class GuestBook:
    """The guest book's SQL, on whatever ``sqlite://`` service the handlers pass in.

    The table is created on first use; then ``runQuery`` reads, and
    ``runInteraction`` adds an entry and counts them all in one transaction.
    """

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS guestbook ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " name TEXT NOT NULL,"
        " message TEXT NOT NULL,"
        " created REAL NOT NULL)"
    )
    MAX_NAME = 40
    MAX_MESSAGE = 500
    LATEST = 20

    def __init__(self) -> None:
        self.ready = False

    async def _ensure_table(self, db: Any) -> None:
        if not self.ready:
            await db.runOperation(self.SCHEMA)
            self.ready = True

    async def latest(self, db: Any) -> tuple[list[dict[str, Any]], int]:
        """The latest entries, newest first, and how many there are in all."""
        await self._ensure_table(db)
        rows = await db.runQuery(
            "SELECT id, name, message, created FROM guestbook ORDER BY id DESC LIMIT ?",
            (self.LATEST,),
        )
        total = (await db.runQuery("SELECT count(*) FROM guestbook"))[0][0]
        entries = [
            {
                "id": entry_id,
                "name": name,
                "message": message,
                "when": datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%d %H:%M UTC"),
            }
            for entry_id, name, message, created in rows
        ]
        return entries, total

    async def add(self, db: Any, name: str, message: str) -> int:
        """Store an entry; its id."""
        await self._ensure_table(db)

        def insert(txn: Any) -> int:
            txn.execute(
                "INSERT INTO guestbook (name, message, created) VALUES (?, ?, ?)",
                (name, message, time.time()),
            )
            return txn.lastrowid

        return await db.runInteraction(insert)


class GuestBookHandler(BaseHandler):
    def initialize(self, book: GuestBook) -> None:
        self.book = book

    async def get(self) -> None:
        await self.show()

    async def show(self, name: str = "", message: str = "", error: str = "") -> None:
        entries, total = await self.book.latest(self.settings.db)
        await self.render(
            "guestbook.html",
            entries=entries,
            total=total,
            name=name,
            message=message,
            error=error,
            max_name=GuestBook.MAX_NAME,
            max_message=GuestBook.MAX_MESSAGE,
        )

    async def post(self) -> None:
        _ = self.locale.translate
        name = self.get_body_argument("name", "").strip()
        message = self.get_body_argument("message", "").strip()
        error = ""
        if not name or not message:
            error = _("Please give both a name and a message.")
        elif len(name) > GuestBook.MAX_NAME or len(message) > GuestBook.MAX_MESSAGE:
            error = _("The name or the message is too long.")
        if error:
            self.set_status(400)
            await self.show(name, message, error)
            return
        entry_id = await self.book.add(self.settings.db, name, message)
        self.redirect(f"/guestbook#entry-{entry_id}", status=303)


class BoomHandler(BaseHandler):
    def get(self) -> None:
        raise RuntimeError("the showcase fails on purpose here")


DEMO_USERS = {"demo": "demo"}


class LoginHandler(BaseHandler):
    def get(self, error: str = "") -> defer.Deferred[None]:
        next_url = self.get_argument("next", "/me")
        return self.render("login.html", next_url=next_url, error=error)

    def post(self) -> defer.Deferred[None] | None:
        name = self.get_body_argument("username", "")
        if DEMO_USERS.get(name) != self.get_body_argument("password", ""):
            self.set_status(403)
            return self.get(error=self.locale.translate("Wrong user name or password."))
        self.set_signed_cookie("user", name, httponly=True, samesite="Lax")
        # Only a local path: "next" must never send the user to another site.
        next_url = self.get_body_argument("next", "/me")
        self.redirect(next_url if next_url.startswith("/") else "/me")
        return None


class MeHandler(BaseHandler):
    @cyclone.web.authenticated
    def get(self) -> defer.Deferred[None]:
        return self.render("me.html")


class LogoutHandler(BaseHandler):
    def post(self) -> None:
        self.clear_cookie("user")
        self.redirect("/")


class WhoamiHandler(cyclone.web.RequestHandler):
    def get_password(self, username: str) -> str | None:
        return DEMO_USERS.get(username)

    @cyclone.auth.requires("basic", realm="showcase API")
    def get(self) -> None:
        self.write({"user": self.current_user})


def other_demos(first_port: int = 8889) -> list[dict[str, Any]]:
    """Every other demo in demos/: its name, summary, how to run it, where it listens.

    Each gets a port of its own from ``first_port`` on (when its app takes
    ``--port``), so it can run next to the showcase.
    """
    demos = []
    for name in sorted(os.listdir(DEMOS)):
        app = os.path.join(DEMOS, name, "app.py")
        if name == os.path.basename(HERE) or not os.path.isfile(app):
            continue
        with open(app, encoding="utf-8") as f:
            source = f.read()
        doc = ast.get_docstring(ast.parse(source)) or name
        summary = doc.split("\n\n")[0].replace("\n", " ")
        command = f"uv run python demos/{name}/app.py"
        port = 8888
        if "--port" in source:
            port = first_port + len(demos)
            command += f" --port {port}"
        demos.append(
            {
                "name": name,
                "summary": summary,
                "command": command,
                "url": f"http://127.0.0.1:{port}/",
                "shares_port": port == 8888,
            }
        )
    return demos


def sqlite_url(path: str) -> str:
    """The ``sqlite://`` URL of a file (absolute: four slashes)."""
    return "sqlite:///" + urllib.parse.quote(os.path.abspath(path))


def Application(
    debug: bool = False,
    clock_interval: float = 1.0,
    cookie_secret: str | None = None,
    db_path: str | None = None,
    **settings: Any,
) -> cyclone.web.Application:
    """Build the showcase application (a random ``cookie_secret`` unless given).

    ``db_path`` is the guest book's SQLite file (default: ``$SHOWCASE_DB``, or
    a file in the temporary directory); other keywords become settings.
    """
    clock = Clock(clock_interval)
    db_path = db_path or os.environ.get("SHOWCASE_DB") or DEFAULT_DB
    # CSV translations: plain text files, nothing to compile on a fresh machine.
    locale.load_translations(os.path.join(HERE, "locale"))
    return cyclone.web.Application(
        [
            (r"/", IndexHandler, {"demos": other_demos()}),
            (r"/hello", HelloHandler),
            (r"/json", JSONHandler),
            cyclone.web.url(r"/user/([0-9]+)", UserHandler, name="user"),
            (r"/sleep", SleepHandler),
            (r"/async", AsyncHandler),
            (r"/stream", StreamHandler),
            (r"/clock", ClockHandler, {"clock": clock}),
            (r"/upload", UploadHandler),
            (r"/guestbook", GuestBookHandler, {"book": GuestBook()}),
            (r"/boom", BoomHandler),
            (r"/login", LoginHandler),
            (r"/me", MeHandler),
            (r"/logout", LogoutHandler),
            (r"/api/whoami", WhoamiHandler),
        ],
        services={"db": sqlite_url(db_path)},
        cookie_secret=cookie_secret or secrets.token_urlsafe(32),
        xsrf_cookies=True,
        login_url="/login",
        template_path=os.path.join(HERE, "templates"),
        static_path=STATIC_PATH,  # the demos' shared look: demo.css, the favicon, showcase.js
        default_handler_class=NotFoundHandler,
        compress_response=True,
        debug=debug,
        **settings,
    )


def main(argv: list[str]) -> None:
    from twisted.logger import globalLogBeginner, textFileLogObserver

    port = int(argv[argv.index("--port") + 1]) if "--port" in argv else 8888
    db_path = argv[argv.index("--db") + 1] if "--db" in argv else None
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stdout)])
    app = Application(debug="--debug" in argv, db_path=db_path)
    reactor.listenTCP(port, app, interface="127.0.0.1")
    print(f"cyclone showcase on http://127.0.0.1:{port}/  (Ctrl-C stops it)")
    print(f"guest book in {db_path or os.environ.get('SHOWCASE_DB') or DEFAULT_DB}")
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1:])
