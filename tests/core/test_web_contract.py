"""The handler's package contract, seen over HTTP.

``execute_request`` (the Application's entry, which runs ``_execute``),
``handle_request_exception`` (which runs ``_handle_request_exception``),
``set_auto_finish``, ``is_finished`` and ``URLSpec.group_count``; 1.x code
that overrides or wraps the private names keeps working.
"""

import pytest
from client import fetch, wait_until
from twisted.internet import reactor

from cyclone.web import Application, HTTPError, RequestHandler, URLSpec

# -- set_auto_finish and is_finished -------------------------------------------------


class OpenUntilFinishHandler(RequestHandler):
    def get(self):
        self.set_auto_finish(False)
        self.write("kept open; ")
        reactor.callLater(0.02, self.finish, "finished later")


class ReenabledHandler(RequestHandler):
    def get(self):
        self.set_auto_finish(False)
        self.set_auto_finish(True)
        self.write("finished on return")


class AsyncOpenHandler(RequestHandler):
    async def get(self):
        self.set_auto_finish(False)
        self.write("coroutine; ")
        reactor.callLater(0.02, self.finish, "then finish")


class OpenThenFailsHandler(RequestHandler):
    def get(self):
        self.set_auto_finish(False)
        raise HTTPError(409)


FINISHED = []


class IsFinishedHandler(RequestHandler):
    def get(self):
        FINISHED.append(("before", self.is_finished()))
        self.finish("done")
        FINISHED.append(("after", self.is_finished()))

    def on_finish(self):
        FINISHED.append(("on_finish", self.is_finished()))


def test_set_auto_finish_false_keeps_the_request_open_until_finish(serve):
    port = serve(
        Application(
            [
                (r"/open", OpenUntilFinishHandler),
                (r"/again", ReenabledHandler),
                (r"/async", AsyncOpenHandler),
                (r"/fails", OpenThenFailsHandler),
            ]
        )
    )
    assert fetch(port, "/open").body == b"kept open; finished later"
    assert fetch(port, "/again").body == b"finished on return"
    assert fetch(port, "/async").body == b"coroutine; then finish"
    assert fetch(port, "/fails").status == 409


def test_is_finished_follows_finish(serve):
    FINISHED.clear()
    port = serve(Application([(r"/", IsFinishedHandler)]))
    assert fetch(port, "/").body == b"done"
    wait_until(lambda: len(FINISHED) == 3)
    assert FINISHED == [("before", False), ("on_finish", True), ("after", True)]


# -- execute_request runs _execute, which 1.x code overrides ------------------------------


class MethodOverrideHandler(RequestHandler):
    """The 1.x idiom: ``?_method=PUT`` on a POST, by overriding ``_execute``."""

    def _execute(self, transforms, *args, **kwargs):
        method = self.get_query_argument("_method", None)
        if method and self.request.method == "POST":
            self.request.method = method.upper()
        super()._execute(transforms, *args, **kwargs)

    def put(self, name):
        self.write(f"put {name}")


class WrappedHandler(RequestHandler):
    def get(self, **kwargs):
        self.write(f"get {kwargs['word']}")


def _wrap_execute(handler_class):
    """A class decorator in the 1.x style: it replaces ``_execute`` after the class exists."""
    original = handler_class._execute

    def _execute(self, transforms, *args, **kwargs):
        if self.request.headers.get("X-Token") != "ok":
            self.set_status(401)
            self.finish("no token")
            return
        original(self, transforms, *args, **kwargs)

    handler_class._execute = _execute
    return handler_class


_wrap_execute(WrappedHandler)


def test_an_overridden_execute_still_runs(serve):
    port = serve(
        Application(
            [(r"/put/(\w+)", MethodOverrideHandler), (r"/w/(?P<word>\w+)", WrappedHandler)]
        )
    )
    assert fetch(port, "/put/x?_method=put", method="POST", body=b"").body == b"put x"
    assert fetch(port, "/w/hi", headers={"X-Token": "ok"}).body == b"get hi"
    refused = fetch(port, "/w/hi")
    assert (refused.status, refused.body) == (401, b"no token")


# -- handle_request_exception runs _handle_request_exception ------------------------------

SEEN = []


class CustomExceptionHandler(RequestHandler):
    """The 1.x idiom: a JSON error body by overriding ``_handle_request_exception``."""

    def get(self):
        raise ValueError("boom")

    def _handle_request_exception(self, e, failure=None):
        SEEN.append(type(e).__name__)
        self.set_status(500)
        self.finish({"error": str(e)})


class BrokenInitializeHandler(RequestHandler):
    def initialize(self, status):
        raise HTTPError(status)


def test_handle_request_exception_reaches_an_override(serve):
    SEEN.clear()
    port = serve(Application([(r"/", CustomExceptionHandler)]))
    response = fetch(port, "/")
    assert (response.status, response.body) == (500, b'{"error":"boom"}')
    assert SEEN == ["ValueError"]


def test_a_handler_that_cannot_be_built_is_answered_by_the_fallback(serve):
    port = serve(
        Application(
            [
                (r"/forbidden", BrokenInitializeHandler, {"status": 403}),
                (r"/missing-argument", BrokenInitializeHandler),
            ]
        )
    )
    assert fetch(port, "/forbidden").status == 403
    assert fetch(port, "/missing-argument").status == 500


# -- URLSpec.group_count ----------------------------------------------------------------


class GroupsHandler(RequestHandler):
    def get(self, *args, **kwargs):
        self.write({"args": list(args), "kwargs": kwargs})


@pytest.mark.parametrize(
    ("pattern", "count"),
    [(r"/plain", 0), (r"/one/(\d+)", 1), (r"/two/(\d+)/(\w+)", 2), (r"/n/(?P<id>\d+)", 1)],
)
def test_group_count(pattern, count):
    assert URLSpec(pattern, GroupsHandler).group_count == count


def test_group_count_decides_what_the_method_receives(serve):
    port = serve(
        Application(
            [
                (r"/plain", GroupsHandler),
                (r"/two/(\d+)/(\w+)", GroupsHandler),
                (r"/n/(?P<id>\d+)", GroupsHandler),
            ]
        )
    )
    assert fetch(port, "/plain").body == b'{"args":[],"kwargs":{}}'
    assert fetch(port, "/two/7/x").body == b'{"args":["7","x"],"kwargs":{}}'
    assert fetch(port, "/n/42").body == b'{"args":[],"kwargs":{"id":"42"}}'
