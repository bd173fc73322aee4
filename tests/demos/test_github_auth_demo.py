"""The GitHub sign-in demo against a fake provider: a real HTTP server on loopback that
implements GitHub's three OAuth2 endpoints (authorize, access_token, user)."""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from demos.github_auth.app import Application

CLIENT_ID, CLIENT_SECRET = "demo-client", "demo-secret"
OCTOCAT = {"login": "octocat", "id": 583231, "name": "The Octocat"}


class FakeGitHub(ThreadingHTTPServer):
    """What the demo needs of github.com and api.github.com, with GitHub's checks."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FakeGitHubHandler)
        self.codes: dict[str, str] = {}  # code -> the redirect_uri it was issued for
        self.tokens: set[str] = set()
        self.calls: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FakeGitHubHandler(BaseHTTPRequestHandler):
    server: FakeGitHub

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, status: int, body: dict | None = None, location: str | None = None) -> None:
        data = json.dumps(body or {}).encode()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        args = dict(urllib.parse.parse_qsl(url.query))
        self.server.calls.append(f"GET {url.path}")
        if url.path == "/login/oauth/authorize":
            # The user "approves" at once: back to the app with a one-time code and its state.
            if args.get("client_id") != CLIENT_ID or "redirect_uri" not in args:
                return self.reply(400, {"error": "bad client or redirect_uri"})
            code = secrets.token_hex(8)
            self.server.codes[code] = args["redirect_uri"]
            back = {"code": code, "state": args.get("state", "")}
            return self.reply(
                302, location=f"{args['redirect_uri']}?{urllib.parse.urlencode(back)}"
            )
        if url.path == "/user":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self.server.tokens:
                return self.reply(401, {"message": "Bad credentials"})
            return self.reply(200, OCTOCAT)
        self.reply(404)

    def do_POST(self) -> None:
        self.server.calls.append(f"POST {self.path}")
        if self.path != "/login/oauth/access_token":
            return self.reply(404)
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return self.reply(401, {"error": "incorrect_client_credentials"})
        if self.server.codes.pop(form.get("code", ""), None) != form.get("redirect_uri"):
            return self.reply(200, {"error": "bad_verification_code"})  # GitHub says 200 here
        token = secrets.token_hex(16)
        self.server.tokens.add(token)
        self.reply(200, {"access_token": token, "token_type": "bearer", "scope": "read:user"})


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    server = FakeGitHub()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_sign_in_and_out(serve, github):
    port = serve(Application(CLIENT_ID, CLIENT_SECRET, provider=github.url))
    base = f"http://127.0.0.1:{port}"
    with requests.Session() as browser:
        home = browser.get(base + "/", timeout=10)
        assert 'href="/auth/github"' in home.text and "/static/demo.css" in home.text
        signed_in = browser.get(base + "/auth/github", timeout=10)  # follows every redirect
        assert signed_in.url == base + "/"
        assert '<b id="login">octocat</b> (The Octocat)' in signed_in.text
        assert [r.status_code for r in signed_in.history] == [302, 302, 302]
        assert github.calls == [
            "GET /login/oauth/authorize",
            "POST /login/oauth/access_token",
            "GET /user",
        ]
        out = browser.post(base + "/auth/logout", timeout=10)
        assert "Sign in with GitHub" in out.text


def test_a_forged_state_is_refused(serve, github):
    port = serve(Application(CLIENT_ID, CLIENT_SECRET, provider=github.url))
    base = f"http://127.0.0.1:{port}"
    with requests.Session() as browser:
        to_github = browser.get(base + "/auth/github", allow_redirects=False, timeout=10)
        assert to_github.status_code == 302
        authorize = urllib.parse.urlsplit(to_github.headers["Location"])
        assert authorize.netloc == urllib.parse.urlsplit(github.url).netloc
        assert dict(urllib.parse.parse_qsl(authorize.query))["scope"] == "read:user"
        forged = browser.get(base + "/auth/github?code=x&state=forged", timeout=10)
        assert forged.status_code == 403
    assert "POST /login/oauth/access_token" not in github.calls


def test_a_provider_that_refuses_the_client_is_a_502(serve, github):
    port = serve(Application(CLIENT_ID, "wrong secret", provider=github.url))
    with requests.Session() as browser:
        answer = browser.get(f"http://127.0.0.1:{port}/auth/github", timeout=10)
    assert answer.status_code == 502
    assert "Signed in" not in answer.text
