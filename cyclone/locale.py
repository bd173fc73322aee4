"""Translations and locale-aware formatting of dates, lists and numbers.

Strategy: translations are loaded once per process into module state, either
from CSV files (:func:`load_translations`) or from compiled gettext catalogs
(:func:`load_gettext_translations`); loading replaces what was loaded before.
:func:`get` (or :meth:`Locale.get_closest`) picks the best supported locale
for a list of codes, and :meth:`Locale.get` builds each :class:`Locale` once.
The English strings passed to ``translate`` are the message ids, so formatting
methods translate their own templates ("%(weekday)s at %(time)s") too.

:func:`parse_accept_language` turns an ``Accept-Language`` header into codes
ordered by preference, for ``RequestHandler.get_browser_locale``.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import gettext
import os
import re
from typing import Any

from twisted.logger import Logger

from cyclone._locale_data import LOCALE_NAMES

__all__ = [
    "LOCALE_NAMES",
    "CSVLocale",
    "GettextLocale",
    "Locale",
    "get",
    "get_supported_locales",
    "load_gettext_translations",
    "load_translations",
    "parse_accept_language",
    "set_default_locale",
]

log = Logger(namespace="cyclone.locale")

_default_locale = "en_US"
_translations: dict[str, Any] = {}
_supported_locales: frozenset[str] = frozenset([_default_locale])
_use_gettext = False

_CSV_LOCALE_NAME = re.compile(r"[a-z]+(_[A-Z]+)?$")
_PLURAL_KINDS = ("plural", "singular", "unknown")


def get(*locale_codes: str) -> Locale:
    """The closest supported locale to the given codes, in order of preference."""
    return Locale.get_closest(*locale_codes)


def set_default_locale(code: str) -> None:
    """Use ``code`` when no requested locale is supported (default ``en_US``)."""
    global _default_locale
    _default_locale = code
    _loaded(_translations, _use_gettext)


def get_supported_locales() -> frozenset[str]:
    """Codes with loaded translations, plus the default locale."""
    return _supported_locales


def _loaded(translations: dict[str, Any], use_gettext: bool) -> None:
    global _translations, _supported_locales, _use_gettext
    _translations = translations
    _use_gettext = use_gettext
    _supported_locales = frozenset([*translations, _default_locale])
    Locale._cache.clear()


def load_translations(directory: str, encoding: str | None = None) -> None:
    """Load ``<code>.csv`` files from ``directory``, e.g. ``es_GT.csv``.

    Each row is ``"english","translation"`` with an optional third column
    ``plural`` or ``singular`` for messages translated with a count. Without an
    ``encoding``, files are read as UTF-16 when they start with its byte order
    mark and as UTF-8 (with or without BOM) otherwise.
    """
    translations: dict[str, dict[str, dict[str, str]]] = {}
    for filename in sorted(os.listdir(directory)):
        code, extension = os.path.splitext(filename)
        if extension != ".csv":
            continue
        path = os.path.join(directory, filename)
        if not _CSV_LOCALE_NAME.match(code):
            log.error("Unrecognized locale {code!r} (path: {path})", code=code, path=path)
            continue
        file_encoding = encoding or _sniff_encoding(path)
        messages: dict[str, dict[str, str]] = {}
        with open(path, encoding=file_encoding, newline="") as f:
            for number, row in enumerate(csv.reader(f), start=1):
                if len(row) < 2:
                    continue
                english, translation, *rest = (cell.strip() for cell in row)
                kind = (rest[0] if rest else "") or "unknown"
                if kind not in _PLURAL_KINDS:
                    log.error(
                        "Unrecognized plural indicator {kind!r} in {path} line {number}",
                        kind=kind,
                        path=path,
                        number=number,
                    )
                    continue
                messages.setdefault(kind, {})[english] = translation
        translations[code] = messages
    _loaded(translations, use_gettext=False)


def _sniff_encoding(path: str) -> str:
    with open(path, "rb") as f:
        start = f.read(2)
    if start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    return "utf-8-sig"


def load_gettext_translations(directory: str, domain: str) -> None:
    """Load gettext catalogs ``directory/<code>/LC_MESSAGES/<domain>.mo``."""
    translations: dict[str, gettext.NullTranslations] = {}
    for code in sorted(os.listdir(directory)):
        if code.startswith(".") or not os.path.isdir(os.path.join(directory, code)):
            continue
        if not os.path.exists(os.path.join(directory, code, "LC_MESSAGES", domain + ".mo")):
            continue
        try:
            translations[code] = gettext.translation(domain, directory, languages=[code])
        except Exception as e:
            log.error("Cannot load translation for {code!r}: {error}", code=code, error=e)
    _loaded(translations, use_gettext=True)


_LANGUAGE_RANGE = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$")


def parse_accept_language(header: str | None) -> list[str]:
    """Language codes of an ``Accept-Language`` header, most preferred first.

    Entries with ``q=0``, a malformed code or a malformed q-value are dropped,
    as is the wildcard ``*``; equal q-values keep their header order.
    """
    weighted: list[tuple[float, str]] = []
    for entry in (header or "").split(","):
        code, *params = (part.strip() for part in entry.split(";"))
        if not _LANGUAGE_RANGE.match(code):
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() != "q":
                continue
            try:
                quality = float(value)
            except ValueError:
                quality = -1.0
            if not 0.0 <= quality <= 1.0:
                quality = -1.0
        if quality > 0:
            weighted.append((quality, code))
    weighted.sort(key=lambda pair: pair[0], reverse=True)
    return [code for _, code in weighted]


class Locale:
    """A locale: translates messages and formats dates, lists and numbers."""

    _cache: dict[str, Locale] = {}

    @classmethod
    def get_closest(cls, *locale_codes: str) -> Locale:
        """The first supported code, trying ``pt-br`` as ``pt_BR`` and then ``pt``."""
        for code in locale_codes:
            if not code:
                continue
            parts = code.replace("-", "_").split("_")
            if len(parts) > 2:
                continue
            language = parts[0].lower()
            if len(parts) == 2:
                full = f"{language}_{parts[1].upper()}"
                if full in _supported_locales:
                    return cls.get(full)
            if language in _supported_locales:
                return cls.get(language)
        return cls.get(_default_locale)

    @classmethod
    def get(cls, code: str) -> Locale:
        """The locale for a supported ``code`` (see :func:`get_supported_locales`)."""
        locale = cls._cache.get(code)
        if locale is None:
            if code not in _supported_locales:
                raise ValueError(f"unsupported locale {code!r}")
            translations = _translations.get(code)
            if translations is None:
                locale = CSVLocale(code, {})
            elif _use_gettext:
                locale = GettextLocale(code, translations)
            else:
                locale = CSVLocale(code, translations)
            cls._cache[code] = locale
        return locale

    def __init__(self, code: str) -> None:
        self.code = code
        self.name = LOCALE_NAMES.get(code, {}).get("name", "Unknown")
        self.rtl = code.startswith(("fa", "ar", "he"))
        _ = self.translate
        self._months = [
            _("January"), _("February"), _("March"), _("April"),
            _("May"), _("June"), _("July"), _("August"),
            _("September"), _("October"), _("November"), _("December"),
        ]  # fmt: skip
        self._weekdays = [
            _("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"),
            _("Friday"), _("Saturday"), _("Sunday"),
        ]  # fmt: skip

    def translate(
        self, message: str, plural_message: str | None = None, count: int | None = None
    ) -> str:
        """Translate ``message``; with ``plural_message``, pick by ``count``."""
        raise NotImplementedError()

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """Translate ``message`` as meant in ``context`` (gettext's msgctxt)."""
        raise NotImplementedError()

    def format_date(
        self,
        date: int | float | datetime.datetime,
        gmt_offset: int = 0,
        relative: bool = True,
        shorter: bool = False,
        full_format: bool = False,
    ) -> str:
        """Format a date (a UTC datetime or timestamp) for people.

        Recent dates read "3 minutes ago", "yesterday at 5:06 pm" or "Monday";
        older ones "March 5" or "March 5, 2019 at 1:02 pm". ``gmt_offset`` is
        the viewer's offset from UTC in minutes, as JavaScript's
        ``getTimezoneOffset()`` gives it (positive west of Greenwich).
        ``relative=False`` never says "ago" or "yesterday", ``shorter`` drops the
        time of day, ``full_format`` always gives the full date.
        """
        if isinstance(date, (int, float)):
            date = datetime.datetime.fromtimestamp(date, datetime.UTC)
        elif date.tzinfo is None:
            date = date.replace(tzinfo=datetime.UTC)
        now = datetime.datetime.now(datetime.UTC)
        if date > now:
            # A little in the future is clock skew: call it now. Further, be exact.
            if relative and (date - now).total_seconds() < 60:
                date = now
            else:
                full_format = True
        _ = self.translate
        local_date = date - datetime.timedelta(minutes=gmt_offset)
        local_yesterday = now - datetime.timedelta(minutes=gmt_offset, hours=24)
        age = now - date
        days, seconds = age.days, age.seconds

        template = None
        if not full_format:
            if relative and days == 0:
                if seconds < 50:
                    return _("1 second ago", "%(seconds)d seconds ago", seconds) % {
                        "seconds": seconds
                    }
                if seconds < 50 * 60:
                    minutes = round(seconds / 60)
                    return _("1 minute ago", "%(minutes)d minutes ago", minutes) % {
                        "minutes": minutes
                    }
                hours = round(seconds / 3600)
                return _("1 hour ago", "%(hours)d hours ago", hours) % {"hours": hours}
            if days == 0:
                template = _("%(time)s")
            elif days == 1 and relative and local_date.day == local_yesterday.day:
                template = _("yesterday") if shorter else _("yesterday at %(time)s")
            elif days < 5:
                template = _("%(weekday)s") if shorter else _("%(weekday)s at %(time)s")
            elif days < 334:  # under 11 months: the same month last year would be ambiguous
                template = (
                    _("%(month_name)s %(day)s")
                    if shorter
                    else _("%(month_name)s %(day)s at %(time)s")
                )
        if template is None:
            template = (
                _("%(month_name)s %(day)s, %(year)s")
                if shorter
                else _("%(month_name)s %(day)s, %(year)s at %(time)s")
            )
        return template % {
            "month_name": self._months[local_date.month - 1],
            "weekday": self._weekdays[local_date.weekday()],
            "day": str(local_date.day),
            "year": str(local_date.year),
            "time": self._clock(local_date),
        }

    def _clock(self, moment: datetime.datetime) -> str:
        hour12 = moment.hour % 12 or 12
        if self.code in ("en", "en_US"):
            return "%d:%02d %s" % (hour12, moment.minute, "pm" if moment.hour >= 12 else "am")
        if self.code == "zh_CN":
            return "%s%d:%02d" % ("下午" if moment.hour >= 12 else "上午", hour12, moment.minute)
        return "%d:%02d" % (moment.hour, moment.minute)

    def format_day(self, date: datetime.datetime, gmt_offset: int = 0, dow: bool = True) -> str:
        """Format a day: "Monday, January 22", or "January 22" without ``dow``."""
        local_date = date - datetime.timedelta(minutes=gmt_offset)
        _ = self.translate
        template = _("%(weekday)s, %(month_name)s %(day)s") if dow else _("%(month_name)s %(day)s")
        return template % {
            "month_name": self._months[local_date.month - 1],
            "weekday": self._weekdays[local_date.weekday()],
            "day": str(local_date.day),
        }

    def list(self, parts: list[str]) -> str:
        """Join ``parts`` as prose: "A, B and C"."""
        if not parts:
            return ""
        if len(parts) == 1:
            return parts[0]
        comma = " \u0648 " if self.code.startswith("fa") else ", "
        return self.translate("%(commas)s and %(last)s") % {
            "commas": comma.join(parts[:-1]),
            "last": parts[-1],
        }

    def friendly_number(self, value: int) -> str:
        """``value`` with thousands separators in English ("1,234,567")."""
        if self.code not in ("en", "en_US"):
            return str(value)
        return f"{value:,}"


class CSVLocale(Locale):
    """A locale translated by a CSV file (see :func:`load_translations`)."""

    def __init__(self, code: str, translations: dict[str, dict[str, str]]) -> None:
        self.translations = translations
        super().__init__(code)

    def translate(
        self, message: str, plural_message: str | None = None, count: int | None = None
    ) -> str:
        if plural_message is None:
            return self.translations.get("unknown", {}).get(message, message)
        if count is None:
            raise ValueError("a plural message needs a count")
        if count != 1:
            return self.translations.get("plural", {}).get(plural_message, plural_message)
        return self.translations.get("singular", {}).get(message, message)

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """CSV files have no contexts: translates as :meth:`translate` does."""
        if self.translations:
            log.warn("pgettext is not supported by CSVLocale")
        return self.translate(message, plural_message, count)


class GettextLocale(Locale):
    """A locale translated by a gettext catalog (see :func:`load_gettext_translations`)."""

    def __init__(self, code: str, translations: gettext.NullTranslations) -> None:
        self.translations = translations
        super().__init__(code)

    def translate(
        self, message: str, plural_message: str | None = None, count: int | None = None
    ) -> str:
        if plural_message is None:
            return self.translations.gettext(message)
        if count is None:
            raise ValueError("a plural message needs a count")
        return self.translations.ngettext(message, plural_message, count)

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        if plural_message is None:
            return self.translations.pgettext(context, message)
        if count is None:
            raise ValueError("a plural message needs a count")
        return self.translations.npgettext(context, message, plural_message, count)
