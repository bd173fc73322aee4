"""cyclone.bottle: cyclone 1.x's Bottle-style routes, served over real sockets."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from client import fetch, wait_until
from servers import accepts_connections, free_port, server_process
from twisted.internet import defer, reactor, task

import cyclone.bottle
import cyclone.web
from cyclone.bottle import App

# The seed's promise "for the simple", as a 1.x user wrote it (the port is the test's).
SIMPLE = """\
import sys
from cyclone.bottle import run, route


@route("/")
def index(web):
    web.write("Hello, world")


run(host="127.0.0.1", port={port}, log=sys.stdout)
"""


def test_the_ten_line_app_runs_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    script = tmp_path / "simple.py"
    script.write_text(SIMPLE.format(port=port))
    assert len(script.read_text().splitlines()) <= 10
    command = [sys.executable, str(script)]
    with server_process(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        wait_until(lambda: accepts_connections(port) or proc.poll() is not None, timeout=30)
        assert proc.poll() is None, proc.communicate()
        response = fetch(port, "/")
        assert (response.status, response.body) == (200, b"Hello, world")
        assert fetch(port, "/missing").status == 404
        assert fetch(port, "/", method="POST").status == 405
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert f"serving on http://127.0.0.1:{port}/" in out.decode()
    assert "200 GET / (127.0.0.1)" in out.decode()  # the access log goes to log=


def test_run_on_a_busy_port_fails_in_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        script = tmp_path / "busy.py"
        script.write_text(SIMPLE.format(port=busy.getsockname()[1]))
        result = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 1
    assert result.stderr.startswith("cyclone.bottle: cannot listen on")
    assert "Traceback" not in result.stderr


# -- routes in one process -------------------------------------------------------


def make_app(**settings: Any) -> cyclone.web.Application:
    app = App()

    @app.route("/")
    def index(req: Any) -> None:
        req.write("index")

    @app.route("/items/(\\d+)", name="item")
    def show(req: Any, number: str) -> dict[str, Any]:
        return {"item": int(number), "url": req.reverse_url("item", number)}

    @app.route("/items/(\\d+)", method="POST")
    def update(req: Any, number: str) -> str:
        return f"updated {number} to {req.get_argument('value')}"

    @app.route("/async", method=["GET", "PUT"])
    async def later(req: Any) -> str:
        await task.deferLater(reactor, 0.01, lambda: None)
        return f"{req.request.method} later"

    @app.route("/inline")
    @defer.inlineCallbacks
    def inline(req: Any) -> Any:
        yield task.deferLater(reactor, 0.01, lambda: None)
        req.write("inline")

    @app.route("/any", method="ANY")
    def anything(req: Any) -> str:
        return f"any {req.request.method}"

    @app.route("/any", method="DELETE")
    def delete(req: Any) -> str:
        return "deleted"

    @app.route("/setting")
    def setting(req: Any) -> str:
        return req.settings.greeting

    def plain(req: Any) -> str:
        return "called"

    app.route("/called", callback=plain)

    class Classic(cyclone.web.RequestHandler):
        def get(self) -> None:
            self.write("classic")

    return app.create_app(more_handlers=[(r"/classic", Classic)], **settings)


@pytest.fixture
def port(serve: Any) -> int:
    return serve(make_app(greeting="hi", xsrf_cookies=False))


def test_a_function_gets_the_handler_and_writes(port: int) -> None:
    assert fetch(port, "/").body == b"index"


def test_path_groups_become_arguments_and_a_dict_is_json(port: int) -> None:
    response = fetch(port, "/items/7")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.body) == {"item": 7, "url": "/items/7"}


def test_two_methods_of_one_path_share_a_handler(port: int) -> None:
    response = fetch(
        port,
        "/items/7",
        method="POST",
        body="value=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (response.status, response.body) == (200, b"updated 7 to x")
    assert fetch(port, "/items/7", method="PUT").status == 405


def test_async_and_inline_callbacks_functions(port: int) -> None:
    assert fetch(port, "/async").body == b"GET later"
    assert fetch(port, "/async", method="PUT", body="").body == b"PUT later"
    assert fetch(port, "/inline").body == b"inline"


def test_any_catches_every_method_not_routed_otherwise(port: int) -> None:
    for method in ("GET", "POST", "PUT", "PATCH"):
        assert fetch(port, "/any", method=method, body="").body == f"any {method}".encode()
    assert fetch(port, "/any", method="DELETE").body == b"deleted"


def test_settings_callback_routes_and_more_handlers(port: int) -> None:
    assert fetch(port, "/setting").body == b"hi"
    assert fetch(port, "/called").body == b"called"
    assert fetch(port, "/classic").body == b"classic"


def test_base_handler_is_shared_by_the_routes(serve: Any) -> None:
    class WithUser(cyclone.web.RequestHandler):
        def get_current_user(self) -> str:
            return "alice"

    app = App()

    @app.route("/me")
    @cyclone.web.authenticated
    def me(req: Any) -> str:
        return f"I am {req.current_user}"

    port = serve(app.create_app(base_handler=WithUser))
    assert fetch(port, "/me").body == b"I am alice"


def test_bare_route_and_the_module_level_functions(serve: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(cyclone.bottle, "default_app", App())

    @cyclone.bottle.route
    def root(req: Any) -> str:
        return "bare"

    @cyclone.bottle.route("/x", method="post")
    def x(req: Any) -> str:
        return "x"

    port = serve(cyclone.bottle.create_app(xsrf_cookies=False))
    assert fetch(port, "/").body == b"bare"
    assert fetch(port, "/x", method="POST", body="").body == b"x"


def test_routing_one_method_twice_is_an_error() -> None:
    app = App()
    app.route("/", callback=lambda req: None)
    with pytest.raises(ValueError, match="GET is already routed"):
        app.route("/", method="get", callback=lambda req: None)
    with pytest.raises(ValueError, match="no method"):
        app.route("/y", method=[])


def test_the_docstring_example_is_the_api() -> None:
    doc = textwrap.dedent(cyclone.bottle.__doc__ or "")
    assert "from cyclone.bottle import route, run" in doc
    assert "@route(" in doc and "run(host=" in doc
