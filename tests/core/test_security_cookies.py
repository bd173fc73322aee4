"""Cookies: attribute injection refused, and a browser-like parser that stays linear."""

import sys

import pytest
from client import fetch

import cyclone.web
from cyclone.httputil import parse_cookie


class CookieHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write(
            {"count": len(self.cookies), "a": self.get_cookie("a"), "z": self.get_cookie("z")}
        )

    def post(self):
        kwargs = {k: self.get_body_argument(k) for k in self.request.body_arguments if k != "value"}
        try:
            self.set_cookie("c", self.get_body_argument("value", "v"), **kwargs)
        except ValueError as e:
            self.write({"refused": str(e)})


@pytest.fixture
def port(serve):
    return serve(cyclone.web.Application([(r"/", CookieHandler)], max_header_size=4 * 1024 * 1024))


@pytest.mark.parametrize(
    "field",
    [
        "value=a;Domain=evil.com",
        "value=a%0d%0aSet-Cookie:+x=1",
        "domain=example.com;+Secure",
        "domain=example.com%0aX:1",
        "path=/;Domain=evil.com",
        "path=/%0d%0aX:+1",
        "samesite=Lax;+Domain=evil.com",
    ],
)
def test_values_that_would_inject_attributes_are_refused(port, field):
    response = fetch(
        port, "/", "POST", {"Content-Type": "application/x-www-form-urlencoded"}, field
    )
    assert b"refused" in response.body
    assert not [v for k, v in response.raw_headers if k.lower() == "set-cookie"]


def test_attributes_are_written(port):
    body = "domain=example.com&path=/app&max_age=60&samesite=strict"
    response = fetch(port, "/", "POST", {"Content-Type": "application/x-www-form-urlencoded"}, body)
    [cookie] = [v for k, v in response.raw_headers if k.lower() == "set-cookie"]
    assert cookie == "c=v; Domain=example.com; Path=/app; Max-Age=60; SameSite=Strict"


def test_browser_like_parsing():
    assert parse_cookie('a=1; b="two"; c=x=y;  d = 4 ;novalue; a=ignored') == {
        "a": "1",
        "b": "two",
        "c": "x=y",
        "d": "4",
        "": "novalue",
    }
    assert parse_cookie("") == {}
    assert parse_cookie(";;; ;") == {}


def test_a_hostile_cookie_header_through_real_http(port):
    # 20 000 cookies plus values built from the characters that made other parsers
    # backtrack (quotes, backslashes, octal escapes, semicolon runs): ~2.5 MB.
    parts = [f"k{i}=v{i}" for i in range(20_000)]
    parts.append("a=" + '"' + "\\" * 500_000 + '"')
    parts.append("b=" + "\\012" * 100_000)
    parts.append(";" * 200_000)
    parts.append("z=" + '"' * 300_001)
    header = "; ".join(parts)
    response = fetch(port, "/", headers={"Cookie": header})
    assert response.status == 200
    assert b'"count":20003' in response.body
    assert b'"z":"' in response.body


def _line_events(header):
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code is parse_cookie.__code__:
            if event == "line":
                count += 1
            return tracer
        return None

    sys.settrace(tracer)
    try:
        parse_cookie(header)
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize(
    "unit",
    ["a=b; ", '"\\"; ', "x=\\012\\012; ", ";", "k=" + '"' * 7 + "; "],
)
def test_parsing_work_grows_linearly(unit):
    # Python-level steps are counted (no timing): doubling the input must not
    # more than double the work; C-level steps are single linear passes (split,
    # partition, strip) with no regular expression that could backtrack.
    small, large = _line_events(unit * 2000), _line_events(unit * 4000)
    assert large <= 2 * small + 10
    assert _line_events("v=" + "\\" * 400_000) <= 20
