"""Tornado's own escape tests, run against cyclone.escape.

The test module ships in the tornado wheel (``tornado/test/escape_test.py``).
Its source is loaded from the installed package and executed with
``tornado.escape`` standing for :mod:`cyclone.escape`: the ``from tornado.escape
import ...`` names and the ``tornado.escape.linkify`` attribute it reads both
resolve to cyclone's functions. Nothing of Tornado's tests is copied here.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any

import pytest

pytest.importorskip("tornado")

import tornado
import tornado.test.util  # imported with the real tornado.escape in place
import tornado.util

from cyclone import escape

_TORNADO_MODULE = "tornado.test.escape_test"


def _load_against_cyclone() -> types.ModuleType:
    spec = importlib.util.find_spec(_TORNADO_MODULE)
    assert spec is not None and spec.origin is not None
    with open(spec.origin, encoding="utf-8") as f:
        source = f.read()
    module = types.ModuleType("tornado_escape_test_on_cyclone")
    module.__file__ = spec.origin
    real = sys.modules.get("tornado.escape")
    sys.modules["tornado.escape"] = escape
    try:
        exec(compile(source, spec.origin, "exec"), module.__dict__)
    finally:
        if real is None:
            del sys.modules["tornado.escape"]
        else:
            sys.modules["tornado.escape"] = real
    # The tests also read ``tornado.escape.<name>`` through the package.
    module.tornado = types.SimpleNamespace(escape=escape)  # type: ignore[attr-defined]
    return module


TORNADO_TESTS = _load_against_cyclone()

# Collected by pytest as a unittest case: Tornado's EscapeTestCase, every method
# of it (subtests included) running against cyclone.escape.
TestTornadoEscapeCase = TORNADO_TESTS.EscapeTestCase


def test_the_tornado_tests_see_cyclone_escape() -> None:
    for name in ("xhtml_escape", "url_unescape", "parse_qs_bytes", "_unquote_to_bytes"):
        assert getattr(TORNADO_TESTS, name) is getattr(escape, name)
    assert TORNADO_TESTS.tornado.escape is escape
    methods = [name for name in dir(TestTornadoEscapeCase) if name.startswith("test_")]
    assert len(methods) >= 15
    assert len(TORNADO_TESTS.linkify_tests) >= 30


@pytest.mark.parametrize(
    ("text", "kwargs", "html"),
    TORNADO_TESTS.linkify_tests,
    ids=lambda value: repr(value)[:40] if isinstance(value, str | bytes) else "",
)
def test_tornado_linkify_case(text: Any, kwargs: dict[str, Any], html: str) -> None:
    assert escape.linkify(text, **kwargs) == html


def test_the_tests_come_from_tornado_6() -> None:
    assert tornado.version_info[0] == 6
    assert tornado.util.unicode_type is str
