"""Response output as a client sees it: write, flush, finish, redirects, ETags, cookies."""

import json

import pytest
from client import fetch, raw_request, wait_for_equal

from cyclone.web import Application, RequestHandler


def _app(*specs, **settings):
    return Application(list(specs), **settings)


EVENTS: list[str] = []


class GetOnlyHandler(RequestHandler):
    def get(self):
        self.write("got")


# -- output ---------------------------------------------------------------------------


class WriteHandler(RequestHandler):
    def get(self, kind):
        if kind == "str":
            self.write("héllo ")
            self.write("world")
        elif kind == "bytes":
            self.write(b"\x00\x01raw")
        elif kind == "dict":
            self.write({"a": [1, 2], "s": "</script>"})
        elif kind == "list":
            self.write([1, 2, 3])
        elif kind == "int":
            self.write(42)
        elif kind == "none":
            self.write(None)
        elif kind == "typed":
            self.set_header("Content-Type", "application/vnd.custom+json")
            self.write({"x": 1})


def test_write_str_and_bytes(serve):
    port = serve(_app((r"/(\w+)", WriteHandler)))
    resp = fetch(port, "/str")
    assert resp.body == "héllo world".encode()
    assert resp.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert resp.headers["Content-Length"] == str(len("héllo world".encode()))
    assert fetch(port, "/bytes").body == b"\x00\x01raw"


def test_write_dict_is_json(serve):
    port = serve(_app((r"/(\w+)", WriteHandler)))
    resp = fetch(port, "/dict")
    assert resp.headers["Content-Type"].startswith("application/json")
    assert json.loads(resp.body) == {"a": [1, 2], "s": "</script>"}
    assert b"</script>" not in resp.body


def test_write_dict_keeps_an_explicit_content_type(serve):
    port = serve(_app((r"/(\w+)", WriteHandler)))
    resp = fetch(port, "/typed")
    assert resp.headers["Content-Type"] == "application/vnd.custom+json"


def test_write_list_needs_serialize_lists(serve):
    port = serve(_app((r"/(\w+)", WriteHandler)))
    resp = fetch(port, "/list")
    assert resp.status == 500
    assert b"[1" not in resp.body
    port = serve(_app((r"/(\w+)", WriteHandler), serialize_lists=True))
    resp = fetch(port, "/list")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert json.loads(resp.body) == [1, 2, 3]


@pytest.mark.parametrize("kind", ["int", "none"])
def test_write_other_types_is_500(serve, kind):
    port = serve(_app((r"/(\w+)", WriteHandler)))
    assert fetch(port, f"/{kind}").status == 500


class FlushHandler(RequestHandler):
    async def get(self):
        self.write("part1;")
        await self.flush()
        self.write("part2;")
        await self.flush()
        self.finish("end")


def test_flush_streams_chunked(serve):
    port = serve(_app((r"/", FlushHandler)))
    resp = fetch(port, "/")
    assert resp.body == b"part1;part2;end"
    assert resp.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in resp.headers


