"""Identity: HTTP authentication schemes, the ``requires`` decorator, OAuth2 mixins.

``cyclone.auth`` is the public face; the code lives in ``_httpauth`` (Basic,
Digest, ``requires``) and ``_oauth2`` (``OAuth2Mixin`` and its providers).
``@authenticated`` (cookie sessions) is in :mod:`cyclone.web`.
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
from cyclone.web import authenticated

__all__ = [
    "BasicCredentials",
    "BasicScheme",
    "DigestCredentials",
    "DigestScheme",
    "GitHubOAuth2Mixin",
    "GoogleOAuth2Mixin",
    "HTTPAuthenticationRequired",
    "OAuth2Mixin",
    "StaleCredentials",
    "authenticated",
    "basic",
    "digest",
    "parse_auth_params",
    "requires",
]
