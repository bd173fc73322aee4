"""Routing as a client sees it: handler specs, path groups, virtual hosts, reverse URLs."""

import json

import pytest
from client import fetch

import cyclone.web
from cyclone.web import Application, RequestHandler, url


class EchoArgsHandler(RequestHandler):
    def initialize(self, tag="none"):
        self.tag = tag

    def get(self, *args, **kwargs):
        self.write(
            {
                "tag": self.tag,
                "args": list(args),
                "kwargs": kwargs,
                "path_args": self.path_args,
                "path_kwargs": self.path_kwargs,
            }
        )


class DottedHandler(RequestHandler):
    def get(self):
        self.write("loaded by name")


class NamedHandler(RequestHandler):
    def get(self, *args):
        self.write(self.reverse_url(self.request.query or "plain", *args))


def _json(resp):
    assert resp.status == 200, resp.body
    return json.loads(resp.body)


def test_tuple_specs_with_and_without_kwargs(serve):
    port = serve(
        Application(
            [
                (r"/plain", EchoArgsHandler),
                (r"/tagged", EchoArgsHandler, {"tag": "t1"}),
                url(r"/url", EchoArgsHandler, {"tag": "u1"}, name="u"),
            ]
        )
    )
    assert _json(fetch(port, "/plain"))["tag"] == "none"
    assert _json(fetch(port, "/tagged"))["tag"] == "t1"
    assert _json(fetch(port, "/url"))["tag"] == "u1"


def test_patterns_match_the_whole_path(serve):
    port = serve(Application([(r"/a", EchoArgsHandler)]))
    assert fetch(port, "/a").status == 200
    assert fetch(port, "/ab").status == 404
    assert fetch(port, "/a/").status == 404
    assert fetch(port, "/a?x=1").status == 200


def test_dotted_string_handler_is_imported(serve):
    port = serve(Application([(r"/", "tests.core.test_web_routing.DottedHandler")]))
    assert fetch(port, "/").body == b"loaded by name"


def test_dotted_string_to_missing_handler_fails_at_construction():
    with pytest.raises(ImportError):
        Application([(r"/", "tests.core.test_web_routing.NoSuchHandler")])


def test_positional_groups_are_percent_decoded_utf8(serve):
    port = serve(Application([(r"/p/([^/]+)/([^/]+)", EchoArgsHandler)]))
    data = _json(fetch(port, "/p/caf%C3%A9/a%20b"))
    assert data["args"] == ["café", "a b"]
    assert data["path_args"] == ["café", "a b"]
    assert data["kwargs"] == {}


def test_named_groups_become_keyword_arguments(serve):
    port = serve(Application([(r"/n/(?P<first>[^/]+)/(?P<second>[^/]+)", EchoArgsHandler)]))
    data = _json(fetch(port, "/n/%E2%82%AC/x%2Fy"))
    assert data["kwargs"] == {"first": "€", "second": "x/y"}
    assert data["path_kwargs"] == {"first": "€", "second": "x/y"}
    assert data["args"] == []


def test_encoded_slash_does_not_change_the_route(serve):
    port = serve(Application([(r"/one/([^/]+)", EchoArgsHandler)]))
    assert _json(fetch(port, "/one/a%2Fb"))["args"] == ["a/b"]
    assert fetch(port, "/one/a/b").status == 404


def test_optional_group_that_did_not_match(serve):
    port = serve(Application([(r"/opt(/x)?", EchoArgsHandler)]))
    assert _json(fetch(port, "/opt/x"))["args"] == ["/x"]
    assert _json(fetch(port, "/opt"))["args"] == [None]


def test_reverse_url_escapes_arguments(serve):
    app = Application(
        [
            url(r"/", NamedHandler, name="plain"),
            url(r"/user/([^/]+)/post/([0-9]+)", NamedHandler, name="post"),
            url(r"/search/(.*)", NamedHandler, name="search"),
        ]
    )
    assert app.reverse_url("plain") == "/"
    assert app.reverse_url("post", "jo hn", 12) == "/user/jo%20hn/post/12"
    assert app.reverse_url("search", "a/b?c&d é") == "/search/a/b%3Fc%26d%20%C3%A9"
    with pytest.raises(KeyError):
        app.reverse_url("missing")
    with pytest.raises(ValueError):
        app.reverse_url("post", "only-one")
    port = serve(app)
    # From a handler, over the wire.
    assert fetch(port, "/?plain").body == b"/"
    assert fetch(port, "/user/x/post/3?post").body == b"/user/x/post/3"


