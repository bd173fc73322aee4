"""RequestHandler behaviour as a client sees it: methods, life cycle, headers, errors, users."""

import http.client
import json
import socket

import pytest
from client import fetch, raw_request, read_until, read_until_closed, wait_until

from cyclone.web import Application, Finish, HTTPError, RequestHandler


def _app(*specs, **settings):
    return Application(list(specs), **settings)


# -- methods -----------------------------------------------------------------------


class AllMethodsHandler(RequestHandler):
    def _reply(self, *args):
        self.write(f"{self.request.method} {self.request.body.decode()}")

    get = post = put = patch = delete = options = _reply

    def head(self):
        self.set_header("X-Head", "yes")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_supported_methods_reach_their_handler_method(serve, method):
    port = serve(_app((r"/", AllMethodsHandler)))
    body = b"payload" if method in ("POST", "PUT", "PATCH") else None
    resp = fetch(port, "/", method=method, body=body)
    assert resp.status == 200
    assert resp.body == f"{method} {(body or b'').decode()}".encode()


def test_head_sends_headers_only(serve):
    port = serve(_app((r"/", AllMethodsHandler)))
    resp = fetch(port, "/", method="HEAD")
    assert resp.status == 200
    assert resp.headers["X-Head"] == "yes"
    assert resp.body == b""


class GetOnlyHandler(RequestHandler):
    def get(self):
        self.write("got")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_unimplemented_method_is_405_with_allow(serve, method):
    port = serve(_app((r"/", GetOnlyHandler)))
    resp = fetch(port, "/", method=method, body=b"")
    assert resp.status == 405
    allow = {m.strip() for m in resp.headers["Allow"].split(",")}
    assert {"GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS"} <= allow
    assert "TRACE" not in allow


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "BREW"])
def test_methods_outside_supported_methods_are_405(serve, method):
    port = serve(_app((r"/", AllMethodsHandler)))
    resp = fetch(port, "/", method=method)
    assert resp.status == 405
    assert "Allow" in resp.headers
    assert method.encode() not in resp.body


class ReadOnlyHandler(RequestHandler):
    SUPPORTED_METHODS = ("GET", "HEAD")

    def get(self):
        self.write("ro")

    def post(self):
        self.write("should never run")


def test_custom_supported_methods(serve):
    port = serve(_app((r"/", ReadOnlyHandler)))
    assert fetch(port, "/").body == b"ro"
    resp = fetch(port, "/", method="POST", body=b"x")
    assert resp.status == 405
    assert resp.headers["Allow"] == "GET, HEAD"
    assert b"never" not in resp.body


# -- life cycle --------------------------------------------------------------------

EVENTS: list[str] = []


class LifeCycleHandler(RequestHandler):
    def initialize(self, label):
        self.label = label
        EVENTS.append(f"initialize {label}")

    def prepare(self):
        EVENTS.append("prepare")
        if self.get_argument("stop", None):
            self.finish("stopped in prepare")

    def get(self, word):
        EVENTS.append(f"get {word}")
        self.write(f"{self.label}:{word}")

    def on_finish(self):
        EVENTS.append("on_finish")

    def on_connection_close(self):
        EVENTS.append("on_connection_close")


def test_life_cycle_order(serve):
    EVENTS.clear()
    port = serve(_app((r"/(\w+)", LifeCycleHandler, {"label": "L"})))
    assert fetch(port, "/hello").body == b"L:hello"
    wait_until(lambda: "on_finish" in EVENTS)
    assert EVENTS == ["initialize L", "prepare", "get hello", "on_finish"]


def test_prepare_may_finish_the_request(serve):
    EVENTS.clear()
    port = serve(_app((r"/(\w+)", LifeCycleHandler, {"label": "L"})))
    assert fetch(port, "/x?stop=1").body == b"stopped in prepare"
    wait_until(lambda: "on_finish" in EVENTS)
    assert "get x" not in EVENTS


