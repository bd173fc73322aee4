"""locale: gettext translations in handlers and templates, from compiled catalogues.

    uv run python demos/locale/app.py    # or: uv run cyclone run -r demos.locale.app.Application

Open http://127.0.0.1:8888/ with a browser set to Portuguese or Spanish, or
``curl -H 'Accept-Language: pt-BR' http://127.0.0.1:8888/``, or choose with
``?lang=es_ES``. ``/api/inbox?n=3`` translates in code (``self.locale.translate``).

The catalogues are ``translations/<code>/LC_MESSAGES/demo.po``, compiled to the
``.mo`` files next to them by ``sh demos/locale/compile.sh`` (GNU ``msgfmt``);
both are committed, so the demo runs without gettext's tools.
"""

from __future__ import annotations

import os
from typing import Any

import cyclone.web
from cyclone import locale
from demos.look import STATIC_PATH

HERE = os.path.dirname(os.path.abspath(__file__))
DOMAIN = "demo"
LANGUAGES = {"en_US": "English", "pt_BR": "Português", "es_ES": "Español"}


class LocalizedHandler(cyclone.web.RequestHandler):
    def get_user_locale(self) -> locale.Locale | None:
        """``?lang=`` when it names a language we have; otherwise Accept-Language decides."""
        code = self.get_argument("lang", None)
        return locale.get(code) if code in LANGUAGES else None


class IndexHandler(LocalizedHandler):
    def get(self) -> None:
        n = int(self.get_argument("n", "3"))
        self.render("index.html", n=n, languages=LANGUAGES)


class InboxHandler(LocalizedHandler):
    def get(self) -> None:
        _ = self.locale.translate
        n = int(self.get_argument("n", "1"))
        self.write(
            {
                "locale": self.locale.code,
                "title": _("Inbox"),
                "summary": _("%(count)d new message", "%(count)d new messages", n) % {"count": n},
                "action": self.locale.pgettext("verb", "Post"),
            }
        )


def Application(**settings: Any) -> cyclone.web.Application:
    """Loads the gettext catalogues (for the whole process) and returns the app."""
    locale.load_gettext_translations(os.path.join(HERE, "translations"), DOMAIN)
    locale.set_default_locale("en_US")
    return cyclone.web.Application(
        [(r"/", IndexHandler), (r"/api/inbox", InboxHandler)],
        template_path=os.path.join(HERE, "templates"),
        static_path=STATIC_PATH,
        **settings,
    )


if __name__ == "__main__":
    from twisted.internet import reactor

    reactor.listenTCP(8888, Application(), interface="127.0.0.1")
    print("http://127.0.0.1:8888/")
    reactor.run()