def test_reverse_url_with_escaped_literals():
    app = Application([url(r"/files/v1\.0/([a-z]+)\.txt", DottedHandler, name="f")])
    assert app.reverse_url("f", "abc") == "/files/v1.0/abc.txt"


def test_duplicate_handler_names_are_refused():
    with pytest.raises(ValueError):
        Application([url(r"/a", DottedHandler, name="x"), url(r"/b", DottedHandler, name="x")])


class HostHandler(RequestHandler):
    def initialize(self, site):
        self.site = site

    def get(self):
        self.write(self.site)


def test_virtual_hosts_are_selected_by_host_header(serve):
    app = Application([(r"/", HostHandler, {"site": "default"})])
    app.add_handlers(r"www\.example\.com", [(r"/", HostHandler, {"site": "example"})])
    app.add_handlers(r"(.*\.)?other\.org", [(r"/", HostHandler, {"site": "other"})])
    port = serve(app)
    assert fetch(port, "/", headers={"Host": "www.example.com"}).body == b"example"
    assert fetch(port, "/", headers={"Host": "WWW.Example.COM:8080"}).body == b"example"
    assert fetch(port, "/", headers={"Host": "a.other.org"}).body == b"other"
    assert fetch(port, "/", headers={"Host": "unknown.net"}).body == b"default"
    # The host pattern matches the whole name, not a prefix.
    assert fetch(port, "/", headers={"Host": "www.example.com.evil"}).body == b"default"


def test_default_host_is_used_when_no_host_matches(serve):
    app = Application(default_host="main.test")
    app.add_handlers(r"main\.test", [(r"/", HostHandler, {"site": "main"})])
    app.add_handlers(r"side\.test", [(r"/", HostHandler, {"site": "side"})])
    port = serve(app)
    assert fetch(port, "/", headers={"Host": "side.test"}).body == b"side"
    assert fetch(port, "/", headers={"Host": "nowhere.test"}).body == b"main"


def test_no_matching_host_and_no_default_is_404(serve):
    app = Application()
    app.add_handlers(r"only\.test", [(r"/", HostHandler, {"site": "only"})])
    port = serve(app)
    assert fetch(port, "/", headers={"Host": "only.test"}).status == 200
    assert fetch(port, "/", headers={"Host": "else.test"}).status == 404


class FallbackHandler(RequestHandler):
    def initialize(self, note="no-args"):
        self.note = note

    def get(self):
        self.set_status(404)
        self.write(f"fallback {self.note} {self.request.path}")


def test_default_handler_class_with_args(serve):
    port = serve(
        Application(
            [(r"/", DottedHandler)],
            default_handler_class=FallbackHandler,
            default_handler_args={"note": "custom"},
        )
    )
    resp = fetch(port, "/nothing/here")
    assert resp.status == 404
    assert resp.body == b"fallback custom /nothing/here"
    assert fetch(port, "/").body == b"loaded by name"


def test_default_handler_class_without_args(serve):
    port = serve(Application([], default_handler_class=FallbackHandler))
    assert fetch(port, "/zzz").body == b"fallback no-args /zzz"


def test_unmatched_path_is_a_plain_404(serve):
    port = serve(Application([(r"/", DottedHandler)]))
    resp = fetch(port, "/missing")
    assert resp.status == 404
    assert b"404" in resp.body
    assert resp.reason == "Not Found"


class SettingsHandler(RequestHandler):
    def get(self):
        self.write({"debug": self.settings.debug, "color": self.settings["color"]})


def test_settings_is_an_attribute_dict(serve):
    app = Application([(r"/", SettingsHandler)], debug=False, color="blue")
    assert app.settings.color == "blue"
    app.settings.size = 3
    assert app.settings["size"] == 3
    with pytest.raises(AttributeError):
        _ = app.settings.missing
    port = serve(app)
    assert _json(fetch(port, "/")) == {"debug": False, "color": "blue"}


