"""@authenticated: redirect or 403, sync and async users, with every kind of method."""

import pytest
from client import fetch
from twisted.internet import defer, reactor, task

import cyclone.web
from cyclone.web import asynchronous, authenticated


class Base(cyclone.web.RequestHandler):
    def get_current_user(self):
        return self.request.headers.get("X-User")


class AsyncUser(cyclone.web.RequestHandler):
    async def get_current_user(self):
        return await task.deferLater(reactor, 0.01, lambda: self.request.headers.get("X-User"))

    @authenticated
    def get(self):
        self.write({"user": self.current_user})

    post = get


class Plain(Base):
    @authenticated
    def get(self):
        self.write({"user": self.current_user})

    post = delete = get


class Coroutine(Base):
    @authenticated
    async def get(self):
        await task.deferLater(reactor, 0.01, lambda: None)
        self.write({"user": self.current_user})

    post = get


class Generator(Base):
    @authenticated
    @defer.inlineCallbacks
    def get(self):
        yield task.deferLater(reactor, 0.01, lambda: None)
        self.write({"user": self.current_user})

    post = get


class LongPoll(Base):
    @authenticated
    @asynchronous
    def get(self):
        reactor.callLater(0.01, self.finish, {"user": self.current_user})

    post = get


class OwnLogin(Base):
    def get_login_url(self):
        return "https://login.example.com/sso"

    @authenticated
    def get(self):
        self.write("unreachable")


@pytest.fixture(scope="module")
def app():
    return cyclone.web.Application(
        [
            (r"/plain", Plain),
            (r"/async-user", AsyncUser),
            (r"/coroutine", Coroutine),
            (r"/generator", Generator),
            (r"/longpoll", LongPoll),
            (r"/own", OwnLogin),
        ],
        login_url="/login",
    )


PATHS = ["/plain", "/async-user", "/coroutine", "/generator", "/longpoll"]


@pytest.mark.parametrize("path", PATHS)
def test_signed_in_users_get_through(serve, app, path):
    port = serve(app)
    for method in ("GET", "POST"):
        response = fetch(
            port, path + "?x=1", method, {"X-User": "ann"}, b"" if method == "POST" else None
        )
        assert (response.status, response.body) == (200, b'{"user":"ann"}')


@pytest.mark.parametrize("path", PATHS)
def test_get_redirects_to_login_with_next(serve, app, path):
    port = serve(app)
    response = fetch(port, path + "?x=1")
    assert response.status == 302
    assert response.headers["Location"] == f"/login?next=%2F{path[1:]}%3Fx%3D1"


@pytest.mark.parametrize("path", PATHS)
def test_other_methods_are_403(serve, app, path):
    port = serve(app)
    assert fetch(port, path, "POST", body=b"").status == 403


def test_absolute_login_url_gets_the_full_next_url(serve, app):
    port = serve(app)
    response = fetch(port, "/own")
    assert response.headers["Location"] == (
        f"https://login.example.com/sso?next=http%3A%2F%2F127.0.0.1%3A{port}%2Fown"
    )
