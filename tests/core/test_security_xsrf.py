"""XSRF: unsafe methods must echo the cookie's token; tokens are masked per response."""

import re

import pytest
from client import fetch

import cyclone.web
from cyclone._xsrf import decode_xsrf_token

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class FormHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write(self.xsrf_form_html() + "\n" + self.xsrf_token.decode())

    def post(self):
        self.write("posted")

    put = patch = delete = post


class OpenHandler(FormHandler):
    no_xsrf = True


class HeaderOnlyHandler(FormHandler):
    def check_xsrf_cookie(self):
        if self.request.headers.get("X-Requested-With") != "XMLHttpRequest":
            raise cyclone.web.HTTPError(403, reason="not an XHR")


@pytest.fixture
def port(serve):
    return serve(
        cyclone.web.Application(
            [(r"/", FormHandler), (r"/open", OpenHandler), (r"/xhr", HeaderOnlyHandler)],
            xsrf_cookies=True,
            xsrf_cookie_kwargs={"httponly": True, "samesite": "Strict", "secure": True},
        )
    )


def get_token(port, cookie=None):
    response = fetch(port, "/", headers={"Cookie": cookie} if cookie else {})
    set_cookie = [v for k, v in response.raw_headers if k.lower() == "set-cookie"]
    form_value = re.search(r'value="([^"]+)"', response.text).group(1)
    return response, set_cookie, form_value


def test_a_first_visit_sets_the_cookie_with_the_configured_attributes(port):
    _, [set_cookie], form_value = get_token(port)
    assert set_cookie.startswith("_xsrf=2|")
    for attribute in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/"):
        assert attribute in set_cookie
    cookie = set_cookie.split(";")[0]
    assert decode_xsrf_token(cookie[6:])[1] == decode_xsrf_token(form_value)[1]


def test_tokens_are_masked_afresh_on_every_response(port):
    _, [set_cookie], _ = get_token(port)
    cookie = set_cookie.split(";")[0]
    seen = set()
    for _ in range(5):
        response, again, form_value = get_token(port, cookie)
        assert again == []  # the cookie is kept, not replaced
        assert form_value in response.text.splitlines()[-1]
        seen.add(form_value)
        assert decode_xsrf_token(form_value)[1] == decode_xsrf_token(cookie[6:])[1]
    assert len(seen) == 5


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_unsafe_methods_need_the_token(port, method):
    _, [set_cookie], token = get_token(port)
    cookie = set_cookie.split(";")[0]
    missing = fetch(port, "/", method, {"Cookie": cookie, **FORM}, b"a=1")
    assert missing.status == 403
    assert missing.reason == f"'_xsrf' argument missing from {method}"
    ok = fetch(port, "/", method, {"Cookie": cookie, **FORM}, f"_xsrf={token}".encode())
    assert (ok.status, ok.body) == (200, b"posted")
    for header in ("X-XSRFToken", "X-CSRFToken"):
        ok = fetch(port, "/", method, {"Cookie": cookie, header: token}, b"")
        assert ok.status == 200


def test_a_token_from_another_cookie_is_refused(port):
    _, [set_cookie], _ = get_token(port)
    _, _, other_token = get_token(port)
    cookie = set_cookie.split(";")[0]
    response = fetch(port, "/", "POST", {"Cookie": cookie, "X-XSRFToken": other_token}, b"")
    assert (response.status, response.reason) == (403, "XSRF cookie does not match POST argument")


def test_missing_cookie_and_malformed_token(port):
    _, _, token = get_token(port)
    response = fetch(port, "/", "POST", {"X-XSRFToken": token}, b"")
    assert (response.status, response.reason) == (403, "XSRF cookie missing from POST")
    _, [set_cookie], _ = get_token(port)
    cookie = set_cookie.split(";")[0]
    for bad in ("2|zz|zz|1", "2|00|0000|1", "nothex", "2|||"):
        response = fetch(port, "/", "POST", {"Cookie": cookie, "X-XSRFToken": bad}, b"")
        assert response.status == 403
        assert "invalid format" in response.reason


def test_a_cyclone_1x_bare_hex_cookie_still_works(port):
    cookie = "_xsrf=" + "0123456789abcdef" * 2
    _, set_cookie, token = get_token(port, cookie)
    assert set_cookie == []
    ok = fetch(port, "/", "POST", {"Cookie": cookie, **FORM}, f"_xsrf={token}".encode())
    assert ok.status == 200
    # The bare token itself, as a cyclone 1.x page would have embedded it.
    ok = fetch(port, "/", "POST", {"Cookie": cookie, "X-XSRFToken": cookie[6:]}, b"")
    assert ok.status == 200


def test_safe_methods_no_xsrf_and_overrides(port):
    assert fetch(port, "/", "GET").status == 200
    assert fetch(port, "/open", "POST", FORM, b"a=1").status == 200
    assert fetch(port, "/xhr", "POST", FORM, b"a=1").reason == "not an XHR"
    assert fetch(port, "/xhr", "POST", {"X-Requested-With": "XMLHttpRequest"}, b"").status == 200
    assert fetch(port, "/nowhere", "POST", FORM, b"a=1").status == 404


def test_checks_are_off_without_the_setting(serve):
    port = serve(cyclone.web.Application([(r"/", FormHandler)]))
    assert fetch(port, "/", "POST", FORM, b"a=1").status == 200


def test_cookie_name_setting(serve):
    port = serve(
        cyclone.web.Application([(r"/", FormHandler)], xsrf_cookies=True, xsrf_cookie_name="csrf")
    )
    response = fetch(port, "/")
    [set_cookie] = [v for k, v in response.raw_headers if k.lower() == "set-cookie"]
    assert set_cookie.startswith("csrf=2|")
    token = response.text.splitlines()[-1]
    cookie = set_cookie.split(";")[0]
    assert fetch(port, "/", "POST", {"Cookie": cookie, "X-XSRFToken": token}, b"").status == 200
