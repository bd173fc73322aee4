"""OAuth2 sign-in (authorization code flow) as RequestHandler mixins.

Strategy: two steps on one handler. ``authorize_redirect`` sends the browser to
the provider with a fresh random ``state`` that is also kept in a short-lived
signed cookie; the provider sends the browser back with ``code`` and ``state``,
and ``get_authenticated_user`` refuses (403) unless that ``state`` equals the
cookie's, then trades the code for a token and fetches the user's profile with
:func:`cyclone.httpclient.fetch`. Provider endpoints are class attributes, so a
subclass (or a test) points the flow at any compatible provider.
"""

from __future__ import annotations

import hmac
import json
import secrets
import urllib.parse
from typing import Any

from twisted.internet import defer

from cyclone import httpclient
from cyclone._errors import HTTPError
from cyclone.httputil import url_concat

__all__ = ["GitHubOAuth2Mixin", "GoogleOAuth2Mixin", "OAuth2Mixin"]

STATE_COOKIE = "_oauth2_state"


class OAuth2Mixin:
    """The authorization code flow; mix into a RequestHandler.

    Subclasses set ``_OAUTH_AUTHORIZE_URL``, ``_OAUTH_ACCESS_TOKEN_URL``,
    ``_OAUTH_USERINFO_URL`` and ``_OAUTH_SETTINGS_KEY`` (the setting holding
    ``{"key": client_id, "secret": client_secret}``). The ``cookie_secret``
    setting is required: it signs the ``state`` cookie.
    """

    _OAUTH_AUTHORIZE_URL = ""
    _OAUTH_ACCESS_TOKEN_URL = ""
    _OAUTH_USERINFO_URL = ""
    _OAUTH_SETTINGS_KEY = ""
    _OAUTH_STATE_MAX_AGE = 600

    settings: Any
    request: Any

    def _oauth_client(self, client_id: str | None, client_secret: str | None) -> tuple[str, str]:
        configured = self.settings.get(self._OAUTH_SETTINGS_KEY) or {}
        return (
            client_id or configured.get("key", ""),
            client_secret or configured.get("secret", ""),
        )

    def authorize_redirect(
        self,
        redirect_uri: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        extra_params: dict[str, str] | None = None,
        scope: list[str] | str | None = None,
        response_type: str = "code",
    ) -> defer.Deferred[None]:
        """Redirect to the provider's authorization page, with a new ``state``.

        Returns a Deferred (already fired) so it can be awaited like other steps.
        """
        client_id, _ = self._oauth_client(client_id, client_secret)
        state = secrets.token_urlsafe(24)
        self.set_signed_cookie(  # type: ignore[attr-defined]
            STATE_COOKIE,
            state,
            expires_days=None,
            max_age=self._OAUTH_STATE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=self.request.protocol == "https",
        )
        args = {"response_type": response_type, "client_id": client_id, "state": state}
        if redirect_uri is not None:
            args["redirect_uri"] = redirect_uri
        if scope:
            args["scope"] = scope if isinstance(scope, str) else " ".join(scope)
        args.update(extra_params or {})
        self.redirect(url_concat(self._OAUTH_AUTHORIZE_URL, args))  # type: ignore[attr-defined]
        return defer.succeed(None)

    def check_oauth2_state(self) -> None:
        """403 unless the ``state`` argument matches the signed cookie (then forget it)."""
        given = self.get_argument("state", "")  # type: ignore[attr-defined]
        stored = self.get_signed_cookie(  # type: ignore[attr-defined]
            STATE_COOKIE, max_age_days=self._OAUTH_STATE_MAX_AGE / 86400
        )
        self.clear_cookie(STATE_COOKIE)  # type: ignore[attr-defined]
        if not given or stored is None:
            raise HTTPError(403, "OAuth2 state missing", reason="OAuth2 state missing")
        if not hmac.compare_digest(given.encode(), stored):
            raise HTTPError(403, "OAuth2 state mismatch", reason="OAuth2 state mismatch")

    def get_authenticated_user(
        self,
        redirect_uri: str,
        code: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        extra_fields: dict[str, str] | None = None,
    ) -> defer.Deferred[dict[str, Any]]:
        """Check ``state``, trade ``code`` for a token and fetch the user's profile.

        Fires with the profile dict plus ``access_token`` and ``token`` (the whole
        token response). Fails with HTTPError(403) on a bad ``state`` and
        HTTPError(502) when the provider refuses or answers nonsense.
        """
        try:
            self.check_oauth2_state()
        except HTTPError:
            return defer.fail()
        client_id, client_secret = self._oauth_client(client_id, client_secret)
        fields = {
            "redirect_uri": redirect_uri,
            "code": code,
            "client_id": client_id,
            "client_secret": client_secret,
            "grant_type": "authorization_code",
        }
        fields.update(extra_fields or {})
        return defer.Deferred.fromCoroutine(self._complete_sign_in(fields))

    async def _complete_sign_in(self, fields: dict[str, str]) -> dict[str, Any]:
        token = await self.oauth2_request(self._OAUTH_ACCESS_TOKEN_URL, post_args=fields)
        access_token = token.get("access_token")
        if not access_token:
            raise HTTPError(502, f"OAuth2 token endpoint gave no access_token: {token!r}")
        user = await self.oauth2_request(self._OAUTH_USERINFO_URL, access_token=access_token)
        return {**user, "access_token": access_token, "token": token}

    async def oauth2_request(
        self,
        url: str,
        access_token: str | None = None,
        post_args: dict[str, str] | None = None,
        **args: str,
    ) -> dict[str, Any]:
        """A JSON API call: GET (POST with ``post_args``), Bearer ``access_token``."""
        headers = {"Accept": "application/json", "User-Agent": "cyclone"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        body = None
        if post_args is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(post_args)
        response = await self.get_auth_http_client()(
            url_concat(url, args) if args else url,
            method="POST" if body is not None else "GET",
            headers=headers,
            body=body,
            timeout=20,
        )
        if response.code != 200:
            raise HTTPError(502, f"OAuth2 request to {url} failed: {response.code}")
        try:
            return json.loads(response.body)
        except ValueError:
            raise HTTPError(502, f"OAuth2 request to {url} gave no JSON") from None

    def get_auth_http_client(self) -> Any:
        """The ``fetch`` function used for provider calls (override to customise)."""
        return httpclient.fetch


class GoogleOAuth2Mixin(OAuth2Mixin):
    """Google sign-in; the ``google_oauth`` setting holds ``{"key", "secret"}``."""

    _OAUTH_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
    _OAUTH_ACCESS_TOKEN_URL = "https://oauth2.googleapis.com/token"
    _OAUTH_USERINFO_URL = "https://www.googleapis.com/oauth2/v1/userinfo"
    _OAUTH_SETTINGS_KEY = "google_oauth"


class GitHubOAuth2Mixin(OAuth2Mixin):
    """GitHub sign-in; the ``github_oauth`` setting holds ``{"key", "secret"}``."""

    _OAUTH_AUTHORIZE_URL = "https://github.com/login/oauth/authorize"
    _OAUTH_ACCESS_TOKEN_URL = "https://github.com/login/oauth/access_token"
    _OAUTH_USERINFO_URL = "https://api.github.com/user"
    _OAUTH_SETTINGS_KEY = "github_oauth"
