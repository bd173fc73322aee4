"""cyclone.testing: TestCase over a real loopback port, the in-process Client, 1.x's
CycloneTestCase, and the pytest plugin (run in a pytest subprocess, as users load it)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from twisted.internet import defer, reactor, task

import cyclone.web
from cyclone.testing import BlockingClient, Client, CycloneTestCase, TestCase, call

EVENTS: list[str] = []


class LifeHandler(cyclone.web.RequestHandler):
    def check_xsrf_cookie(self):
        pass  # this handler takes POSTs from any client

    def prepare(self):
        EVENTS.append("prepare")

    async def get(self):
        await task.deferLater(reactor, 0.01, lambda: None)
        self.set_header("X-Seen", self.request.headers.get("X-Probe", "-"))
        self.write({"remote_ip": self.request.remote_ip, "q": self.get_argument("q", "")})

    def post(self):
        self.write(b"posted " + self.request.body)

    def on_finish(self):
        EVENTS.append("on_finish")


class FormHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write(self.xsrf_form_html())

    def post(self):
        self.set_signed_cookie("user", self.get_argument("name"))
        self.redirect("/whoami")


class WhoHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write((self.get_signed_cookie("user") or b"nobody").decode())


def make_app() -> cyclone.web.Application:
    return cyclone.web.Application(
        [(r"/life", LifeHandler), (r"/form", FormHandler), (r"/whoami", WhoHandler)],
        cookie_secret="s3cret" * 6,
        xsrf_cookies=True,
    )


# -- the in-process client ----------------------------------------------------------------


def test_client_runs_the_whole_life_cycle_without_a_socket():
    EVENTS.clear()
    client = BlockingClient(make_app())
    response = client.get("/life", params={"q": "x"}, headers={"X-Probe": "yes"})
    assert response.code == 200
    assert response.json() == {"remote_ip": "127.0.0.1", "q": "x"}
    assert response.headers["X-Seen"] == "yes"
    assert response.headers["Content-Type"].startswith("application/json")
    assert EVENTS == ["prepare", "on_finish"]
    assert client.head("/life").body == b""
    assert client.get("/nowhere").code == 404
    client.close()


def test_client_keeps_cookies_so_xsrf_and_signed_cookies_work():
    client = BlockingClient(make_app())
    assert client.post("/form", body={"name": "ann"}).code == 403  # no XSRF token yet
    client.get("/form")
    token = client.cookies["_xsrf"]
    response = client.post("/form", body={"name": "ann", "_xsrf": token})
    assert response.code == 302 and response.headers["Location"] == "/whoami"
    assert client.get_signed_cookie("user") == b"ann"
    assert client.get("/whoami").text == "ann"
    client.close()


def test_client_returns_deferreds_in_the_reactor_thread():
    client = Client(make_app())

    @defer.inlineCallbacks
    def two_requests():
        first = yield client.post("/life", body=b"abc", headers={"Content-Type": "text/plain"})
        second = yield client.fetch("/life", method="POST", body="d")
        return first.body, second.content, second.get_status()

    assert call(two_requests) == (b"posted abc", b"posted d", 200)
    call(client.close)


# -- TestCase over a real port --------------------------------------------------------------


class TornadoStyleTest(TestCase):
    def get_app(self):
        return make_app()

    def test_fetch_over_loopback(self):
        response = self.fetch("/life?q=1", headers={"X-Probe": "p"})
        assert response.code == 200
        assert response.json()["q"] == "1"
        assert self.get_url("/life").startswith(f"http://127.0.0.1:{self.get_http_port()}/")

    def test_fetch_post_and_redirects(self):
        assert self.fetch("/life", method="POST", body=b"zz").body == b"posted zz"
        assert self.fetch("/form", method="POST", body={"name": "x"}).code == 403

    async def test_async_tests_run_in_the_reactor(self):
        response = await self.client.get("/life")
        assert response.code == 200


# -- cyclone 1.x's names --------------------------------------------------------------------


class OneXStyleTest(CycloneTestCase):
    def __init__(self, *args, **kwargs):
        CycloneTestCase.__init__(self, make_app, *args, **kwargs)

    @defer.inlineCallbacks
    def test_client_get(self):
        response = yield self.client.get("/life")
        self.assertEqual(response.code, 200)
        self.assertIn(b"remote_ip", response.content)

    def test_returning_a_deferred(self):
        return self.client.get("/nowhere").addCallback(lambda r: self.assertEqual(r.code, 404))


class ClassAttributeBuilderTest(CycloneTestCase):
    app_builder = staticmethod(make_app)

    def test_builder_from_the_class(self):
        return self.client.get("/whoami").addCallback(
            lambda r: self.assertEqual(r.body, b"nobody")
        )


# -- the pytest plugin ---------------------------------------------------------------------

PLUGIN_TESTS = textwrap.dedent(
    """
    import pytest
    import cyclone.web


    class Hello(cyclone.web.RequestHandler):
        def get(self):
            self.write("hello " + self.get_argument("who", "world"))


    @pytest.fixture
    def cyclone_app():
        return cyclone.web.Application([(r"/", Hello)])


    def test_client(cyclone_client):
        assert cyclone_client.get("/", params={"who": "you"}).text == "hello you"


    def test_server(cyclone_server):
        assert cyclone_server.fetch("/").body == b"hello world"
        assert cyclone_server.url("/").startswith("http://127.0.0.1:")
    """
)


def test_the_pytest_plugin_is_loaded_through_its_entry_point(tmp_path: Path):
    (tmp_path / "test_app.py").write_text(PLUGIN_TESTS)
    (tmp_path / "test_missing.py").write_text("def test_no_app(cyclone_client):\n    pass\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "2 passed" in result.stdout, result.stdout + result.stderr
    assert "define a 'cyclone_app' fixture" in result.stdout, result.stdout
