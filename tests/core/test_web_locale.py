"""Localization through real HTTP: self.locale, Accept-Language, _ in templates and handlers.

The gettext catalogs are the .po files of locale_data/, compiled to .mo with
Babel when the tests run; the CSV translations are read as they are.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from client import fetch

from cyclone import locale
from cyclone.template import DictLoader
from cyclone.web import Application, RequestHandler

DATA = Path(__file__).parent / "locale_data"


@pytest.fixture(autouse=True)
def _fresh(no_translations: None) -> None:
    """Autouse, so the reset runs before any fixture of the test loads translations."""


@pytest.fixture
def gettext_loaded(mo_directory: Path) -> None:
    locale.load_gettext_translations(str(mo_directory), "cyclone_test")


@pytest.fixture
def csv_loaded() -> None:
    locale.load_translations(str(DATA / "csv"))


TEMPLATES = {
    "school.html": (
        "{{ locale.code }}: {{ _('school') }}, "
        "{% for n in (1, 2) %}{{ _('%(count)d apple', '%(count)d apples', n) % {'count': n} }}; "
        "{% end %}{{ pgettext('law', 'right') }}/{{ pgettext('good', 'right') }}, "
        "{{ pgettext('stick', 'club', 'clubs', 2) }}"
    ),
    "liked.html": "{{ locale.code }}: {{ _('%(name)s liked this', '%(name)s liked this', n) }}",
}


class PageHandler(RequestHandler):
    def get(self, name: str) -> None:
        self.render(name, n=int(self.get_argument("n", "1")))


_MONDAY = datetime.datetime(2024, 1, 1)


class CodeHandler(RequestHandler):
    """Translates in handler code, as a JSON answer."""

    def get(self) -> None:
        _ = self.locale.translate
        self.write(
            {
                "locale": self.locale.code,
                "school": _("school"),
                "apples": _("%(count)d apple", "%(count)d apples", 0) % {"count": 0},
                "day": self.locale.format_day(_MONDAY, dow=True),
            }
        )


class ChosenHandler(PageHandler):
    """The user's choice (?lang=) wins over the browser's."""

    def get_user_locale(self) -> locale.Locale | None:
        code = self.get_argument("lang", None)
        return locale.get(code) if code else None


class DefaultHandler(RequestHandler):
    def get(self) -> None:
        self.write(self.get_browser_locale(default="es_ES").code)


class SetterHandler(RequestHandler):
    def prepare(self) -> None:
        self.locale = locale.get("es_ES")

    def get(self) -> None:
        self.render("school.html")


def app() -> Application:
    return Application(
        [
            (r"/code", CodeHandler),
            (r"/chosen/(.+)", ChosenHandler),
            (r"/default", DefaultHandler),
            (r"/setter", SetterHandler),
            (r"/(.+)", PageHandler),
        ],
        template_loader=DictLoader(TEMPLATES),
    )


def page(port: int, path: str, accept_language: str | None = None) -> str:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    return fetch(port, path, headers=headers).text


@pytest.mark.usefixtures("gettext_loaded")
@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("es-ES;q=0.5, pt-BR", "pt_BR: escola, 1 maçã; 2 maçãs; direito/correto, tacos"),
        (
            "pt-BR;q=0.4, es-ES;q=0.9",
            "es_ES: escuela, 1 manzana; 2 manzanas; derecho/correcto, palos",
        ),
        # A bare language finds a catalog for that language only, not its regions'.
        ("pt", "en_US: school, 1 apple; 2 apples; right/right, clubs"),
        ("de-DE, fr;q=0.8", "en_US: school, 1 apple; 2 apples; right/right, clubs"),
        (None, "en_US: school, 1 apple; 2 apples; right/right, clubs"),
    ],
)
def test_browser_locale_translates_templates(
    serve: Any, accept_language: str | None, expected: str
) -> None:
    assert page(serve(app()), "/school.html", accept_language) == expected


@pytest.mark.usefixtures("gettext_loaded")
def test_translating_in_handler_code_with_plurals(serve: Any) -> None:
    port = serve(app())
    answer = json.loads(fetch(port, "/code", headers={"Accept-Language": "pt-BR"}).body)
    assert answer == {
        "locale": "pt_BR",
        "school": "escola",
        "apples": "0 maçã",
        "day": "Segunda-feira, 1 de janeiro",
    }
    answer = json.loads(fetch(port, "/code", headers={"Accept-Language": "en"}).body)
    assert answer["apples"] == "0 apples"


@pytest.mark.usefixtures("gettext_loaded")
def test_get_user_locale_overrides_the_browser(serve: Any) -> None:
    port = serve(app())
    assert page(port, "/chosen/school.html?lang=es_ES", "pt-BR").startswith("es_ES: escuela")
    assert page(port, "/chosen/school.html", "pt-BR").startswith("pt_BR: escola")


@pytest.mark.usefixtures("gettext_loaded")
def test_locale_can_be_set_and_browser_default_used(serve: Any) -> None:
    port = serve(app())
    assert page(port, "/setter", "pt-BR").startswith("es_ES: escuela")
    assert page(port, "/default") == "es_ES"
    assert page(port, "/default", "pt-BR") == "pt_BR"


@pytest.mark.usefixtures("csv_loaded")
def test_csv_translations_with_plural_rows(serve: Any) -> None:
    port = serve(app())
    assert page(port, "/liked.html?n=1", "es-LA") == "es_LA: A %(name)s le gustó esto"
    assert page(port, "/liked.html?n=3", "es-LA") == "es_LA: A %(name)s les gustó esto"
    assert page(port, "/liked.html?n=3", "en-US") == "en_US: %(name)s liked this"
    assert page(port, "/school.html", "es-LA").startswith("es_LA: escuela")
