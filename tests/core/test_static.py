"""StaticFileHandler as a client sees it: content, types, caching, 304s, ranges, directories."""

import datetime
import email.utils
import hashlib
import os

import pytest
from client import curl, fetch, raw_request

from cyclone._static import StaticFileHandler, static_routes, static_url_for
from cyclone.web import Application, RequestHandler

HELLO = b"Hello, static world!\n"
DIGITS = bytes(i % 10 + 48 for i in range(1000))


@pytest.fixture
def root(tmp_path):
    """A static root with a few typed files, subdirectories and an inside symlink."""
    base = tmp_path / "root"
    base.mkdir()
    (base / "hello.txt").write_bytes(HELLO)
    (base / "digits.txt").write_bytes(DIGITS)
    (base / "page.html").write_text("<p>hi</p>")
    (base / "style.css").write_text("p{}")
    (base / "blob.zzqx").write_bytes(b"\x00\x01")
    (base / "pic.png").write_bytes(b"\x89PNG")
    (base / "bundle.tar.gz").write_bytes(b"\x1f\x8b")
    (base / "empty.txt").write_bytes(b"")
    (base / "robots.txt").write_text("User-agent: *\n")
    (base / "favicon.ico").write_bytes(b"ICO")
    (base / "sub").mkdir()
    (base / "sub" / "index.html").write_text("sub index")
    (base / "bare").mkdir()
    os.symlink("hello.txt", base / "alias.txt")
    StaticFileHandler.reset()
    return base


def _serve_static(serve, root, handler=StaticFileHandler, prefix=r"/static/", **kwargs):
    return serve(Application([(prefix + "(.*)", handler, {"path": str(root), **kwargs})]))


# -- content and headers ------------------------------------------------------------


def test_get_serves_the_file_with_validators(serve, root):
    port = _serve_static(serve, root)
    resp = fetch(port, "/static/hello.txt")
    assert resp.status == 200
    assert resp.body == HELLO
    assert resp.headers["Content-Length"] == str(len(HELLO))
    assert resp.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert resp.headers["Etag"] == '"%s"' % hashlib.sha256(HELLO).hexdigest()
    assert resp.headers["Accept-Ranges"] == "bytes"
    modified = email.utils.parsedate_to_datetime(resp.headers["Last-Modified"])
    assert int(modified.timestamp()) == int(os.stat(root / "hello.txt").st_mtime)
    assert "Cache-Control" not in resp.headers
    assert "Expires" not in resp.headers


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("page.html", "text/html; charset=UTF-8"),
        ("style.css", "text/css; charset=UTF-8"),
        ("pic.png", "image/png"),
        ("blob.zzqx", "application/octet-stream"),
        ("bundle.tar.gz", "application/gzip"),
    ],
)
def test_content_type_is_guessed_from_the_name(serve, root, name, content_type):
    port = _serve_static(serve, root)
    resp = fetch(port, f"/static/{name}")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == content_type
    assert "Content-Encoding" not in resp.headers


def test_empty_file(serve, root):
    port = _serve_static(serve, root)
    resp = fetch(port, "/static/empty.txt")
    assert resp.status == 200
    assert resp.body == b""
    assert resp.headers["Content-Length"] == "0"


def test_head_sends_the_get_headers_without_a_body(serve, root):
    port = _serve_static(serve, root)
    get = fetch(port, "/static/digits.txt")
    head = fetch(port, "/static/digits.txt", method="HEAD")
    assert head.status == 200
    assert head.body == b""
    for name in ("Content-Length", "Content-Type", "Etag", "Last-Modified", "Accept-Ranges"):
        assert head.headers[name] == get.headers[name]


def test_head_with_curl_reads_no_body(serve, root):
    port = _serve_static(serve, root)
    out = curl("-I", f"http://127.0.0.1:{port}/static/digits.txt").stdout.lower()
    assert out.startswith(b"http/1.1 200")
    assert b"content-length: 1000" in out


def test_symlink_inside_the_root_is_served(serve, root):
    port = _serve_static(serve, root)
    resp = fetch(port, "/static/alias.txt")
    assert resp.status == 200
    assert resp.body == HELLO


def test_missing_file_is_404(serve, root):
    port = _serve_static(serve, root)
    assert fetch(port, "/static/nope.txt").status == 404
    assert fetch(port, "/static/sub/nope/deeper.txt").status == 404


def test_only_get_and_head_are_allowed(serve, root):
    port = _serve_static(serve, root)
    resp = fetch(port, "/static/hello.txt", method="POST", body=b"x")
    assert resp.status == 405
    assert resp.headers["Allow"] == "GET, HEAD"


