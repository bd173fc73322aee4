"""The bottle demo: in-process through create_app, and as a script through run()."""

from __future__ import annotations

import json
import signal
import sys

import requests
from demo_support import ROOT
from servers import free_port

from demos.bottle.app import Application


def check_the_routes(base: str) -> None:
    with requests.Session() as browser:
        home = browser.get(base + "/", timeout=10)
        assert home.status_code == 200 and "Hello, stranger" in home.text
        assert "/static/demo.css" in home.text
        assert browser.get(base + "/hello/you", timeout=10).json() == {"hello": "you"}
        assert browser.get(base + "/later", timeout=10).json() == {"waited": 0.05}
        anonymous = browser.get(base + "/me", allow_redirects=False, timeout=10)
        assert anonymous.status_code == 302
        assert anonymous.headers["Location"] == "/login?next=%2Fme"
        form = browser.get(base + "/login", timeout=10)
        assert 'name="_xsrf"' in form.text
        xsrf = browser.cookies["_xsrf"]
        assert browser.post(base + "/login", data={"name": "ann"}, timeout=10).status_code == 403
        signed_in = browser.post(base + "/login", data={"name": "ann", "_xsrf": xsrf}, timeout=10)
        assert signed_in.url == base + "/me" and json.loads(signed_in.text) == {"user": "ann"}
        assert "Hello, ann" in browser.get(base + "/", timeout=10).text


def test_create_app(serve):
    check_the_routes(f"http://127.0.0.1:{serve(Application())}")


def test_the_script_runs(demo_process):
    port = free_port()
    server = demo_process(
        [sys.executable, str(ROOT / "demos/bottle/app.py"), "--port", str(port)], port
    )
    check_the_routes(f"http://127.0.0.1:{port}")
    assert server.stop(signal.SIGTERM) == 0, server.output()
    assert "GET /hello/you" in server.output()
