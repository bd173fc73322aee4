"""Fixtures shared by the core's tests: locale catalogs compiled at test time, the wheelhouse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from cyclone import locale

LOCALE_DATA = Path(__file__).parent / "locale_data"


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheels and sdists of every distribution of this checkout, built once."""
    from test_packaging import build_wheelhouse

    return build_wheelhouse(tmp_path_factory)


@pytest.fixture
def no_translations(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Translations are process-wide: a test starts and ends with none loaded, en_US default."""
    empty = str(tmp_path_factory.mktemp("empty"))
    locale.set_default_locale("en_US")
    locale.load_translations(empty)
    yield
    locale.set_default_locale("en_US")
    locale.load_translations(empty)


@pytest.fixture(scope="module")
def mo_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pt_BR and es_ES .po files of locale_data/, compiled to .mo with Babel."""
    root = tmp_path_factory.mktemp("gettext")
    for code in ("pt_BR", "es_ES"):
        with open(LOCALE_DATA / code / "LC_MESSAGES" / "cyclone_test.po", "rb") as f:
            catalog = read_po(f, locale=code)
        target = root / code / "LC_MESSAGES"
        target.mkdir(parents=True)
        with open(target / "cyclone_test.mo", "wb") as f:
            write_mo(f, catalog)
    (root / "xx_XX").mkdir()  # a language directory without this domain: skipped
    return root
