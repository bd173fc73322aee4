"""Smoke test of the showcase demo: every page answers as its index promises."""

import json
import re
import subprocess
import urllib.request

import pytest

from demos.showcase.app import Application, preferred_type


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "showcase.sqlite3"


@pytest.fixture
def base_url(serve, db_path):
    return f"http://127.0.0.1:{serve(Application(clock_interval=0.1, db_path=str(db_path)))}"


def curl(*args: str) -> tuple[int, str]:
    out = subprocess.run(
        ["curl", "-s", "--max-time", "10", "-w", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    body, _, code = out.rpartition("\n")
    return int(code), body


def test_index_links_every_page(base_url):
    code, body = curl(base_url + "/")
    assert code == 200
    for path in ("/hello", "/json", "/user/42", "/sleep", "/async", "/stream", "/clock", "/upload"):
        assert f'href="{path}"' in body
    for path in ("/guestbook", "/boom", "/login", "/me", "/api/whoami"):
        assert f'href="{path}"' in body


def test_index_links_the_other_demos(base_url):
    _, body = curl(base_url + "/")
    # The chat demo: a link to where it listens, and the command that starts it there
    # (demos that take --port get ports from 8889 on, in alphabetical order).
    port = re.search(r'<a href="http://127\.0\.0\.1:(\d+)/">chat</a>', body)
    assert port and int(port[1]) >= 8889, body
    assert f"uv run python demos/chat/app.py --port {port[1]}" in body
    assert "WebSocket chat room" in body


def test_pages_answer(base_url):
    assert curl(base_url + "/hello") == (200, "Hello, world\n")
    code, body = curl(base_url + "/json?x=1")
    assert code == 200 and json.loads(body) == {"message": "Hello, world", "query": "x=1"}
    assert json.loads(curl(base_url + "/user/42")[1]) == {"user": 42}
    assert json.loads(curl(base_url + "/sleep")[1])["slept"] >= 0.19
    assert json.loads(curl(base_url + "/async")[1]) == {"value": "computed later"}
    assert curl(base_url + "/stream")[1] == "".join(f"chunk {i}\n" for i in range(5))
    assert "time" in json.loads(curl(base_url + "/clock")[1])


def xsrf_token(page: str) -> str:
    return re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)


def test_upload_answers_html_or_json_and_error(base_url, tmp_path):
    upload = tmp_path / "photo <1>.bin"
    upload.write_bytes(b"\x00\x01" * 5000)
    jar = tmp_path / "cookies"
    _, form = curl("-c", str(jar), base_url + "/upload")
    token = xsrf_token(form)
    assert curl("-b", str(jar), "-F", f"file=@{upload}", base_url + "/upload")[0] == 403
    fields = ["-F", f"_xsrf={token}", "-F", f"file=@{upload}", "-F", "note=hello <world>"]
    code, body = curl("-b", str(jar), *fields, base_url + "/upload")
    assert code == 200
    assert body.startswith("<!DOCTYPE html>")
    assert "<td>photo &lt;1&gt;.bin</td>" in body
    assert "<code>application/octet-stream</code>" in body and ">10000</td>" in body
    assert "hello &lt;world&gt;" in body and "<world>" not in body
    assert 'href="/"' in body
    code, body = curl(
        "-b", str(jar), "-H", "Accept: application/json", *fields, base_url + "/upload"
    )
    assert code == 200
    assert json.loads(body) == {
        "files": [
            {"filename": "photo <1>.bin", "content_type": "application/octet-stream", "size": 10000}
        ],
        "note": "hello <world>",
    }
    code, body = curl(base_url + "/boom")
    assert code == 500
    assert "on purpose" not in body


def test_preferred_type():
    offers = ("text/html", "application/json")
    assert preferred_type(None, offers) == "text/html"
    assert preferred_type("*/*", offers) == "text/html"
    assert preferred_type("application/json", offers) == "application/json"
    assert preferred_type("application/json, text/html;q=0.5", offers) == "application/json"
    assert preferred_type("text/html, application/json", offers) == "text/html"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert preferred_type(browser, offers) == "text/html"
    assert preferred_type("image/png", offers) == "text/html"


def test_guest_book_round_trip(base_url, tmp_path, db_path):
    jar = str(tmp_path / "cookies")
    code, page = curl("-c", jar, base_url + "/guestbook")
    assert code == 200 and "0 entries in all" in page
    assert db_path.exists()  # the table is made on first use, in the configured file
    token = xsrf_token(page)
    post = ["-b", jar, "--data-urlencode", "name=Ana <b>", "--data-urlencode"]
    # Without the XSRF token the post is refused, and nothing is stored.
    code, _ = curl(*post, "message=no token", base_url + "/guestbook")
    assert code == 403
    code, head = curl(
        "-D",
        "-",
        *post,
        "message=x & <script>alert(1)</script>",
        "--data-urlencode",
        f"_xsrf={token}",
        base_url + "/guestbook",
    )
    assert code == 303 and re.search(r"Location: /guestbook#entry-1\r?\n", head)
    code, _ = curl(
        "-b", jar, "-d", f"_xsrf={token}&name=Bruno&message=second", base_url + "/guestbook"
    )
    assert code == 303
    code, page = curl(base_url + "/guestbook")
    assert code == 200 and "2 entries in all" in page
    assert "no token" not in page
    assert '<b class="name">Ana &lt;b&gt;</b>' in page
    assert "x &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert page.index("Bruno") < page.index("Ana")  # newest first


def test_guest_book_entries_outlive_the_application(serve, db_path, tmp_path):
    jar = str(tmp_path / "cookies")
    base = f"http://127.0.0.1:{serve(Application(db_path=str(db_path)))}"
    token = xsrf_token(curl("-c", jar, base + "/guestbook")[1])
    data = f"_xsrf={token}&name=Carla&message=still+here"
    assert curl("-b", jar, "-d", data, base + "/guestbook")[0] == 303
    second = f"http://127.0.0.1:{serve(Application(db_path=str(db_path)))}"
    page = curl(second + "/guestbook")[1]
    assert "1 entry in all" in page and "still here" in page


def test_guest_book_refuses_empty_and_long_entries(base_url, tmp_path):
    jar = str(tmp_path / "cookies")
    token = xsrf_token(curl("-c", jar, base_url + "/guestbook")[1])
    code, page = curl(
        "-b", jar, "-d", f"_xsrf={token}&name=+&message=kept <text>", base_url + "/guestbook"
    )
    assert code == 400 and "Please give both a name and a message." in page
    assert ">kept &lt;text&gt;</textarea>" in page  # the message is given back to fix
    long_name = "n" * 41
    code, page = curl(
        "-b", jar, "-d", f"_xsrf={token}&name={long_name}&message=hi", base_url + "/guestbook"
    )
    assert code == 400 and "too long" in page
    assert "0 entries in all" in curl(base_url + "/guestbook")[1]


def test_guest_book_file_from_the_environment(serve, tmp_path, monkeypatch):
    path = tmp_path / "from-env.sqlite3"
    monkeypatch.setenv("SHOWCASE_DB", str(path))
    base = f"http://127.0.0.1:{serve(Application())}"
    assert curl(base + "/guestbook")[0] == 200
    assert path.exists()


def test_favicon(base_url):
    with urllib.request.urlopen(base_url + "/favicon.ico", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("image/")
        icon = response.read()
    assert icon.startswith(b"\x00\x00\x01\x00")  # the ICO signature
    assert int.from_bytes(icon[4:6], "little") >= 1  # at least one image in it


def test_language_choice_is_kept_across_pages(base_url, tmp_path):
    jar = str(tmp_path / "cookies")
    _, body = curl("-c", jar, base_url + "/guestbook?lang=pt_BR")
    assert "<h2>Livro de visitas</h2>" in body
    _, body = curl("-b", jar, base_url + "/upload")
    assert '<html lang="pt-BR">' in body and "Voltar à página inicial" in body


def test_sub_pages_have_the_layout_and_a_way_back(base_url, tmp_path):
    jar = str(tmp_path / "cookies")
    token = xsrf_token(curl("-c", jar, base_url + "/login")[1])
    login = f"_xsrf={token}&username=demo&password=demo"
    assert curl("-b", jar, "-c", jar, "-d", login, base_url + "/login")[0] == 302
    pages = {
        "/upload": 200,
        "/guestbook": 200,
        "/login": 200,
        "/me": 200,
        "/boom": 500,
        "/no/such/page": 404,
    }
    for path, status in pages.items():
        code, body = curl("-b", jar, base_url + path)
        assert code == status, path
        assert '<a href="/">← Back to the front page</a>' in body, path
        assert '<a class="home" href="/">' in body, path
        assert '<meta name="viewport"' in body, path
        assert 'rel="stylesheet" href="/static/demo.css?v=' in body, path
    _, body = curl(base_url + "/no/such/page")
    assert "There is no page at /no/such/page." in body
    # The front page has the same layout but no way "back".
    _, body = curl(base_url + "/")
    assert '<a class="home" href="/">' in body and "Back to the front page" not in body


def test_index_is_translated_by_accept_language_or_lang(base_url):
    code, body = curl("-H", "Accept-Language: es-ES;q=0.5, pt-BR", base_url + "/")
    assert code == 200
    assert '<html lang="pt-BR">' in body
    assert "<title>vitrine do cyclone 2</title>" in body
    assert "13 páginas para experimentar:" in body
    assert "texto simples" in body
    code, body = curl("-H", "Accept-Language: pt-BR", base_url + "/?lang=es_ES")
    assert "<title>escaparate de cyclone 2</title>" in body and "texto plano" in body
    code, body = curl("-H", "Accept-Language: de", base_url + "/")
    assert "<title>cyclone 2 showcase</title>" in body and "13 pages to try:" in body


def test_index_links_its_static_assets(base_url):
    _, body = curl(base_url + "/")
    stylesheet = re.search(r'href="(/static/demo\.css\?v=[0-9a-f]+)"', body)
    script = re.search(r'src="(/static/showcase\.js\?v=[0-9a-f]+)"', body)
    assert stylesheet and script
    code, css = curl(base_url + stylesheet.group(1))
    assert code == 200 and "font-family" in css
    code, js = curl(base_url + script.group(1))
    assert code == 200 and "getElementById" in js


def test_sign_in_session_and_sign_out(base_url, tmp_path):
    jar = str(tmp_path / "cookies")
    code, head = curl("-D", "-", base_url + "/me")
    assert code == 302 and "Location: /login?next=%2Fme" in head
    _, form = curl("-c", jar, base_url + "/login?next=/me")
    token = re.search(r'name="_xsrf" value="([^"]+)"', form).group(1)
    assert curl("-b", jar, "-d", "username=demo&password=demo", base_url + "/login")[0] == 403
    code, _ = curl(
        "-b", jar, "-c", jar, "-d", f"_xsrf={token}&username=demo&password=no", base_url + "/login"
    )
    assert code == 403
    code, body = curl(
        "-L",
        "-b",
        jar,
        "-c",
        jar,
        "-d",
        f"_xsrf={token}&username=demo&password=demo&next=/me",
        base_url + "/login",
    )
    assert code == 200 and "Signed in as <b>demo</b>" in body
    assert "Signed in as" in curl("-b", jar, base_url + "/me")[1]
    code, _ = curl("-b", jar, "-c", jar, "-d", f"_xsrf={token}", base_url + "/logout")
    assert code == 302
    assert curl("-b", jar, base_url + "/me")[0] == 302


def test_basic_auth_api(base_url):
    assert curl("-u", "demo:demo", base_url + "/api/whoami") == (200, '{"user":"demo"}')
    assert curl("-u", "demo:nope", base_url + "/api/whoami")[0] == 401
    assert curl(base_url + "/api/whoami")[0] == 401
