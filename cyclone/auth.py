"""Identity: HTTP authentication schemes, the ``requires`` decorator, OAuth2 mixins.

``cyclone.auth`` is the public face; the code lives in ``_httpauth`` (Basic,
Digest, ``requires``) and ``_oauth2`` (``OAuth2Mixin`` and its providers).
``@authenticated`` (cookie sessions) is in :mod:`cyclone.web`. The contract of a
scheme, :class:`AuthScheme` with its optional :class:`SecretVerifier` and
:class:`MultiChallenge` members, is written in :mod:`cyclone.contracts`.
"""

from __future__ import annotations

from cyclone._errors import HTTPAuthenticationRequired
from cyclone._httpauth import (
    BasicCredentials,
    BasicScheme,
    DigestCredentials,
    DigestScheme,
    StaleCredentials,
    basic,
    digest,
    parse_auth_params,
    requires,
)
from cyclone._oauth2 import GitHubOAuth2Mixin, GoogleOAuth2Mixin, OAuth2Mixin
from cyclone.contracts import AuthScheme, MultiChallenge, SecretVerifier
from cyclone.web import authenticated

__all__ = [
    "AuthScheme",
    "BasicCredentials",
    "BasicScheme",
    "DigestCredentials",
    "DigestScheme",
    "GitHubOAuth2Mixin",
    "GoogleOAuth2Mixin",
    "HTTPAuthenticationRequired",
    "MultiChallenge",
    "OAuth2Mixin",
    "SecretVerifier",
    "StaleCredentials",
    "authenticated",
    "basic",
    "digest",
    "parse_auth_params",
    "requires",
]