def test_constructor_signature_defaults():
    app = Application()
    assert app.default_host in ("", None)
    assert app.transforms == []
    assert app.settings == {}
    assert isinstance(app, cyclone.web.Application)


def test_bad_handler_spec_is_refused():
    with pytest.raises(ValueError):
        Application([(r"/",)])
    with pytest.raises(TypeError):
        Application([42])


def test_invalid_utf8_in_a_path_group_is_400(serve):
    port = serve(Application([(r"/p/([^/]+)", EchoArgsHandler)]))
    resp = fetch(port, "/p/%FF%FE")
    assert resp.status == 400
    assert "Invalid unicode" in resp.reason
    # A valid sequence still works on the same route.
    assert _json(fetch(port, "/p/%C3%A9"))["args"] == ["é"]


def test_unreversible_patterns_still_route(serve):
    app = Application([url(r"/(?:a|b)/([0-9]+)", EchoArgsHandler, name="ab")])
    with pytest.raises(ValueError):
        app.reverse_url("ab", 1)
    port = serve(app)
    assert _json(fetch(port, "/b/7"))["args"] == ["7"]


class CustomNotFound(cyclone.web.ErrorHandler):
    def write_error(self, status_code, **kwargs):
        self.write(f"custom page for {status_code} at {self.request.path}")


def test_error_handler_answers_unmatched_paths(serve):
    port = serve(Application([(r"/", DottedHandler)], error_handler=CustomNotFound))
    resp = fetch(port, "/nope")
    assert resp.status == 404
    assert resp.body == b"custom page for 404 at /nope"
    assert fetch(port, "/").body == b"loaded by name"


def test_default_handler_class_by_dotted_name(serve):
    port = serve(
        Application(
            [],
            default_handler_class="tests.core.test_web_routing.FallbackHandler",
            default_handler_args={"note": "dotted"},
        )
    )
    assert fetch(port, "/x").body == b"fallback dotted /x"


class BrokenInitHandler(RequestHandler):
    def initialize(self):
        raise RuntimeError("secret init failure")

    def get(self):
        self.write("never")


def test_failing_initialize_is_a_500(serve):
    port = serve(Application([(r"/", BrokenInitHandler)]))
    resp = fetch(port, "/")
    assert resp.status == 500
    assert b"secret" not in resp.body


def test_reverse_url_with_a_literal_percent_sign():
    app = Application([url(r"/100%/(\d+)", DottedHandler, name="pct")])
    assert app.reverse_url("pct", 5) == "/100%/5"


def test_plain_text_patterns_keep_their_place_in_the_order(serve):
    # Plain-text patterns are matched by string comparison (URLSpec.literal);
    # the first matching route still wins, whichever kind comes first.
    app = Application(
        [
            (r"/a/(first)", EchoArgsHandler, {"tag": "regex"}),
            (r"/a/first", EchoArgsHandler, {"tag": "literal-shadowed"}),
            (r"/b/x\.y", EchoArgsHandler, {"tag": "escaped"}),
            (r"/b/x.z", EchoArgsHandler, {"tag": "dot"}),
            (r"/c", EchoArgsHandler, {"tag": "literal"}),
            (r"/c(/?)", EchoArgsHandler, {"tag": "regex-after"}),
        ]
    )
    assert [spec.literal for spec in app.handlers.rules[0][1]] == [
        None,
        "/a/first",
        "/b/x.y",
        None,
        "/c",
        None,
    ]
    port = serve(app)
    assert _json(fetch(port, "/a/first"))["tag"] == "regex"
    assert _json(fetch(port, "/b/x.y"))["tag"] == "escaped"
    assert fetch(port, "/b/xzy").status == 404
    assert _json(fetch(port, "/b/xaz"))["tag"] == "dot"
    assert _json(fetch(port, "/c"))["tag"] == "literal"
    assert _json(fetch(port, "/c/"))["tag"] == "regex-after"
    assert fetch(port, "/c/d").status == 404
