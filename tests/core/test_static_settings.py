"""The static_* Application settings end to end: routes, favicon/robots, static_url."""

import cyclone.web
from tests.core.client import fetch


class PageHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write(self.static_url("app.css") + "|" + self.static_url("app.css", include_host=True))


def make_app(tmp_path, **settings):
    (tmp_path / "app.css").write_text("body { color: red }")
    (tmp_path / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (tmp_path / "robots.txt").write_text("User-agent: *\nDisallow:\n")
    return cyclone.web.Application([(r"/", PageHandler)], static_path=str(tmp_path), **settings)


def test_static_url_is_versioned_and_served_with_a_long_cache(serve, tmp_path):
    port = serve(make_app(tmp_path))
    status, _, body = fetch(port, "/")
    assert status == 200
    local, absolute = body.decode().split("|")
    assert local.startswith("/static/app.css?v=") and len(local.split("v=")[1]) == 32
    assert absolute == f"http://127.0.0.1:{port}{local}"
    status, headers, body = fetch(port, local)
    assert status == 200 and body == b"body { color: red }"
    assert headers["Content-Type"].startswith("text/css")
    assert "max-age=315360000" in headers["Cache-Control"]


def test_favicon_and_robots_come_from_static_path(serve, tmp_path):
    port = serve(make_app(tmp_path))
    assert fetch(port, "/favicon.ico").body == b"\x00\x00\x01\x00"
    assert fetch(port, "/robots.txt").body.startswith(b"User-agent: *")


def test_static_url_prefix_and_handler_args(serve, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.html").write_text("<h1>docs</h1>")
    app = make_app(
        tmp_path,
        static_url_prefix="/assets/",
        static_handler_args={"default_filename": "index.html"},
    )
    port = serve(app)
    assert fetch(port, "/").body.decode().startswith("/assets/app.css?v=")
    assert fetch(port, "/assets/docs/").body == b"<h1>docs</h1>"
    assert fetch(port, "/static/app.css").status == 404
