"""StaticFileHandler never serves outside its root, and never tells what exists there.

Every attack is sent twice: once naming a file that exists outside the root and
once naming one that does not. Both answers must be the same refusal, so a
client learns nothing about the filesystem. Raw sockets and ``curl --path-as-is``
send the paths exactly as written (ordinary clients would normalize them).
"""

import os

import pytest
from client import curl, raw_request

from cyclone._static import StaticFileHandler
from cyclone.web import Application

SECRET = b"TOP-SECRET-CONTENT"


@pytest.fixture
def layout(tmp_path):
    """tmp/secret.txt and tmp/outside/secret.txt outside; tmp/root is served."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    (outside / "index.html").write_bytes(SECRET)
    root = tmp_path / "root"
    root.mkdir()
    (root / "hello.txt").write_bytes(b"hello")
    (root / "sub").mkdir()
    (root / "sub" / "index.html").write_bytes(b"inside index")
    os.symlink("../secret.txt", root / "link-secret.txt")
    os.symlink("../nosuch.txt", root / "link-nosuch.txt")
    os.symlink("../outside", root / "outdir")
    os.symlink("../nosuchdir", root / "nodir")
    os.symlink("sub/index.html", root / "inner-link.html")
    trap = root / "trap"
    trap.mkdir()
    os.symlink("../../outside/index.html", trap / "index.html")
    return tmp_path


def _get(port, target):
    """Status and body of a raw GET for ``target``, sent byte for byte."""
    request = (
        b"GET " + target.encode("latin-1") + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    reply = raw_request(port, request)
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def _serve_root(serve, layout, handler=StaticFileHandler, **kwargs):
    args = {"path": str(layout / "root"), **kwargs}
    return serve(Application([(r"/static/(.*)", handler, args)]))


def _assert_same_refusal(port, existing, missing, statuses=(404,)):
    found = _get(port, existing)
    not_found = _get(port, missing)
    assert found == not_found, (existing, missing)
    assert found[0] in statuses
    assert SECRET not in found[1]


# {name} is "secret.txt" (exists outside) or "nosuch.txt" (does not); {abs} is the
# absolute directory holding it, without its leading slash.
ATTACKS = [
    "/static/../{name}",
    "/static/sub/../../{name}",
    "/static/%2e%2e/{name}",
    "/static/%2E%2E%2F{name}",
    "/static/..%2f{name}",
    "/static/..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2F{abs}/{name}",
    "/static/sub/%2e%2e/%2e%2e/{name}",
    "/static/..%5c{name}",
    "/static/%2e%2e%5c{name}",
    "/static/%252e%252e%252f{name}",
    "/static/%252e%252e/{name}",
    "/static//{abs}/{name}",
    "/static/%2f{abs}/{name}",
    "/static/%5c{abs}/{name}",
    "/static/%2e%2e/{name}%00.txt",
    "/static/%2e%2e/{name}%00",
    "/static/.%2e/{name}",
    "/static/outdir/{name}",
    "/static/outdir/../../{name}",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_traversal_is_refused_without_revealing_existence(serve, layout, attack):
    port = _serve_root(serve, layout)
    abs_dir = str(layout).lstrip("/")
    existing = attack.format(name="secret.txt", abs=abs_dir)
    missing = attack.format(name="nosuch.txt", abs=abs_dir)
    _assert_same_refusal(port, existing, missing)


@pytest.mark.parametrize("attack", ["/static/..\\{name}", "/static/sub\\..\\..\\{name}"])
def test_raw_backslashes_are_refused(serve, layout, attack):
    port = _serve_root(serve, layout)
    existing, missing = attack.format(name="secret.txt"), attack.format(name="nosuch.txt")
    # The HTTP parser may already reject a raw backslash (400); either way, no leak.
    _assert_same_refusal(port, existing, missing, statuses=(400, 404))


def test_symlinks_out_of_the_root_are_refused(serve, layout):
    port = _serve_root(serve, layout)
    _assert_same_refusal(port, "/static/link-secret.txt", "/static/link-nosuch.txt")
    _assert_same_refusal(port, "/static/outdir/secret.txt", "/static/nodir/secret.txt")
    _assert_same_refusal(port, "/static/outdir/secret.txt", "/static/outdir/nosuch.txt")
    # A plain missing file inside the root gets the very same answer.
    assert _get(port, "/static/link-secret.txt") == _get(port, "/static/nope.txt")


def test_symlinked_directories_out_of_the_root_are_refused_with_default_filename(serve, layout):
    port = _serve_root(serve, layout, default_filename="index.html")
    _assert_same_refusal(port, "/static/outdir/", "/static/nodir/")
    _assert_same_refusal(port, "/static/outdir", "/static/nodir")
    _assert_same_refusal(port, "/static/../outside/", "/static/../nosuchdir/")


def test_default_filename_linking_out_of_the_root_is_refused(serve, layout):
    port = _serve_root(serve, layout, default_filename="index.html")
    status, body = _get(port, "/static/trap/")
    assert status == 404
    assert SECRET not in body


def test_links_within_the_root_still_work(serve, layout):
    port = _serve_root(serve, layout, default_filename="index.html")
    assert _get(port, "/static/inner-link.html") == (200, b"inside index")
    assert _get(port, "/static/sub/") == (200, b"inside index")
    assert _get(port, "/static/sub/./index.html") == (200, b"inside index")


def test_curl_path_as_is(serve, layout):
    port = _serve_root(serve, layout)
    base = f"http://127.0.0.1:{port}"
    for path in ("/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt"):
        out = curl("--path-as-is", "-i", base + path).stdout
        assert out.startswith(b"HTTP/1.1 404"), path
        assert SECRET not in out
    out = curl("--path-as-is", "-i", base + "/static/../nosuch.txt").stdout
    assert out.startswith(b"HTTP/1.1 404")


class LooseStaticHandler(StaticFileHandler):
    """A careless override that turns ``UP`` into ``..`` after the lexical check."""

    def parse_url_path(self, url_path):
        return url_path.replace("UP", "..")


def test_resolved_root_check_holds_when_an_override_reintroduces_dotdot(serve, layout):
    port = _serve_root(serve, layout, handler=LooseStaticHandler)
    _assert_same_refusal(port, "/static/UP/secret.txt", "/static/UP/nosuch.txt")
    _assert_same_refusal(port, "/static/sub/UP/UP/outside/", "/static/sub/UP/UP/nowhere/")
    assert _get(port, "/static/sub/UP/hello.txt") == (200, b"hello")
