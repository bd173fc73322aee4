"""Request arguments as a client sends them: query, form bodies, decoding, missing ones."""

import json

from client import fetch

from cyclone.web import Application, HTTPError, MissingArgumentError, RequestHandler


def _app(*specs, **settings):
    return Application(list(specs), **settings)


# -- arguments ------------------------------------------------------------------------


class ArgsHandler(RequestHandler):
    def get(self):
        self.write(self._collect())

    def post(self):
        self.write(self._collect())

    def _collect(self):
        return {
            "arg": self.get_argument("a", "default"),
            "args": self.get_arguments("a"),
            "query": self.get_query_argument("a", None),
            "queries": self.get_query_arguments("a"),
            "body": self.get_body_argument("a", None),
            "bodies": self.get_body_arguments("a"),
            "nostrip": self.get_argument("s", "", strip=False),
            "strip": self.get_argument("s", ""),
        }


def test_query_and_body_arguments(serve):
    port = serve(_app((r"/", ArgsHandler)))
    resp = fetch(
        port,
        "/?a=q1&a=q2",
        method="POST",
        body="a=b1&a=b%C3%A9&s=+padded+",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    data = json.loads(resp.body)
    assert data["args"] == ["q1", "q2", "b1", "bé"]
    assert data["arg"] == "bé"
    assert data["queries"] == ["q1", "q2"]
    assert data["query"] == "q2"
    assert data["bodies"] == ["b1", "bé"]
    assert data["body"] == "bé"
    assert data["nostrip"] == " padded "
    assert data["strip"] == "padded"


def test_argument_defaults(serve):
    port = serve(_app((r"/", ArgsHandler)))
    data = json.loads(fetch(port, "/").body)
    assert data["arg"] == "default"
    assert data["args"] == [] and data["bodies"] == [] and data["queries"] == []
    assert data["query"] is None and data["body"] is None


def test_multipart_body_arguments(serve):
    port = serve(_app((r"/", ArgsHandler)))
    boundary = "XyZ123"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\nfrom-multipart\r\n'
        f"--{boundary}--\r\n"
    )
    resp = fetch(
        port,
        "/",
        method="POST",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert json.loads(resp.body)["bodies"] == ["from-multipart"]


class RequiredArgHandler(RequestHandler):
    def get(self):
        self.write(self.get_argument("needed"))

    def post(self):
        self.write(self.get_body_argument("field"))


def test_missing_argument_is_400_naming_it(serve):
    port = serve(_app((r"/", RequiredArgHandler)))
    resp = fetch(port, "/")
    assert resp.status == 400
    assert "needed" in resp.reason
    assert b"needed" in resp.body
    # A query argument does not satisfy get_body_argument.
    resp = fetch(port, "/?field=1", method="POST", body=b"")
    assert resp.status == 400
    assert "field" in resp.reason


def test_missing_argument_error_is_an_http_error():
    err = MissingArgumentError("x")
    assert isinstance(err, HTTPError)
    assert err.status_code == 400
    assert err.arg_name == "x"
    assert "x" in str(err)


def test_invalid_utf8_argument_is_400(serve):
    port = serve(_app((r"/", RequiredArgHandler)))
    resp = fetch(port, "/?needed=%FF%FE")
    assert resp.status == 400
    assert "needed" in resp.reason


class Latin1Handler(RequestHandler):
    def decode_argument(self, value, name=None):
        return value.decode("latin-1") if isinstance(value, bytes) else value

    def get(self, word):
        self.write(f"{word}|{self.get_argument('q')}")


def test_decode_argument_can_be_overridden(serve):
    port = serve(_app((r"/([^/]+)", Latin1Handler)))
    resp = fetch(port, "/%E9t%E9?q=%E9")
    assert resp.status == 200
    assert resp.body.decode() == "été|é"


def test_control_characters_in_arguments_become_spaces(serve):
    port = serve(_app((r"/", RequiredArgHandler)))
    assert fetch(port, "/?needed=a%01b%7Fc%09d").body == b"a b\x7fc\td"


class FormHandler(RequestHandler):
    def post(self):
        self.write(self.get_body_argument("a", "none"))


def test_malformed_body_is_400(serve):
    port = serve(_app((r"/", FormHandler)))
    resp = fetch(
        port,
        "/",
        method="POST",
        body=b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert resp.status == 400
    resp = fetch(
        port, "/", method="POST", body=b"x", headers={"Content-Type": "multipart/form-data"}
    )
    assert resp.status == 400
    ok = fetch(
        port,
        "/",
        method="POST",
        body=b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--b--\r\n',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert ok.body == b"v"
