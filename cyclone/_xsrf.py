"""XSRF protection: a secret token in a cookie, echoed by every unsafe request.

Strategy: each browser holds a random 16-byte token in the ``_xsrf`` cookie.
Pages embed the same token (``xsrf_form_html()``, ``xsrf_token``), and every
POST, PUT, PATCH and DELETE must send it back as the ``_xsrf`` argument or an
``X-XSRFToken`` / ``X-CSRFToken`` header; a cross-site page cannot read the
cookie, so it cannot forge the echo.

The token is never shown as is: each response masks it with fresh random bytes
(``2|<mask hex>|<token XOR mask hex>|<timestamp>``), so a compressed page leaks
nothing across responses (BREACH). Bare hex tokens (the cyclone 1.x cookie) are
still understood, so an upgrade does not break open forms.
"""

from __future__ import annotations

import binascii
import hmac
import os
import time
from typing import Any

from cyclone import escape
from cyclone._errors import HTTPError
from cyclone.settings import XSRF_COOKIE_KWARGS, XSRF_COOKIE_NAME

__all__ = ["XSRFMixin", "decode_xsrf_token", "encode_xsrf_token"]

_TOKEN_BYTES = 16


def _xor(mask: bytes, data: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(mask, data, strict=True))


def encode_xsrf_token(token: bytes, timestamp: float) -> bytes:
    """Mask ``token`` with fresh random bytes: ``2|mask|masked|timestamp`` (ASCII)."""
    mask = os.urandom(len(token))
    return b"|".join(
        [
            b"2",
            binascii.hexlify(mask),
            binascii.hexlify(_xor(mask, token)),
            str(int(timestamp)).encode(),
        ]
    )


def decode_xsrf_token(value: str | bytes | None) -> tuple[int | None, bytes | None, float | None]:
    """``(version, token, timestamp)`` from a cookie or echoed token; Nones if malformed."""
    if not value:
        return None, None, None
    try:
        raw = value.encode("ascii") if isinstance(value, str) else value
        if raw.startswith(b"2|"):
            _, mask_hex, masked_hex, timestamp = raw.split(b"|")
            mask = binascii.unhexlify(mask_hex)
            masked = binascii.unhexlify(masked_hex)
            if not mask or len(mask) != len(masked) or not timestamp.isdigit():
                return None, None, None
            return 2, _xor(mask, masked), float(int(timestamp))
        # Version 1: the bare hex token cyclone 1.x and old Tornado put in the cookie.
        if len(raw) >= 16 and all(c in b"0123456789abcdefABCDEF" for c in raw):
            return 1, raw, None
    except (ValueError, binascii.Error, UnicodeError):
        pass
    return None, None, None


class XSRFMixin:
    """XSRF token and check for RequestHandler.

    Settings: ``xsrf_cookies`` (turns the check on), ``xsrf_cookie_name``
    (``"_xsrf"``), ``xsrf_cookie_kwargs`` (passed to ``set_cookie``: ``httponly``,
    ``samesite``, ``secure``...). A handler with ``no_xsrf = True`` is not checked.
    """

    settings: Any
    request: Any

    @property
    def xsrf_cookie_name(self) -> str:
        """The name of the XSRF cookie (the ``xsrf_cookie_name`` setting)."""
        return XSRF_COOKIE_NAME.of(self.settings)

    @property
    def xsrf_token(self) -> bytes:
        """The XSRF token for this response, masked afresh (sets the cookie if new)."""
        token = self.__dict__.get("_xsrf_token")
        if token is None:
            version, raw, timestamp = self._get_raw_xsrf_token()
            token = encode_xsrf_token(raw, timestamp or time.time())
            if version is None:
                kwargs = dict(XSRF_COOKIE_KWARGS.of(self.settings) or {})
                if "expires_days" not in kwargs and "max_age" not in kwargs:
                    kwargs["expires_days"] = 30 if self.current_user else None  # type: ignore[attr-defined]
                self.set_cookie(self.xsrf_cookie_name, token, **kwargs)  # type: ignore[attr-defined]
            self.__dict__["_xsrf_token"] = token
        return token

    def _get_raw_xsrf_token(self) -> tuple[int | None, bytes, float | None]:
        """``(version, token, timestamp)`` from the cookie; a new token when absent or bad."""
        raw = self.__dict__.get("_raw_xsrf_token")
        if raw is None:
            version, token, timestamp = decode_xsrf_token(
                self.get_cookie(self.xsrf_cookie_name)  # type: ignore[attr-defined]
            )
            if token is None:
                version, token, timestamp = None, os.urandom(_TOKEN_BYTES), time.time()
            raw = (version, token, timestamp)
            self.__dict__["_raw_xsrf_token"] = raw
        return raw

    def xsrf_form_html(self) -> str:
        """A hidden ``<input name="_xsrf">`` carrying the token, for every POST form."""
        value = escape.xhtml_escape(self.xsrf_token.decode("ascii"))
        return f'<input type="hidden" name="_xsrf" value="{value}"/>'

    def check_xsrf_cookie(self) -> None:
        """403 unless the request echoes the XSRF cookie's token; override to change."""
        method = self.request.method
        echoed = (
            self.get_argument("_xsrf", None)  # type: ignore[attr-defined]
            or self.request.headers.get("X-Xsrftoken")
            or self.request.headers.get("X-Csrftoken")
        )
        if not echoed:
            reason = f"'_xsrf' argument missing from {method}"
            raise HTTPError(403, reason, reason=reason)
        _, token, _ = decode_xsrf_token(echoed)
        if token is None:
            reason = f"'_xsrf' argument has invalid format in {method}"
            raise HTTPError(403, reason, reason=reason)
        _, expected, _ = decode_xsrf_token(
            self.get_cookie(self.xsrf_cookie_name)  # type: ignore[attr-defined]
        )
        if expected is None:
            reason = f"XSRF cookie missing from {method}"
            raise HTTPError(403, reason, reason=reason)
        if not hmac.compare_digest(token, expected):
            reason = f"XSRF cookie does not match {method} argument"
            raise HTTPError(403, reason, reason=reason)
