"""Smoke test of the showcase demo: every page answers as its index promises."""

import json
import re
import subprocess

import pytest

from demos.showcase.app import Application


@pytest.fixture
def base_url(serve):
    return f"http://127.0.0.1:{serve(Application(clock_interval=0.1))}"


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


def test_pages_answer(base_url):
    assert curl(base_url + "/hello") == (200, "Hello, world\n")
    code, body = curl(base_url + "/json?x=1")
    assert code == 200 and json.loads(body) == {"message": "Hello, world", "query": "x=1"}
    assert json.loads(curl(base_url + "/user/42")[1]) == {"user": 42}
    assert json.loads(curl(base_url + "/sleep")[1])["slept"] >= 0.19
    assert json.loads(curl(base_url + "/async")[1]) == {"value": "computed later"}
    assert curl(base_url + "/stream")[1] == "".join(f"chunk {i}\n" for i in range(5))
    assert "time" in json.loads(curl(base_url + "/clock")[1])


def test_upload_and_error(base_url, tmp_path):
    upload = tmp_path / "photo.bin"
    upload.write_bytes(b"\x00\x01" * 5000)
    jar = tmp_path / "cookies"
    _, form = curl("-c", str(jar), base_url + "/upload")
    token = re.search(r'name="_xsrf" value="([^"]+)"', form).group(1)
    assert curl("-b", str(jar), "-F", f"file=@{upload}", base_url + "/upload")[0] == 403
    code, body = curl(
        "-b",
        str(jar),
        "-F",
        f"_xsrf={token}",
        "-F",
        f"file=@{upload}",
        "-F",
        "note=hello",
        base_url + "/upload",
    )
    assert code == 200
    assert json.loads(body) == {
        "files": [
            {"filename": "photo.bin", "content_type": "application/octet-stream", "size": 10000}
        ],
        "note": "hello",
    }
    code, body = curl(base_url + "/boom")
    assert code == 500
    assert "on purpose" not in body


def test_index_is_translated_by_accept_language_or_lang(base_url):
    code, body = curl("-H", "Accept-Language: es-ES;q=0.5, pt-BR", base_url + "/")
    assert code == 200
    assert '<html lang="pt-BR">' in body
    assert "<title>vitrine do cyclone 2</title>" in body
    assert "12 páginas para experimentar:" in body
    assert "texto simples" in body
    code, body = curl("-H", "Accept-Language: pt-BR", base_url + "/?lang=es_ES")
    assert "<title>escaparate de cyclone 2</title>" in body and "texto plano" in body
    code, body = curl("-H", "Accept-Language: de", base_url + "/")
    assert "<title>cyclone 2 showcase</title>" in body and "12 pages to try:" in body


def test_index_links_its_static_assets(base_url):
    _, body = curl(base_url + "/")
    stylesheet = re.search(r'href="(/static/showcase\.css\?v=[0-9a-f]+)"', body)
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