class DefaultHeadersHandler(RequestHandler):
    def set_default_headers(self):
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Server", "Custom")

    def get(self):
        if self.get_argument("fail", None):
            raise HTTPError(403)
        self.write("ok")


def test_set_default_headers_applies_to_pages_and_errors(serve):
    port = serve(_app((r"/", DefaultHeadersHandler)))
    ok = fetch(port, "/")
    assert ok.headers["X-Frame-Options"] == "DENY"
    assert ok.headers["Server"] == "Custom"
    err = fetch(port, "/?fail=1")
    assert err.status == 403
    assert err.headers["X-Frame-Options"] == "DENY"


# -- status and headers ---------------------------------------------------------------


class StatusHandler(RequestHandler):
    def get(self):
        code = int(self.get_argument("code"))
        reason = self.get_argument("reason", None)
        self.set_status(code, reason)
        self.set_header("X-Status", str(self.get_status()))
        if code not in (204, 304):
            self.write("body")


def test_set_status_with_and_without_reason(serve):
    port = serve(_app((r"/", StatusHandler)))
    resp = fetch(port, "/?code=201")
    assert (resp.status, resp.reason, resp.headers["X-Status"]) == (201, "Created", "201")
    resp = fetch(port, "/?code=299&reason=Custom%20Thing")
    assert (resp.status, resp.reason) == (299, "Custom Thing")
    resp = fetch(port, "/?code=204")
    assert resp.status == 204
    assert resp.body == b""
    assert "Content-Length" not in resp.headers


def test_unknown_status_without_reason(serve):
    port = serve(_app((r"/", StatusHandler)))
    resp = fetch(port, "/?code=299")
    assert resp.status == 299
    assert resp.reason == "Unknown"


class HeaderHandler(RequestHandler):
    def get(self):
        self.set_header("X-One", "first")
        self.set_header("X-One", "replaced")
        self.add_header("X-Many", "a")
        self.add_header("X-Many", "b")
        self.set_header("X-Int", 42)
        self.set_header("X-Gone", "soon")
        self.clear_header("X-Gone")
        self.add_header("X-Gone-Too", "1")
        self.add_header("X-Gone-Too", "2")
        self.clear_header("X-Gone-Too")
        self.write("ok")


def test_set_add_clear_header(serve):
    port = serve(_app((r"/", HeaderHandler)))
    resp = fetch(port, "/")
    assert resp.headers.get_all("X-One") == ["replaced"]
    assert resp.headers.get_all("X-Many") == ["a", "b"]
    assert resp.headers["X-Int"] == "42"
    assert "X-Gone" not in resp.headers
    assert "X-Gone-Too" not in resp.headers


class InjectHandler(RequestHandler):
    def get(self):
        # Raw bytes: get_argument would already turn control characters into spaces.
        value = self.request.query_arguments["v"][0].decode("latin-1")
        how = self.get_argument("how")
        try:
            if how == "set":
                self.set_header("X-Test", value)
            elif how == "add":
                self.add_header("X-Test", value)
            elif how == "status":
                self.set_status(200, value)
            elif how == "redirect":
                self.redirect(value)
                return
        except ValueError:
            self.write("refused")
            return
        self.write("accepted")


@pytest.mark.parametrize("how", ["set", "add", "status", "redirect"])
@pytest.mark.parametrize("bad", ["%0D%0AInjected:%201", "%0AInjected:%201", "a%00Injected:%201"])
def test_control_characters_in_headers_are_refused(serve, how, bad):
    port = serve(_app((r"/", InjectHandler)))
    resp = fetch(port, f"/?how={how}&v=x{bad}")
    assert "Injected" not in resp.headers
    assert b"Injected" not in b"".join(f"{k}{v}".encode() for k, v in resp.raw_headers)
    if how in ("set", "add", "status"):
        assert resp.body == b"refused"


