"""github_auth: "Sign in with GitHub" with ``GitHubOAuth2Mixin`` (the OAuth2 code flow).

Register an OAuth app at https://github.com/settings/developers with the
callback URL http://127.0.0.1:8888/auth/github, then::

    GITHUB_CLIENT_ID=... GITHUB_CLIENT_SECRET=... uv run python demos/github_auth/app.py

and open http://127.0.0.1:8888/. The sign-in handler sends the browser to GitHub
with a random ``state`` (also kept in a signed cookie); GitHub sends it back
with a ``code``, which the server trades for a token and the user's profile.
``--provider URL`` points the flow at another server with GitHub's endpoints
(the smoke test runs a small fake provider on loopback).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import secrets
from typing import Any

import cyclone.auth
import cyclone.web
from demos.look import STATIC_PATH, page


class BaseHandler(cyclone.web.RequestHandler):
    def get_current_user(self) -> dict[str, Any] | None:
        user = self.get_signed_cookie("user")
        return json.loads(user) if user else None


class HomeHandler(BaseHandler):
    def get(self) -> None:
        user = self.current_user
        if user is None:
            body = '<p><a href="/auth/github">Sign in with GitHub</a></p>'
        else:
            body = (
                f'<p>Signed in as <b id="login">{html.escape(user["login"])}</b>'
                f" ({html.escape(user.get('name') or '')}).</p>"
                '<form action="/auth/logout" method="post"><button>sign out</button></form>'
            )
        self.write(page("GitHub sign-in", body))


class GitHubLoginHandler(BaseHandler, cyclone.auth.GitHubOAuth2Mixin):
    async def get(self) -> None:
        redirect_uri = f"{self.request.protocol}://{self.request.host}/auth/github"
        if self.get_argument("code", None):
            user = await self.get_authenticated_user(
                redirect_uri=redirect_uri, code=self.get_argument("code")
            )
            # Keep what the page shows, not the token: the cookie is signed, not secret.
            profile = {"login": user["login"], "name": user.get("name")}
            self.set_signed_cookie("user", json.dumps(profile), httponly=True, samesite="Lax")
            self.redirect("/")
        else:
            await self.authorize_redirect(redirect_uri=redirect_uri, scope=["read:user"])


class LogoutHandler(BaseHandler):
    def post(self) -> None:
        self.clear_cookie("user")
        self.redirect("/")


def login_handler(provider: str | None, api: str | None = None) -> type[GitHubLoginHandler]:
    """The sign-in handler, for github.com or for a server at ``provider`` with its endpoints."""
    if provider is None:
        return GitHubLoginHandler
    provider = provider.rstrip("/")
    api = (api or provider).rstrip("/")
    return type(
        "ProviderLoginHandler",
        (GitHubLoginHandler,),
        {
            "_OAUTH_AUTHORIZE_URL": f"{provider}/login/oauth/authorize",
            "_OAUTH_ACCESS_TOKEN_URL": f"{provider}/login/oauth/access_token",
            "_OAUTH_USERINFO_URL": f"{api}/user",
        },
    )


def Application(
    client_id: str | None = None,
    client_secret: str | None = None,
    provider: str | None = None,
    cookie_secret: str | None = None,
) -> cyclone.web.Application:
    """The demo; the client defaults to ``$GITHUB_CLIENT_ID`` and ``$GITHUB_CLIENT_SECRET``."""
    return cyclone.web.Application(
        [
            (r"/", HomeHandler),
            (r"/auth/github", login_handler(provider)),
            (r"/auth/logout", LogoutHandler),
        ],
        static_path=STATIC_PATH,
        cookie_secret=cookie_secret or secrets.token_hex(32),
        github_oauth={
            "key": client_id or os.environ.get("GITHUB_CLIENT_ID", ""),
            "secret": client_secret or os.environ.get("GITHUB_CLIENT_SECRET", ""),
        },
    )


if __name__ == "__main__":
    from twisted.internet import reactor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--provider", help="a server with GitHub's OAuth2 endpoints")
    args = parser.parse_args()
    reactor.listenTCP(args.port, Application(provider=args.provider), interface="127.0.0.1")
    print(f"http://127.0.0.1:{args.port}/")
    reactor.run()