def test_flush_over_http_1_0_closes_to_delimit(serve):
    port = serve(_app((r"/", FlushHandler)))
    data = raw_request(port, b"GET / HTTP/1.0\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert body == b"part1;part2;end"
    assert b"chunked" not in head.lower()


class FinishTwiceHandler(RequestHandler):
    def get(self):
        self.finish("once")
        try:
            self.finish("twice")
        except RuntimeError:
            EVENTS.append("finish twice refused")
        try:
            self.write("more")
        except RuntimeError:
            EVENTS.append("write after finish refused")


def test_finish_twice_and_write_after_finish_are_refused(serve):
    EVENTS.clear()
    port = serve(_app((r"/", FinishTwiceHandler)))
    assert fetch(port, "/").body == b"once"
    # the handler's code after finish() may run after the client has the response
    wait_for_equal(lambda: EVENTS, ["finish twice refused", "write after finish refused"])


class ClearHandler(RequestHandler):
    def get(self):
        self.set_header("X-Before", "1")
        self.set_status(418)
        self.write("discarded")
        self.clear()
        self.write("kept")


def test_clear_resets_headers_status_and_body(serve):
    port = serve(_app((r"/", ClearHandler)))
    resp = fetch(port, "/")
    assert resp.status == 200
    assert "X-Before" not in resp.headers
    assert resp.body == b"kept"


# -- redirects ------------------------------------------------------------------------


class RedirectingHandler(RequestHandler):
    def get(self):
        to = self.get_argument("to")
        permanent = bool(self.get_argument("permanent", ""))
        status = self.get_argument("status", None)
        self.redirect(to, permanent=permanent, status=int(status) if status else None)


def _location(port, path):
    resp = fetch(port, path)
    return resp.status, resp.headers.get("Location")


def test_redirect_statuses(serve):
    port = serve(_app((r"/r", RedirectingHandler)))
    assert _location(port, "/r?to=/there") == (302, "/there")
    assert _location(port, "/r?to=/there&permanent=1") == (301, "/there")
    assert _location(port, "/r?to=/there&status=307") == (307, "/there")
    assert _location(port, "/r?to=https://example.com/x") == (302, "https://example.com/x")


def test_redirect_to_a_relative_path(serve):
    port = serve(_app((r"/a/r", RedirectingHandler)))
    assert _location(port, "/a/r?to=next") == (302, "/a/next")


def test_redirect_with_invalid_status_is_500(serve):
    port = serve(_app((r"/r", RedirectingHandler)))
    assert fetch(port, "/r?to=/x&status=200").status == 500


@pytest.mark.parametrize(
    "target",
    ["//evil.com/x", "%5C%5Cevil.com/x", "/%5Cevil.com/x", "%5C/evil.com/x", "///evil.com/x"],
)
def test_no_open_redirect_to_another_host(serve, target):
    port = serve(_app((r"/r", RedirectingHandler)))
    status, location = _location(port, f"/r?to={target}")
    assert status == 302
    assert location.startswith("/")
    assert not location.startswith("//")
    assert "\\" not in location[:2]
    assert location.endswith("evil.com/x")


def test_relative_redirect_from_a_double_slash_path_stays_local(serve):
    port = serve(_app((r"/.*", RedirectingHandler)))
    status, location = _location(port, "//evil.com/page?to=next")
    assert status == 302
    assert location == "/evil.com/next"


def test_redirect_following_stays_local(serve):
    import urllib.request

    port = serve(_app((r"/r", RedirectingHandler), (r"/evil\.com/x", GetOnlyHandler)))
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/r?to=//evil.com/x", timeout=5) as r:
        assert r.read() == b"got"


# -- etags ----------------------------------------------------------------------------


class EtagHandler(RequestHandler):
    def get(self):
        self.write("same content")


class NoEtagHandler(RequestHandler):
    def compute_etag(self):
        return None

    def get(self):
        self.write("no etag")


class FixedEtagHandler(RequestHandler):
    def compute_etag(self):
        return '"v1"'

    def get(self):
        self.write("fixed")

    def post(self):
        self.write("posted")


def test_etag_and_304(serve):
    port = serve(_app((r"/", EtagHandler)))
    first = fetch(port, "/")
    etag = first.headers["Etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = fetch(port, "/", headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.body == b""
    assert again.headers["Etag"] == etag
    assert "Content-Type" not in again.headers
    assert fetch(port, "/", headers={"If-None-Match": '"other"'}).status == 200
    assert fetch(port, "/", headers={"If-None-Match": f'"x", W/{etag}'}).status == 304
    assert fetch(port, "/", headers={"If-None-Match": "*"}).status == 304


def test_compute_etag_can_be_replaced_or_disabled(serve):
    port = serve(_app((r"/none", NoEtagHandler), (r"/fixed", FixedEtagHandler)))
    assert "Etag" not in fetch(port, "/none").headers
    assert fetch(port, "/none", headers={"If-None-Match": "*"}).status == 200
    assert fetch(port, "/fixed").headers["Etag"] == '"v1"'
    assert fetch(port, "/fixed", headers={"If-None-Match": '"v1"'}).status == 304
    # Only GET and HEAD get the automatic 304.
    resp = fetch(port, "/fixed", method="POST", body=b"", headers={"If-None-Match": '"v1"'})
    assert resp.status == 200
    assert resp.body == b"posted"


class UnicodeRedirectHandler(RequestHandler):
    def get(self):
        self.redirect("/café/ü?q=ß")


def test_redirect_to_non_ascii_is_percent_encoded(serve):
    port = serve(_app((r"/", UnicodeRedirectHandler)))
    location = fetch(port, "/").headers["Location"]
    assert location == "/caf%C3%A9/%C3%BC?q=%C3%9F"


class CookieHandler(RequestHandler):
    def get(self):
        seen = self.get_cookie("seen", "never")
        self.set_cookie("seen", "yes", httponly=True, samesite="Lax", max_age=60)
        self.set_cookie("other", "1", path="/sub", secure=True)
        self.clear_cookie("old")
        self.write(seen)


class BadCookieHandler(RequestHandler):
    def get(self):
        try:
            self.set_cookie("name", "value; Domain=evil.com")
        except ValueError:
            self.write("refused")


def test_cookies_round_trip(serve):
    port = serve(_app((r"/", CookieHandler), (r"/bad", BadCookieHandler)))
    resp = fetch(port, "/")
    assert resp.body == b"never"
    cookies = resp.headers.get_all("Set-Cookie")
    assert "seen=yes; Path=/; Max-Age=60; HttpOnly; SameSite=Lax" in cookies
    assert "other=1; Path=/sub; Secure" in cookies
    old = [c for c in cookies if c.startswith("old=")]
    assert len(old) == 1 and "Max-Age=0" in old[0] and "Expires=" in old[0]
    assert fetch(port, "/", headers={"Cookie": "seen=yes; x=1"}).body == b"yes"
    assert fetch(port, "/bad").body == b"refused"