# -- conditional requests -------------------------------------------------------------


def test_if_none_match_gives_304_without_body(serve, root):
    port = _serve_static(serve, root)
    etag = fetch(port, "/static/hello.txt").headers["Etag"]
    for value in (etag, "W/" + etag, f'"other", {etag}', "*"):
        resp = fetch(port, "/static/hello.txt", headers={"If-None-Match": value})
        assert resp.status == 304, value
        assert resp.body == b""
        assert resp.headers["Etag"] == etag
        assert "Content-Type" not in resp.headers
    assert fetch(port, "/static/hello.txt", headers={"If-None-Match": '"x"'}).status == 200


def test_if_modified_since(serve, root):
    port = _serve_static(serve, root)
    last_modified = fetch(port, "/static/hello.txt").headers["Last-Modified"]
    same = fetch(port, "/static/hello.txt", headers={"If-Modified-Since": last_modified})
    assert same.status == 304
    assert same.body == b""
    old = "Mon, 01 Jan 1990 00:00:00 GMT"
    assert fetch(port, "/static/hello.txt", headers={"If-Modified-Since": old}).status == 200


@pytest.mark.parametrize(
    "value",
    ["yesterday", "Mon, 99 Foo 2020 99:99:99 GMT", "0", "Mon, 01 Jan 99999 00:00:00 GMT", "\t"],
)
def test_malformed_if_modified_since_is_ignored(serve, root, value):
    port = _serve_static(serve, root)
    resp = fetch(port, "/static/hello.txt", headers={"If-Modified-Since": value})
    assert resp.status == 200
    assert resp.body == HELLO


def test_if_none_match_takes_precedence_over_if_modified_since(serve, root):
    port = _serve_static(serve, root)
    last_modified = fetch(port, "/static/hello.txt").headers["Last-Modified"]
    headers = {"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    assert fetch(port, "/static/hello.txt", headers=headers).status == 200


def test_etag_follows_a_changed_file(serve, root):
    port = _serve_static(serve, root)
    first = fetch(port, "/static/hello.txt").headers["Etag"]
    (root / "hello.txt").write_bytes(b"changed!")
    os.utime(root / "hello.txt", (1_000_000_000, 1_000_000_000))
    resp = fetch(port, "/static/hello.txt", headers={"If-None-Match": first})
    assert resp.status == 200
    assert resp.body == b"changed!"
    assert resp.headers["Etag"] == '"%s"' % hashlib.sha256(b"changed!").hexdigest()


# -- byte ranges ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 10),
        ("bytes=100-199", 100, 200),
        ("bytes=990-", 990, 1000),
        ("bytes=-5", 995, 1000),
        ("bytes=995-5000", 995, 1000),
        ("bytes=-5000", 0, 1000),
        ("bytes=999-999", 999, 1000),
        ("BYTES = 3 - 4", 3, 5),
    ],
)
def test_single_range_is_206(serve, root, header, start, end):
    port = _serve_static(serve, root)
    resp = fetch(port, "/static/digits.txt", headers={"Range": header})
    assert resp.status == 206
    assert resp.body == DIGITS[start:end]
    assert resp.headers["Content-Range"] == f"bytes {start}-{end - 1}/1000"
    assert resp.headers["Content-Length"] == str(end - start)
    assert resp.headers["Etag"] == '"%s"' % hashlib.sha256(DIGITS).hexdigest()


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0", "bytes=1000-1"])
def test_unsatisfiable_range_is_416(serve, root, header):
    port = _serve_static(serve, root)
    resp = fetch(port, "/static/digits.txt", headers={"Range": header})
    if header == "bytes=1000-1":  # last < first: malformed, so ignored
        assert resp.status == 200
        return
    assert resp.status == 416
    assert resp.headers["Content-Range"] == "bytes */1000"
    assert resp.body == b""


@pytest.mark.parametrize(
    "header",
    ["bytes=abc", "bytes=5-2", "items=0-5", "bytes=", "bytes=-", "bytes=+1-2", "bytes=1_0-20", "x"],
)
def test_malformed_range_is_ignored(serve, root, header):
    port = _serve_static(serve, root)
    resp = fetch(port, "/static/digits.txt", headers={"Range": header})
    assert resp.status == 200
    assert resp.body == DIGITS
    assert "Content-Range" not in resp.headers


def test_several_ranges_get_the_whole_file(serve, root):
    port = _serve_static(serve, root)
    resp = fetch(port, "/static/digits.txt", headers={"Range": "bytes=0-1,5-6"})
    assert resp.status == 200
    assert resp.body == DIGITS


