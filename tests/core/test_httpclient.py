"""cyclone.httpclient.fetch against real cyclone servers on loopback."""

import json
import socket

import pytest
from twisted.internet import defer, error

import cyclone.web
from cyclone.httpclient import HTTPResponse, fetch
from cyclone.testing import call


class EchoHandler(cyclone.web.RequestHandler):
    def get(self):
        self.write(
            {
                "method": self.request.method,
                "query": self.request.query,
                "x": self.request.headers.get_list("X-Thing"),
            }
        )

    def post(self):
        self.set_header("X-Echo", "yes")
        self.write(
            {"body": self.request.body.decode(), "type": self.request.headers.get("Content-Type")}
        )

    put = post


class SlowHandler(cyclone.web.RequestHandler):
    @cyclone.web.asynchronous
    def get(self):
        pass  # answers never; ends when the client leaves

    def on_connection_close(self):
        self.finish()


class MissingHandler(cyclone.web.RequestHandler):
    def get(self):
        self.set_status(404)
        self.write("not here")


@pytest.fixture
def base(serve):
    port = serve(
        cyclone.web.Application(
            [
                (r"/echo", EchoHandler),
                (r"/slow", SlowHandler),
                (r"/missing", MissingHandler),
                (r"/moved", cyclone.web.RedirectHandler, {"url": "/echo", "permanent": False}),
            ]
        )
    )
    return f"http://127.0.0.1:{port}"


def test_get_with_headers(base):
    response = call(fetch, base + "/echo?q=1", headers={"X-Thing": ["a", "b"]})
    assert isinstance(response, HTTPResponse)
    assert response.code == 200 and response.phrase == "OK"
    assert json.loads(response.body) == {"method": "GET", "query": "q=1", "x": ["a", "b"]}
    assert response.header("content-type") == "application/json; charset=UTF-8"
    assert response.length == len(response.body)


def test_post_body_and_the_1x_postdata_name(base):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = call(fetch, base + "/echo", method="POST", headers=form, body="a=1&b=ü")
    assert json.loads(response.body) == {"body": "a=1&b=ü", "type": form["Content-Type"]}
    assert response.header("X-Echo") == "yes"
    response = call(fetch, base + "/echo", method="PUT", postdata=b"raw")
    assert json.loads(response.body)["body"] == "raw"


def test_error_statuses_are_responses(base):
    response = call(fetch, base + "/missing")
    assert (response.code, response.body) == (404, b"not here")


def test_redirects_are_followed_only_on_request(base):
    response = call(fetch, base + "/moved")
    assert response.code == 302 and response.header("Location") == "/echo"
    response = call(fetch, base + "/moved", follow_redirects=True)
    assert response.code == 200 and response.url == base + "/echo"
    assert call(fetch, base + "/moved", followRedirect=True).code == 200


def test_timeout_cancels(base):
    with pytest.raises(defer.TimeoutError):
        call(fetch, base + "/slow", timeout=0.2)


def test_connection_refused():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(error.ConnectionRefusedError):
        call(fetch, f"http://127.0.0.1:{port}/")


def test_unknown_arguments_are_refused(base):
    with pytest.raises(TypeError, match="proxy"):
        fetch(base, proxy=("h", 1))
