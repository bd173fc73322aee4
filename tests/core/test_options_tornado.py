"""Tornado's own option tests, run against cyclone.options.

The test module and its config files ship in the tornado wheel
(``tornado/test/options_test.py``, ``options_test*.cfg``). Its source is
executed with ``tornado.options`` standing for :mod:`cyclone.options`, so its
``OptionParser`` and ``Error`` are cyclone's; the config files are read from
the installed package. Nothing of Tornado's tests is copied here.
"""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

pytest.importorskip("tornado")

import tornado.test.options_test  # the real module: the .cfg files import its Email
import tornado.test.util

from cyclone import options as cyclone_options

_TORNADO_MODULE = "tornado.test.options_test"


def _load_against_cyclone() -> types.ModuleType:
    spec = importlib.util.find_spec(_TORNADO_MODULE)
    assert spec is not None and spec.origin is not None
    with open(spec.origin, encoding="utf-8") as f:
        source = f.read()
    module = types.ModuleType("tornado_options_test_on_cyclone")
    module.__file__ = spec.origin  # the tests find their .cfg files beside it
    real = sys.modules.get("tornado.options")
    sys.modules["tornado.options"] = cyclone_options
    try:
        exec(compile(source, spec.origin, "exec"), module.__dict__)
    finally:
        if real is None:
            del sys.modules["tornado.options"]
        else:
            sys.modules["tornado.options"] = real
    # options_test_types.cfg does "from tornado.test.options_test import Email":
    # the tests must check against that same class.
    module.Email = tornado.test.options_test.Email  # type: ignore[attr-defined]
    return module


TORNADO_TESTS = _load_against_cyclone()

# Collected by pytest as a unittest case: Tornado's OptionsTest against cyclone.options.
TestTornadoOptionsCase = TORNADO_TESTS.OptionsTest


def test_the_tornado_tests_see_cyclone_options() -> None:
    assert TORNADO_TESTS.OptionParser is cyclone_options.OptionParser
    assert TORNADO_TESTS.Error is cyclone_options.Error
    methods = [name for name in dir(TestTornadoOptionsCase) if name.startswith("test_")]
    assert len(methods) >= 20
    assert tornado.test.util.TestCase in TestTornadoOptionsCase.__mro__