class UncaughtInjectHandler(RequestHandler):
    def get(self):
        self.set_header("X-Test", "a\r\nInjected: 1")


def test_uncaught_header_error_is_500_without_the_header(serve):
    port = serve(_app((r"/", UncaughtInjectHandler)))
    resp = fetch(port, "/")
    assert resp.status == 500
    assert "Injected" not in resp.headers
    assert "X-Test" not in resp.headers


class RequestInfoHandler(RequestHandler):
    def get(self):
        self.write(
            {
                "ua": self.request.headers.get("User-Agent"),
                "custom": self.request.headers.get("x-custom"),
                "method": self.request.method,
                "uri": self.request.uri,
                "path": self.request.path,
                "query": self.request.query,
                "version": self.request.version,
                "protocol": self.request.protocol,
                "remote_ip": self.request.remote_ip,
                "host": self.request.host,
            }
        )


def test_request_attributes(serve):
    port = serve(_app((r"/info", RequestInfoHandler)))
    resp = fetch(port, "/info?a=1&b=2", headers={"User-Agent": "tester/1", "X-Custom": "v"})
    data = json.loads(resp.body)
    assert data == {
        "ua": "tester/1",
        "custom": "v",
        "method": "GET",
        "uri": "/info?a=1&b=2",
        "path": "/info",
        "query": "a=1&b=2",
        "version": "HTTP/1.1",
        "protocol": "http",
        "remote_ip": "127.0.0.1",
        "host": f"127.0.0.1:{port}",
    }


# -- errors ---------------------------------------------------------------------------


class ErrorsHandler(RequestHandler):
    def get(self, kind):
        if kind == "reason":
            raise HTTPError(418, "secret log detail %s", "arg", reason="Teapot Mode")
        if kind == "plain":
            raise HTTPError(403)
        if kind == "send":
            self.write("discarded")
            self.send_error(409, reason="Conflict Here")
            return
        if kind == "finish":
            self.write("partial ")
            raise Finish("done")
        if kind == "finish-empty":
            self.set_status(202)
            self.write("accepted")
            raise Finish()
        if kind == "crash":
            raise RuntimeError("secret internal detail")


def test_http_error_reason_in_status_line_and_page(serve):
    port = serve(_app((r"/(\S+)", ErrorsHandler)))
    resp = fetch(port, "/reason")
    assert (resp.status, resp.reason) == (418, "Teapot Mode")
    assert b"Teapot Mode" in resp.body
    assert b"secret log detail" not in resp.body
    resp = fetch(port, "/plain")
    assert (resp.status, resp.reason) == (403, "Forbidden")
    assert b"403" in resp.body


def test_send_error_discards_earlier_output(serve):
    port = serve(_app((r"/(\S+)", ErrorsHandler)))
    resp = fetch(port, "/send")
    assert (resp.status, resp.reason) == (409, "Conflict Here")
    assert b"discarded" not in resp.body


def test_finish_exception_ends_the_request_normally(serve):
    port = serve(_app((r"/(\S+)", ErrorsHandler)))
    resp = fetch(port, "/finish")
    assert (resp.status, resp.body) == (200, b"partial done")
    resp = fetch(port, "/finish-empty")
    assert (resp.status, resp.body) == (202, b"accepted")


def test_uncaught_exception_is_a_plain_500_without_details(serve):
    port = serve(_app((r"/(\S+)", ErrorsHandler)))
    resp = fetch(port, "/crash")
    assert resp.status == 500
    assert b"secret internal detail" not in resp.body
    assert b"Traceback" not in resp.body
    assert b"RuntimeError" not in resp.body


def test_http_error_str():
    assert str(HTTPError(404)) == "HTTP 404: Not Found"
    assert str(HTTPError(418, reason="Teapot")) == "HTTP 418: Teapot"
    assert str(HTTPError(400, "bad %s", "thing")) == "HTTP 400: Bad Request (bad thing)"
    assert str(HTTPError(400, "100% wrong")) == "HTTP 400: Bad Request (100% wrong)"
    assert HTTPError(502).status_code == 502


