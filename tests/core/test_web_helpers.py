"""Helpers around handlers: RedirectHandler, ErrorHandler, add/removeslash, authenticated."""

from client import fetch

from cyclone.web import (
    Application,
    ErrorHandler,
    RedirectHandler,
    RequestHandler,
    addslash,
    authenticated,
    removeslash,
    url,
)


class EchoPathHandler(RequestHandler):
    def get(self, *args):
        self.write(f"{self.request.path}|{self.request.query}")


def test_redirect_handler_with_placeholders(serve):
    port = serve(
        Application(
            [
                (r"/old/([^/]+)/([^/]+)", RedirectHandler, {"url": "/new/{1}/{0}"}),
                (r"/named/(?P<slug>[^/]+)", RedirectHandler, {"url": "/n/{slug}"}),
                (r"/temp", RedirectHandler, {"url": "/elsewhere", "permanent": False}),
                (r"/abs", RedirectHandler, {"url": "https://example.org/x"}),
            ]
        )
    )
    resp = fetch(port, "/old/a/b")
    assert (resp.status, resp.headers["Location"]) == (301, "/new/b/a")
    resp = fetch(port, "/named/post-1")
    assert (resp.status, resp.headers["Location"]) == (301, "/n/post-1")
    resp = fetch(port, "/temp")
    assert (resp.status, resp.headers["Location"]) == (302, "/elsewhere")
    assert fetch(port, "/abs").headers["Location"] == "https://example.org/x"


def test_redirect_handler_keeps_the_query(serve):
    port = serve(Application([(r"/from", RedirectHandler, {"url": "/to?fixed=1"})]))
    location = fetch(port, "/from?a=1&b=x%20y").headers["Location"]
    assert location.startswith("/to?fixed=1&")
    assert "a=1" in location and "b=x+y" in location


def test_redirect_handler_is_followed_by_curl(serve):
    from client import curl

    port = serve(
        Application(
            [
                (r"/start/(\w+)", RedirectHandler, {"url": "/end/{0}"}),
                (r"/end/(\w+)", EchoPathHandler),
            ]
        )
    )
    assert curl("-L", f"http://127.0.0.1:{port}/start/abc?q=1").stdout == b"/end/abc|q=1"


def test_error_handler_in_a_spec(serve):
    port = serve(
        Application(
            [
                (r"/gone", ErrorHandler, {"status_code": 410}),
                (r"/teapot", ErrorHandler, {"status_code": 418}),
            ]
        )
    )
    resp = fetch(port, "/gone")
    assert (resp.status, resp.reason) == (410, "Gone")
    resp = fetch(port, "/gone", method="POST", body=b"x")
    assert resp.status == 410
    assert fetch(port, "/teapot").status == 418


class SlashHandler(RequestHandler):
    @removeslash
    def get(self):
        self.write(f"removed:{self.request.uri}")

    @removeslash
    def post(self):
        self.write("posted")


class AddSlashHandler(RequestHandler):
    @addslash
    def get(self):
        self.write(f"added:{self.request.uri}")

    @addslash
    def post(self):
        self.write("posted")


def test_removeslash(serve):
    port = serve(Application([(r"/r/?", SlashHandler), (r"/", SlashHandler)]))
    resp = fetch(port, "/r/?x=1")
    assert (resp.status, resp.headers["Location"]) == (301, "/r?x=1")
    assert fetch(port, "/r").body == b"removed:/r"
    assert fetch(port, "/").body == b"removed:/"
    assert fetch(port, "/r/", method="POST", body=b"").status == 404
    assert fetch(port, "/r", method="POST", body=b"").body == b"posted"


def test_removeslash_cannot_make_an_open_redirect(serve):
    port = serve(Application([(r"/.*", SlashHandler)]))
    resp = fetch(port, "//evil.com/")
    assert resp.status == 301
    location = resp.headers["Location"]
    assert not location.startswith("//")
    assert location.startswith("/")


def test_addslash(serve):
    port = serve(Application([(r"/a/?", AddSlashHandler)]))
    resp = fetch(port, "/a?x=1")
    assert (resp.status, resp.headers["Location"]) == (301, "/a/?x=1")
    assert fetch(port, "/a/").body == b"added:/a/"
    assert fetch(port, "/a", method="POST", body=b"").status == 404


class SecretHandler(RequestHandler):
    def get_current_user(self):
        return self.get_cookie("user")

    @authenticated
    def get(self):
        self.write(f"hello {self.current_user}")

    @authenticated
    def post(self):
        self.write("posted")


def test_authenticated_redirects_or_forbids(serve):
    port = serve(
        Application([url(r"/secret", SecretHandler)], login_url="/login"),
    )
    resp = fetch(port, "/secret?a=1")
    assert resp.status == 302
    assert resp.headers["Location"] == "/login?next=%2Fsecret%3Fa%3D1"
    assert fetch(port, "/secret", method="POST", body=b"").status == 403
    resp = fetch(port, "/secret", headers={"Cookie": "user=ann"})
    assert resp.body == b"hello ann"


def test_authenticated_without_login_url_is_500(serve):
    port = serve(Application([(r"/secret", SecretHandler)]))
    resp = fetch(port, "/secret")
    assert resp.status == 500
    assert b"login_url" not in resp.body


def test_redirect_handler_placeholders_cannot_point_to_another_host(serve):
    port = serve(Application([(r"/go/(.*)", RedirectHandler, {"url": "/{0}"})]))
    for path in ("/go//evil.com/x", "/go/%2F%2Fevil.com/x", "/go/%5C%5Cevil.com/x"):
        location = fetch(port, path).headers["Location"]
        assert location == "/evil.com/x", (path, location)