def test_range_on_an_empty_file_is_ignored(serve, root):
    port = _serve_static(serve, root)
    resp = fetch(port, "/static/empty.txt", headers={"Range": "bytes=-5"})
    assert resp.status == 200
    assert resp.body == b""


def test_head_with_range(serve, root):
    port = _serve_static(serve, root)
    resp = fetch(port, "/static/digits.txt", method="HEAD", headers={"Range": "bytes=10-19"})
    assert resp.status == 206
    assert resp.headers["Content-Range"] == "bytes 10-19/1000"
    assert resp.headers["Content-Length"] == "10"
    assert resp.body == b""


def test_if_range(serve, root):
    port = _serve_static(serve, root)
    first = fetch(port, "/static/digits.txt")
    etag, modified = first.headers["Etag"], first.headers["Last-Modified"]
    for validator, status in ((etag, 206), (modified, 206), ('"stale"', 200), ("W/" + etag, 200)):
        headers = {"Range": "bytes=0-4", "If-Range": validator}
        resp = fetch(port, "/static/digits.txt", headers=headers)
        assert resp.status == status, validator
        assert resp.body == (DIGITS[:5] if status == 206 else DIGITS)


def test_range_with_curl(serve, root):
    port = _serve_static(serve, root)
    out = curl("-i", "-r", "10-14", f"http://127.0.0.1:{port}/static/digits.txt").stdout
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 206")
    assert b"content-range: bytes 10-14/1000" in head.lower()
    assert body == DIGITS[10:15]


# -- directories --------------------------------------------------------------------------


def test_directory_with_default_filename(serve, root):
    port = _serve_static(serve, root, default_filename="index.html")
    resp = fetch(port, "/static/sub/")
    assert resp.status == 200
    assert resp.body == b"sub index"
    assert resp.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert fetch(port, "/static/").status == 404  # the root has no index.html
    assert fetch(port, "/static/bare/").status == 404


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_directory_without_slash_redirects(serve, root, method):
    port = _serve_static(serve, root, default_filename="index.html")
    resp = fetch(port, "/static/sub", method=method)
    assert resp.status == 301
    assert resp.headers["Location"] == "/static/sub/"
    resp = fetch(port, "/static/sub?v=1", method=method)
    assert resp.headers["Location"] == "/static/sub/?v=1"


def test_directory_without_default_filename_is_403(serve, root):
    port = _serve_static(serve, root)
    assert fetch(port, "/static/sub/").status == 403
    assert fetch(port, "/static/sub").status == 403
    assert fetch(port, "/static/").status == 403


@pytest.mark.parametrize(
    "target", [b"//evil.com", b"//evil.com/", b"/%2Fevil.com", b"///evil.com", b"/%5Cevil.com"]
)
def test_directory_redirect_is_never_off_site(serve, root, target):
    (root / "evil.com").mkdir()
    (root / "evil.com" / "index.html").write_text("x")
    port = serve(
        Application(
            [(r"/(.*)", StaticFileHandler, {"path": str(root), "default_filename": "index.html"})]
        )
    )
    assert fetch(port, "/evil.com").headers["Location"] == "/evil.com/"
    request = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    reply = raw_request(port, request)
    head = reply.partition(b"\r\n\r\n")[0]
    assert head.split(b" ")[1] in (b"400", b"404")
    assert b"location" not in head.lower()


# -- caching and versioned URLs ----------------------------------------------------------


def test_versioned_request_is_cached_for_ten_years(serve, root):
    port = _serve_static(serve, root)
    resp = fetch(port, "/static/hello.txt?v=abc")
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "max-age=315360000"
    expires = email.utils.parsedate_to_datetime(resp.headers["Expires"])
    ten_years = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3650)
    assert abs((expires - ten_years).total_seconds()) < 60


def test_make_static_url(root):
    settings = {"static_path": str(root)}
    version = hashlib.sha256(HELLO).hexdigest()[:32]
    assert StaticFileHandler.make_static_url(settings, "hello.txt") == (
        f"/static/hello.txt?v={version}"
    )
    assert StaticFileHandler.get_version(settings, "hello.txt") == hashlib.sha256(HELLO).hexdigest()
    assert StaticFileHandler.make_static_url(settings, "hello.txt", include_version=False) == (
        "/static/hello.txt"
    )
    assert StaticFileHandler.make_static_url(settings, "missing.txt") == "/static/missing.txt"
    assert StaticFileHandler.make_static_url(settings, "a b.txt", include_version=False) == (
        "/static/a%20b.txt"
    )
    prefixed = {"static_path": str(root), "static_url_prefix": "/assets/"}
    assert StaticFileHandler.make_static_url(prefixed, "hello.txt").startswith(
        "/assets/hello.txt?v="
    )