class CustomErrorHandler(RequestHandler):
    def get(self):
        raise HTTPError(404 if self.get_argument("nf", None) else 500, "log only")

    def write_error(self, status_code, **kwargs):
        exc = kwargs.get("exc_info")
        self.set_header("Content-Type", "text/plain")
        self.write(f"custom {status_code} {type(exc[1]).__name__ if exc else None}")


def test_write_error_override(serve):
    port = serve(_app((r"/", CustomErrorHandler)))
    resp = fetch(port, "/?nf=1")
    assert resp.status == 404
    assert resp.body == b"custom 404 HTTPError"
    assert resp.headers["Content-Type"] == "text/plain"


class BrokenWriteErrorHandler(RequestHandler):
    def get(self):
        raise HTTPError(409)

    def write_error(self, status_code, **kwargs):
        raise ValueError("write_error itself is broken")


def test_failing_write_error_still_answers(serve):
    port = serve(_app((r"/", BrokenWriteErrorHandler)))
    resp = fetch(port, "/")
    assert resp.status == 409
    assert b"broken" not in resp.body


class ErrorAfterFlushHandler(RequestHandler):
    async def get(self):
        self.write("started streaming;")
        await self.flush()
        raise RuntimeError("too late for a clean error page")


class SendErrorAfterFlushHandler(RequestHandler):
    async def get(self):
        self.write("started streaming;")
        await self.flush()
        self.send_error(500)


@pytest.mark.parametrize("path", ["/raise", "/send"])
def test_error_after_headers_were_sent_closes_the_connection(serve, path):
    port = serve(_app((r"/raise", ErrorAfterFlushHandler), (r"/send", SendErrorAfterFlushHandler)))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        sock.settimeout(5)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data.count(b"HTTP/1.1") == 1
    assert data.startswith(b"HTTP/1.1 200")
    assert b"started streaming;" in data
    # The chunked body never got its terminating chunk: the client can tell it was cut.
    assert not data.endswith(b"0\r\n\r\n")


# -- users and settings ---------------------------------------------------------------


class UserHandler(RequestHandler):
    calls = 0

    def get_current_user(self):
        type(self).calls += 1
        return self.request.headers.get("X-User")

    def get(self):
        self.write(f"{self.current_user}/{self.current_user}")


def test_current_user_is_computed_once(serve):
    UserHandler.calls = 0
    port = serve(_app((r"/", UserHandler)))
    assert fetch(port, "/", headers={"X-User": "ann"}).body == b"ann/ann"
    assert UserHandler.calls == 1
    assert fetch(port, "/").body == b"None/None"


class SettableUserHandler(RequestHandler):
    def prepare(self):
        self.current_user = "set-in-prepare"

    def get(self):
        self.write(self.current_user)


def test_current_user_can_be_assigned(serve):
    port = serve(_app((r"/", SettableUserHandler)))
    assert fetch(port, "/").body == b"set-in-prepare"


class RequireSettingHandler(RequestHandler):
    def get(self):
        self.require_setting("api_key", "the API")
        self.write(self.settings.api_key)


def test_require_setting(serve):
    assert fetch(serve(_app((r"/", RequireSettingHandler), api_key="k1")), "/").body == b"k1"
    resp = fetch(serve(_app((r"/", RequireSettingHandler))), "/")
    assert resp.status == 500
    assert b"api_key" not in resp.body


# -- connection handling ---------------------------------------------------------------


class CloseHandler(RequestHandler):
    no_keep_alive = True

    def get(self):
        self.write("bye")


def test_no_keep_alive_closes_the_connection(serve):
    port = serve(_app((r"/", CloseHandler)))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 200")
    assert b"\r\nConnection: close\r\n" in data
    assert data.endswith(b"bye")


