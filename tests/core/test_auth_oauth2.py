"""OAuth2 sign-in end to end against a fake provider served on loopback."""

import urllib.parse

import pytest
import requests
from client import TIMEOUT

import cyclone.web
from cyclone.auth import GitHubOAuth2Mixin, GoogleOAuth2Mixin, OAuth2Mixin

CLIENT_ID, CLIENT_SECRET = "client-1", "s3cret"


class AuthorizeHandler(cyclone.web.RequestHandler):
    def get(self):
        assert self.get_argument("client_id") == CLIENT_ID
        assert self.get_argument("response_type") == "code"
        self.application.seen.append(dict(self.request.query_arguments))
        target = self.get_argument("redirect_uri")
        query = {"code": "the-code", "state": self.get_argument("state")}
        self.redirect(target + "?" + urllib.parse.urlencode(query))


class TokenHandler(cyclone.web.RequestHandler):
    def post(self):
        expected = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": "the-code",
            "grant_type": "authorization_code",
        }
        given = {k: self.get_body_argument(k, None) for k in expected}
        if given != expected or not self.get_body_argument("redirect_uri", ""):
            self.set_status(400)
            self.finish({"error": "invalid_grant"})
            return
        self.write({"access_token": "tok-123", "token_type": "bearer", "scope": "read:user"})


class UserInfoHandler(cyclone.web.RequestHandler):
    def get(self):
        if self.request.headers.get("Authorization") != "Bearer tok-123":
            raise cyclone.web.HTTPError(401)
        self.write({"login": "octocat", "id": 1, "email": "octo@example.com"})


def provider_app():
    app = cyclone.web.Application(
        [(r"/authorize", AuthorizeHandler), (r"/token", TokenHandler), (r"/user", UserInfoHandler)]
    )
    app.seen = []
    return app


def client_app(provider, mixin=GitHubOAuth2Mixin, secret=CLIENT_SECRET):
    class LoginHandler(cyclone.web.RequestHandler, mixin):
        _OAUTH_AUTHORIZE_URL = provider + "/authorize"
        _OAUTH_ACCESS_TOKEN_URL = provider + "/token"
        _OAUTH_USERINFO_URL = provider + "/user"

        async def get(self):
            redirect_uri = f"{self.request.protocol}://{self.request.host}/auth/login"
            if self.get_argument("code", None):
                user = await self.get_authenticated_user(
                    redirect_uri=redirect_uri, code=self.get_argument("code")
                )
                self.set_signed_cookie("user", user["login"])
                self.redirect("/")
            else:
                await self.authorize_redirect(redirect_uri=redirect_uri, scope=["read:user"])

    class HomeHandler(cyclone.web.RequestHandler):
        def get_current_user(self):
            user = self.get_signed_cookie("user")
            return user.decode() if user else None

        @cyclone.web.authenticated
        def get(self):
            self.write({"user": self.current_user})

    return cyclone.web.Application(
        [(r"/auth/login", LoginHandler), (r"/", HomeHandler)],
        cookie_secret="x" * 40,
        login_url="/auth/login",
        github_oauth={"key": CLIENT_ID, "secret": secret},
        google_oauth={"key": CLIENT_ID, "secret": secret},
    )


@pytest.fixture
def provider(serve):
    app = provider_app()
    return f"http://127.0.0.1:{serve(app)}", app


@pytest.mark.parametrize("mixin", [GitHubOAuth2Mixin, GoogleOAuth2Mixin])
def test_sign_in_end_to_end(serve, provider, mixin):
    provider_url, provider_server = provider
    base = f"http://127.0.0.1:{serve(client_app(provider_url, mixin))}"
    with requests.Session() as browser:
        response = browser.get(base + "/", timeout=TIMEOUT)
        assert response.status_code == 200
        assert response.json() == {"user": "octocat"}
        hops = [r.url.split("?")[0] for r in response.history]
        assert hops == [
            base + "/",
            base + "/auth/login",
            provider_url + "/authorize",
            base + "/auth/login",
        ]
    [query] = provider_server.seen
    assert query["scope"] == [b"read:user"]
    assert query["redirect_uri"] == [(base + "/auth/login").encode()]
    assert len(query["state"][0]) >= 32


def test_a_forged_or_missing_state_is_refused(serve, provider):
    provider_url, _ = provider
    base = f"http://127.0.0.1:{serve(client_app(provider_url))}"
    with requests.Session() as browser:
        start = browser.get(base + "/auth/login", allow_redirects=False, timeout=TIMEOUT)
        assert start.status_code == 302
        assert "HttpOnly" in start.headers["Set-Cookie"]
        forged = browser.get(base + "/auth/login?code=the-code&state=attacker", timeout=TIMEOUT)
        assert (forged.status_code, forged.reason) == (403, "OAuth2 state mismatch")
    # A callback without the state cookie (another browser's link) is refused too.
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(start.headers["Location"]).query)["state"][
        0
    ]
    stranger = requests.get(f"{base}/auth/login?code=the-code&state={state}", timeout=TIMEOUT)
    assert (stranger.status_code, stranger.reason) == (403, "OAuth2 state missing")


def test_the_state_cookie_is_cleared_by_the_callback(serve, provider):
    provider_url, _ = provider
    base = f"http://127.0.0.1:{serve(client_app(provider_url))}"
    with requests.Session() as browser:
        start = browser.get(base + "/auth/login", allow_redirects=False, timeout=TIMEOUT)
        assert "_oauth2_state" in browser.cookies
        authorize = browser.get(start.headers["Location"], allow_redirects=False, timeout=TIMEOUT)
        done = browser.get(authorize.headers["Location"], allow_redirects=False, timeout=TIMEOUT)
        assert done.status_code == 302
        assert "_oauth2_state" not in browser.cookies
        again = browser.get(authorize.headers["Location"], allow_redirects=False, timeout=TIMEOUT)
        assert (again.status_code, again.reason) == (403, "OAuth2 state missing")


def test_a_provider_refusal_is_a_502(serve, provider):
    provider_url, _ = provider
    base = f"http://127.0.0.1:{serve(client_app(provider_url, secret='wrong'))}"
    response = requests.get(base + "/auth/login", timeout=TIMEOUT)
    assert response.status_code == 502


def test_endpoints_are_overridable_class_attributes():
    assert GitHubOAuth2Mixin._OAUTH_AUTHORIZE_URL == "https://github.com/login/oauth/authorize"
    assert GoogleOAuth2Mixin._OAUTH_SETTINGS_KEY == "google_oauth"
    assert issubclass(GitHubOAuth2Mixin, OAuth2Mixin)
