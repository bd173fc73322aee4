"""cyclone.locale: gettext and CSV translations, locale choice, formatting.

The gettext catalogs ship as .po sources in locale_data/ and are compiled to
.mo with Babel into a temporary directory when the tests run.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from cyclone import locale
from cyclone.template import Template

DATA = Path(__file__).parent / "locale_data"
UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _fresh(no_translations: None) -> None:
    """Autouse, so the reset runs before any fixture of the test loads translations."""


@pytest.fixture
def gettext_loaded(mo_directory: Path) -> None:
    locale.load_gettext_translations(str(mo_directory), "cyclone_test")


@pytest.fixture
def csv_loaded() -> None:
    locale.load_translations(str(DATA / "csv"))


# --- gettext ------------------------------------------------------------------


def test_gettext_translations_are_supported_locales(gettext_loaded: None) -> None:
    assert locale.get_supported_locales() == {"pt_BR", "es_ES", "en_US"}
    assert isinstance(locale.get("pt_BR"), locale.GettextLocale)


@pytest.mark.parametrize(("code", "school"), [("pt_BR", "escola"), ("es_ES", "escuela")])
def test_gettext_translate(gettext_loaded: None, code: str, school: str) -> None:
    assert locale.get(code).translate("school") == school
    assert locale.get(code).translate("not in the catalog") == "not in the catalog"


def test_gettext_plurals_follow_each_language_rule(gettext_loaded: None) -> None:
    pt, es = locale.get("pt_BR"), locale.get("es_ES")
    apples = ("%(count)d apple", "%(count)d apples")
    assert [pt.translate(*apples, n) % {"count": n} for n in (0, 1, 2)] == [
        "0 maçã",  # Portuguese counts zero as singular
        "1 maçã",
        "2 maçãs",
    ]
    assert [es.translate(*apples, n) % {"count": n} for n in (0, 1, 2)] == [
        "0 manzanas",
        "1 manzana",
        "2 manzanas",
    ]


def test_gettext_pgettext_picks_the_translation_of_the_context(gettext_loaded: None) -> None:
    pt, es = locale.get("pt_BR"), locale.get("es_ES")
    assert (pt.pgettext("law", "right"), pt.pgettext("good", "right")) == ("direito", "correto")
    assert (es.pgettext("law", "right"), es.pgettext("good", "right")) == ("derecho", "correcto")
    assert pt.pgettext("unknown context", "right") == "right"


def test_gettext_pgettext_with_plurals(gettext_loaded: None) -> None:
    pt, es = locale.get("pt_BR"), locale.get("es_ES")
    assert pt.pgettext("organization", "club", "clubs", 1) == "clube"
    assert pt.pgettext("organization", "club", "clubs", 2) == "clubes"
    assert pt.pgettext("stick", "club", "clubs", 2) == "tacos"
    assert es.pgettext("stick", "club", "clubs", 1) == "palo"
    assert es.pgettext("organization", "club", "clubs", 5) == "clubes"
    assert es.pgettext("nothing", "club", "clubs", 5) == "clubs"


def test_plural_message_without_count_is_an_error(gettext_loaded: None) -> None:
    with pytest.raises(ValueError):
        locale.get("pt_BR").translate("a", "b")


def test_gettext_translates_date_and_list_formats(gettext_loaded: None) -> None:
    pt = locale.get("pt_BR")
    monday = datetime.datetime(2024, 1, 1, 15, 4, tzinfo=UTC)
    assert pt.format_day(monday) == "Segunda-feira, 1 de janeiro"
    assert pt.format_date(monday, full_format=True) == "janeiro 1, 2024 at 15:04"
    assert pt.list(["a", "b", "c"]) == "a, b e c"
    assert pt.friendly_number(1234567) == "1234567"
    assert locale.get("es_ES").list(["x", "y"]) == "x y y"


def test_templates_translate_with_underscore(gettext_loaded: None) -> None:
    template = Template("{{ _('school') }} / {{ _('%(count)d apple', '%(count)d apples', 3) }}")
    pt = locale.get("pt_BR")
    assert template.generate(_=pt.translate) == "escola / %(count)d maçãs".encode()


# --- CSV ----------------------------------------------------------------------


def test_csv_translations(csv_loaded: None) -> None:
    assert locale.get_supported_locales() == {"es_LA", "fr_FR", "en_US"}
    es = locale.get("es_LA")
    assert isinstance(es, locale.CSVLocale)
    assert es.translate("school") == "escuela"
    assert es.translate("unknown") == "unknown"
    liked = ("%(name)s liked this", "%(name)s liked this")
    assert es.translate(*liked, 1) == "A %(name)s le gustó esto"
    assert es.translate(*liked, 3) == "A %(name)s les gustó esto"
    assert es.format_day(datetime.datetime(2024, 1, 1)) == "lunes 1 de enero"


def test_csv_rows_with_a_bad_plural_kind_are_skipped(csv_loaded: None) -> None:
    assert locale.get("es_LA").translate("bad kind") == "bad kind"


def test_csv_files_in_utf16_with_bom_are_read(csv_loaded: None) -> None:
    fr = locale.get("fr_FR")
    assert fr.translate("school") == "école"
    assert fr.list(["a", "b", "c"]) == "a, b et c"


def test_csv_explicit_encoding(tmp_path: Path) -> None:
    (tmp_path / "de_DE.csv").write_bytes('"school","Schüle"\n'.encode("latin-1"))
    locale.load_translations(str(tmp_path), encoding="latin-1")
    assert locale.get("de_DE").translate("school") == "Schüle"


def test_csv_pgettext_ignores_the_context(csv_loaded: None) -> None:
    assert locale.get("es_LA").pgettext("anything", "school") == "escuela"


def test_loading_replaces_earlier_translations(csv_loaded: None, mo_directory: Path) -> None:
    before = locale.get("es_LA")
    locale.load_gettext_translations(str(mo_directory), "cyclone_test")
    assert "es_LA" not in locale.get_supported_locales()
    assert locale.get("es_LA").code == "en_US"
    locale.load_translations(str(DATA / "csv"))
    assert locale.get("es_LA") is not before


# --- choosing a locale --------------------------------------------------------


def test_get_closest_normalizes_codes_and_falls_back_to_the_language(
    gettext_loaded: None,
) -> None:
    assert locale.get("pt-br").code == "pt_BR"
    assert locale.get("PT_br").code == "pt_BR"
    assert locale.get("de", "es-ES", "pt_BR").code == "es_ES"
    assert locale.get("a_b_c", "", "pt_BR").code == "pt_BR"
    assert locale.get("pt").code == "en_US"  # "pt" alone is not loaded
    assert locale.get().code == "en_US"
    assert locale.Locale.get_closest("fr", "es_ES").code == "es_ES"


def test_language_only_locale_matches_regional_requests(tmp_path: Path) -> None:
    (tmp_path / "es.csv").write_text('"school","escuela"\n')
    locale.load_translations(str(tmp_path))
    assert locale.get("es_MX").code == "es"


def test_set_default_locale(gettext_loaded: None) -> None:
    locale.set_default_locale("es_ES")
    assert locale.get("de_DE").code == "es_ES"
    locale.set_default_locale("fa_IR")
    assert "fa_IR" in locale.get_supported_locales()
    farsi = locale.get("xx")
    assert farsi.rtl and farsi.name == "فارسی"
    assert farsi.list(["a", "b", "c"]) == "a \u0648 b and c"


def test_unsupported_code_is_an_error() -> None:
    with pytest.raises(ValueError, match="unsupported locale 'zz_ZZ'"):
        locale.Locale.get("zz_ZZ")


def test_locale_names_and_direction(gettext_loaded: None) -> None:
    assert locale.get("pt_BR").name == "Português (Brasil)"
    assert locale.get("en_US").name == "English (US)"
    assert not locale.get("pt_BR").rtl


@pytest.mark.parametrize(
    ("header", "codes"),
    [
        ("da, en-gb;q=0.8, en;q=0.7", ["da", "en-gb", "en"]),
        ("en;q=0.5, fr;q=0.9, de", ["de", "fr", "en"]),
        ("es, pt;q=1.0, it", ["es", "pt", "it"]),  # equal q keeps header order
        ("en;q=0, fr", ["fr"]),
        ("en;q=abc, fr;q=2, de;q=-1, it;q=0.1", ["it"]),
        ("*, ;q=0.5, a b, 123, ok-Latn-x1", ["ok-Latn-x1"]),
        ("pt_BR;level=1;q=0.5", ["pt_BR"]),
        ("", []),
        (None, []),
    ],
)
def test_parse_accept_language(header: str | None, codes: list[str]) -> None:
    assert locale.parse_accept_language(header) == codes


def test_browser_locale_is_parse_then_get(gettext_loaded: None) -> None:
    codes = locale.parse_accept_language("fr-CH, fr;q=0.9, pt-BR;q=0.8, es;q=0.7")
    assert locale.get(*codes).code == "pt_BR"


# --- formatting (English) -----------------------------------------------------


def ago(**delta: float) -> datetime.datetime:
    return datetime.datetime.now(UTC) - datetime.timedelta(**delta)


def test_format_date_relative_seconds_minutes_hours() -> None:
    en = locale.get("en_US")
    assert en.format_date(ago(seconds=1.2)) == "1 second ago"
    assert en.format_date(ago(seconds=10.2)) == "10 seconds ago"
    assert en.format_date(ago(minutes=1, seconds=0.2)) == "1 minute ago"
    assert en.format_date(ago(minutes=20, seconds=0.2)) == "20 minutes ago"
    assert en.format_date(ago(hours=3, seconds=1)) == "3 hours ago"


def test_format_date_accepts_timestamps_and_naive_utc_datetimes() -> None:
    en = locale.get("en_US")
    now = datetime.datetime.now(UTC)
    assert en.format_date(now.timestamp() - 30.5) == "30 seconds ago"
    assert en.format_date(now.replace(tzinfo=None) - datetime.timedelta(seconds=5.5)) == (
        "5 seconds ago"
    )


def test_format_date_slightly_in_the_future_is_now() -> None:
    soon = datetime.datetime.now(UTC) + datetime.timedelta(seconds=20)
    assert locale.get("en_US").format_date(soon) == "0 seconds ago"


def test_format_date_far_future_uses_the_full_format() -> None:
    future = datetime.datetime(2999, 7, 4, 9, 5, tzinfo=UTC)
    assert locale.get("en_US").format_date(future) == "July 4, 2999 at 9:05 am"


def test_format_date_absolute_forms() -> None:
    en = locale.get("en_US")
    date = datetime.datetime(2020, 3, 5, 13, 7, tzinfo=UTC)
    assert en.format_date(date) == "March 5, 2020 at 1:07 pm"
    assert en.format_date(date, shorter=True) == "March 5, 2020"
    assert en.format_date(date, gmt_offset=180) == "March 5, 2020 at 10:07 am"
    assert en.format_date(date, gmt_offset=-660) == "March 6, 2020 at 12:07 am"
    midnight = datetime.datetime(2020, 3, 5, 0, 30, tzinfo=UTC)
    assert en.format_date(midnight) == "March 5, 2020 at 12:30 am"


def test_format_date_recent_days() -> None:
    en = locale.get("en_US")
    three_days = ago(days=3)
    weekday = three_days.strftime("%A")
    assert en.format_date(three_days, shorter=True) == weekday
    assert en.format_date(three_days).startswith(f"{weekday} at ")

    hundred_days = ago(days=100)
    month_day = f"{hundred_days.strftime('%B')} {hundred_days.day}"
    assert en.format_date(hundred_days, shorter=True) == month_day
    assert en.format_date(hundred_days).startswith(f"{month_day} at ")
    assert en.format_date(hundred_days, full_format=True).startswith(
        f"{month_day}, {hundred_days.year} at "
    )


def test_format_date_yesterday() -> None:
    en = locale.get("en_US")
    date = ago(hours=30)
    yesterday = ago(hours=24)
    if date.day == yesterday.day:
        assert en.format_date(date, shorter=True) == "yesterday"
        assert en.format_date(date).startswith("yesterday at ")
    else:
        assert en.format_date(date, shorter=True) == date.strftime("%A")
    assert en.format_date(date, relative=False, shorter=True) == date.strftime("%A")


def test_format_date_today_not_relative_is_the_time() -> None:
    date = ago(minutes=5)
    text = locale.get("en_US").format_date(date, relative=False)
    hour = date.hour % 12 or 12
    assert text == f"{hour}:{date.minute:02d} {'pm' if date.hour >= 12 else 'am'}"


def test_format_day() -> None:
    en = locale.get("en_US")
    day = datetime.datetime(2024, 2, 29, 1, 0)
    assert en.format_day(day) == "Thursday, February 29"
    assert en.format_day(day, dow=False) == "February 29"
    assert en.format_day(day, gmt_offset=120) == "Wednesday, February 28"


def test_list_and_friendly_number() -> None:
    en = locale.get("en_US")
    assert en.list([]) == ""
    assert en.list(["one"]) == "one"
    assert en.list(["a", "b"]) == "a and b"
    assert en.list(["a", "b", "c"]) == "a, b and c"
    assert en.friendly_number(0) == "0"
    assert en.friendly_number(999) == "999"
    assert en.friendly_number(1234567) == "1,234,567"
