"""The declared settings: typed defaults, type errors, typo warnings, the docs table."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import warnings

import pytest

from cyclone import settings as declared
from cyclone.web import Application, RequestHandler

ROOT = pathlib.Path(__file__).resolve().parents[2]


class Hello(RequestHandler):
    def get(self) -> None:
        self.write("hello")


def build(**settings):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app = Application([("/", Hello)], **settings)
    return app, [w for w in caught if issubclass(w.category, declared.UnknownSettingWarning)]


def test_a_typo_of_a_known_setting_warns_naming_it():
    _, caught = build(cookie_secrte="s3cret")
    assert len(caught) == 1
    assert "'cookie_secrte'" in str(caught[0].message)
    assert "did you mean 'cookie_secret'" in str(caught[0].message)


def test_an_application_key_of_its_own_does_not_warn():
    _, caught = build(my_feature_flags={"beta": True}, site_name="demo")
    assert caught == []


def test_a_service_name_close_to_a_setting_does_not_warn(tmp_path):
    # "debugs" is a service here, not a misspelt "debug".
    _, caught = build(services={"debugs": f"sqlite:///{tmp_path / 'x.db'}"})
    assert caught == []


def test_a_value_of_the_wrong_type_is_an_error_naming_the_setting():
    wrong = r"setting 'shutdown_timeout' must be int or float, not str"
    with pytest.raises(TypeError, match=wrong):
        Application([("/", Hello)], shutdown_timeout="10")
    with pytest.raises(TypeError, match=r"setting 'max_body_size' must be int, not float"):
        Application([("/", Hello)], max_body_size=1.5)
    with pytest.raises(TypeError, match=r"setting 'xsrf_cookie_name' must be str"):
        Application([("/", Hello)], xsrf_cookie_name=42)


def test_none_is_accepted_where_the_declaration_allows_it():
    build(autoescape=None, body_timeout=None, login_url=None)


def test_of_returns_the_default_or_the_value():
    assert declared.STATIC_URL_PREFIX.of({}) == "/static/"
    assert declared.STATIC_URL_PREFIX.of({"static_url_prefix": "/s/"}) == "/s/"
    assert declared.SETTINGS["max_body_size"].of({}) == 100 * 1024 * 1024


def test_every_server_limit_is_a_declared_setting():
    from dataclasses import fields

    from cyclone.httputil import HTTPLimits

    for field in fields(HTTPLimits):
        assert declared.SETTINGS[field.name].default == field.default


def test_redeclaring_a_setting_differently_is_refused():
    with pytest.raises(ValueError, match="already declared by cyclone"):
        declared.declare(declared.Setting("debug", True, "another meaning"))


def test_the_realtime_extension_declares_its_settings():
    import cyclone_ext_realtime  # noqa: F401

    for name in ("websocket_ping_interval", "websocket_max_message_size", "sse_heartbeat_interval"):
        assert declared.SETTINGS[name].owner == "cyclone_ext_realtime"


def test_docs_settings_page_is_generated_from_the_declarations():
    generated = subprocess.run(
        [sys.executable, "-m", "cyclone.settings"], capture_output=True, text=True, check=True
    ).stdout
    page = (ROOT / "docs" / "settings.md").read_text()
    stale = "docs/settings.md is stale: run python -m cyclone.settings > docs/settings.md"
    assert page == generated, stale