def test_version_cache_follows_static_hash_cache_and_reset(root):
    cached = {"static_path": str(root)}
    uncached = {"static_path": str(root), "static_hash_cache": False}
    before = StaticFileHandler.make_static_url(cached, "hello.txt")
    (root / "hello.txt").write_bytes(b"new content")
    assert StaticFileHandler.make_static_url(cached, "hello.txt") == before
    after = StaticFileHandler.make_static_url(uncached, "hello.txt")
    assert after != before
    StaticFileHandler.reset()
    assert StaticFileHandler.make_static_url(cached, "hello.txt") == after


class StaticURLHandler(RequestHandler):
    def get(self):
        self.write(static_url_for(self, "hello.txt", include_host=self.get_argument("host", None)))


def test_static_url_for_a_handler_and_its_url_serves_the_file(serve, root):
    settings = {"static_path": str(root)}
    port = serve(Application([*static_routes(settings), (r"/url", StaticURLHandler)], **settings))
    url = fetch(port, "/url").text
    assert url.startswith("/static/hello.txt?v=")
    resp = fetch(port, url)
    assert resp.body == HELLO
    assert resp.headers["Cache-Control"] == "max-age=315360000"
    assert fetch(port, "/url?host=1").text == f"http://127.0.0.1:{port}{url}"


def test_static_url_without_static_path_is_an_error(serve):
    assert fetch(serve(Application([(r"/url", StaticURLHandler)])), "/url").status == 500


# -- application routes and overridables ---------------------------------------------


def test_static_routes_serve_prefix_favicon_and_robots(serve, root):
    settings = {"static_path": str(root), "static_handler_args": {"default_filename": "index.html"}}
    port = serve(Application(static_routes(settings), **settings))
    assert fetch(port, "/static/hello.txt").body == HELLO
    assert fetch(port, "/favicon.ico").body == b"ICO"
    assert fetch(port, "/robots.txt").body == b"User-agent: *\n"
    assert fetch(port, "/static/sub/").body == b"sub index"
    assert fetch(port, "/hello.txt").status == 404
    assert static_routes({}) == []


class BrandedStaticHandler(StaticFileHandler):
    def set_extra_headers(self, path):
        self.set_header("X-Served-Path", path)

    def get_cache_time(self, path, modified, mime_type):
        return 60 if mime_type.startswith("text/") else 0


def test_static_routes_with_a_custom_prefix_and_class(serve, root):
    settings = {
        "static_path": str(root),
        "static_url_prefix": "/assets/v1.0/",
        "static_handler_class": BrandedStaticHandler,
    }
    port = serve(Application(static_routes(settings), **settings))
    resp = fetch(port, "/assets/v1.0/hello.txt")
    assert resp.body == HELLO
    assert resp.headers["X-Served-Path"] == "hello.txt"
    assert resp.headers["Cache-Control"] == "max-age=60"
    assert "Cache-Control" not in fetch(port, "/assets/v1.0/pic.png").headers
    assert fetch(port, "/assets/v1x0/hello.txt").status == 404


class FixedStaticHandler(StaticFileHandler):
    """Serves generated content: the overridables are the whole contract."""

    @classmethod
    def get_content(cls, abspath, start=None, end=None):
        return b"generated"[start:end]

    def get_content_size(self):
        return len(b"generated")

    def compute_etag(self):
        return '"fixed"'

    def get_content_type(self):
        return "text/x-generated"


def test_content_overridables(serve, root):
    port = _serve_static(serve, root, handler=FixedStaticHandler)
    resp = fetch(port, "/static/hello.txt")
    assert (resp.status, resp.body, resp.headers["Etag"]) == (200, b"generated", '"fixed"')
    assert resp.headers["Content-Type"] == "text/x-generated"
    resp = fetch(port, "/static/hello.txt", headers={"Range": "bytes=-3"})
    assert (resp.status, resp.body) == (206, b"ted")
    assert fetch(port, "/static/hello.txt", headers={"If-None-Match": '"fixed"'}).status == 304


def test_ranges_are_not_gzipped(serve, root):
    (root / "long.txt").write_bytes(DIGITS * 5)
    port = serve(
        Application(
            [(r"/static/(.*)", StaticFileHandler, {"path": str(root)})], compress_response=True
        )
    )
    headers = {"Range": "bytes=0-2999", "Accept-Encoding": "gzip"}
    resp = fetch(port, "/static/long.txt", headers=headers)
    assert resp.status == 206
    assert "Content-Encoding" not in resp.headers
    assert resp.body == (DIGITS * 5)[:3000]