def test_no_keep_alive_does_not_answer_pipelined_requests(serve):
    port = serve(_app((r"/", CloseHandler)))
    data = raw_request(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.count(b"HTTP/1.1 200") == 1


def test_keep_alive_by_default(serve):
    port = serve(_app((r"/", GetOnlyHandler)))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        for _ in range(3):
            assert fetch(port, "/", conn=conn).body == b"got"
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            head = read_until(sock, b"got")
            assert b"Connection: close" not in head
    finally:
        conn.close()


class AuthRequiredHandler(RequestHandler):
    def get(self):
        from cyclone.web import HTTPAuthenticationRequired

        raise HTTPAuthenticationRequired("no credentials", realm="Zone")


def test_http_authentication_required_challenges(serve):
    port = serve(_app((r"/", AuthRequiredHandler)))
    resp = fetch(port, "/")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"] == 'Basic realm="Zone"'
    assert b"no credentials" not in resp.body


class OnFinishFailsHandler(RequestHandler):
    def get(self):
        self.write("still fine")

    def on_finish(self):
        raise RuntimeError("on_finish broke")


def test_error_in_on_finish_does_not_break_the_connection(serve):
    port = serve(_app((r"/", OnFinishFailsHandler)))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        assert fetch(port, "/", conn=conn).body == b"still fine"
        assert fetch(port, "/", conn=conn).body == b"still fine"
    finally:
        conn.close()


class BadStatusHandler(RequestHandler):
    def get(self, how):
        if how == "set":
            try:
                self.set_status(1000)
            except ValueError:
                self.write("refused")
        elif how == "raise":
            raise HTTPError(1000)
        elif how == "reason":
            raise HTTPError(400, reason="two\r\nlines")


def test_invalid_status_codes(serve):
    port = serve(_app((r"/(\w+)", BadStatusHandler)))
    assert fetch(port, "/set").body == b"refused"
    resp = fetch(port, "/raise")
    assert resp.status == 500
    resp = fetch(port, "/reason")
    assert (resp.status, resp.reason) == (400, "Bad Request")


# -- hooks overridden in a subclass of a class already serving ------------------------


class PlainHandler(RequestHandler):
    def get(self):
        self.write("plain")


class HookedHandler(PlainHandler):
    """Overrides every hook the life cycle skips when it is left as the default."""

    def initialize(self, tag="none"):
        self.tag = tag

    def set_default_headers(self):
        self.set_header("X-Default", "set")

    def prepare(self):
        self.set_header("X-Prepared", self.tag)

    def compute_etag(self):
        return '"fixed"'

    def on_finish(self):
        FINISHED.append(self.request.path)


FINISHED: list[str] = []


def test_hooks_of_a_subclass_run_although_its_parent_has_defaults(serve):
    port = serve(_app((r"/plain", PlainHandler), (r"/hooked", HookedHandler, {"tag": "t1"})))
    # The parent serves first (its class learns that its hooks are the defaults)...
    plain = fetch(port, "/plain")
    assert plain.status == 200
    assert plain.body == b"plain"
    assert plain.headers["Etag"].startswith('"') and len(plain.headers["Etag"]) == 42
    assert "X-Default" not in plain.headers and "X-Prepared" not in plain.headers
    # ...and the subclass still gets each of its own.
    hooked = fetch(port, "/hooked")
    assert hooked.headers["X-Default"] == "set"
    assert hooked.headers["X-Prepared"] == "t1"
    assert hooked.headers["Etag"] == '"fixed"'
    assert fetch(port, "/hooked", headers={"If-None-Match": '"fixed"'}).status == 304
    assert fetch(port, "/plain", headers={"If-None-Match": plain.headers["Etag"]}).status == 304
    wait_until(lambda: FINISHED.count("/hooked") == 2)
    assert "/plain" not in FINISHED
