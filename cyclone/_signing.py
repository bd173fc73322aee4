"""Signed values: tamper-evident, timestamped strings for cookies and tokens.

Strategy: two wire formats, both read, only the newer one written.

- **v2** (written by default): ``2|1:<key version>|10:<timestamp>|<len>:<name>|<len>:<b64 value>|``
  followed by the hex HMAC-SHA256 of everything before it. Every field carries its
  length, so no field can bleed into its neighbour, and the key version lets
  ``cookie_secret`` be a dict ``{version: secret}`` for key rotation.
- **v1** (cyclone 1.x and Tornado's first format, read only when ``min_version``
  allows it): ``<b64 value>|<timestamp>|<hex HMAC-SHA1 of name + value + timestamp>``.
  It exists so sessions signed before an upgrade survive it.

Decoding never raises on hostile input: anything malformed, tampered, expired,
from the future or signed with an unknown key is ``None``. Signatures are
compared with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

from cyclone.settings import COOKIE_SECRET, KEY_VERSION, SIGNED_VALUE_MIN_VERSION

__all__ = [
    "DEFAULT_SIGNED_VALUE_MIN_VERSION",
    "DEFAULT_SIGNED_VALUE_VERSION",
    "SignedCookiesMixin",
    "create_signed_value",
    "decode_signed_value",
    "get_signature_key_version",
]

DEFAULT_SIGNED_VALUE_VERSION = 2
DEFAULT_SIGNED_VALUE_MIN_VERSION = 1

Secret = str | bytes | Mapping[int, str | bytes]

# A value whose timestamp lies further ahead than this is refused (clock skew allowance).
_FUTURE_SLACK = 31 * 86400


def _utf8(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _pick_secret(secret: Secret, key_version: int | None) -> bytes:
    if isinstance(secret, Mapping):
        if key_version is None:
            raise ValueError("cookie_secret is a dict of key versions: give key_version")
        return _utf8(secret[key_version])
    if key_version is not None:
        raise ValueError("key_version needs cookie_secret to be a dict of key versions")
    return _utf8(secret)


def create_signed_value(
    secret: Secret,
    name: str,
    value: str | bytes,
    version: int | None = None,
    clock: Callable[[], float] | None = None,
    key_version: int | None = None,
) -> bytes:
    """Sign and timestamp ``value`` under ``name``; returns the signed value (ASCII bytes).

    ``secret`` is one key, or a dict ``{key_version: key}`` together with the
    ``key_version`` to sign with. ``version`` 2 is the default; 1 writes the
    cyclone 1.x format (HMAC-SHA1, no key versions).
    """
    version = version or DEFAULT_SIGNED_VALUE_VERSION
    timestamp = str(int((clock or time.time)())).encode()
    encoded = base64.b64encode(_utf8(value))
    if version == 1:
        if isinstance(secret, Mapping):
            raise ValueError("signed value version 1 does not support key versions")
        signature = _signature_v1(_utf8(secret), _utf8(name), encoded, timestamp)
        return b"|".join([encoded, timestamp, signature])
    if version != 2:
        raise ValueError(f"unsupported signed value version {version!r}")
    key = _pick_secret(secret, key_version)
    body = b"2|" + b"".join(
        _field(part) for part in (str(key_version or 0).encode(), timestamp, _utf8(name), encoded)
    )
    return body + _signature_v2(key, body)


def _field(part: bytes) -> bytes:
    return b"%d:%s|" % (len(part), part)


def _signature_v1(secret: bytes, *parts: bytes) -> bytes:
    mac = hmac.new(secret, digestmod=hashlib.sha1)
    for part in parts:
        mac.update(part)
    return mac.hexdigest().encode()


def _signature_v2(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, body, hashlib.sha256).hexdigest().encode()


def _version_of(value: bytes) -> int:
    # v1 starts with base64 text and a "|" far later; v2 starts with "2|".
    # A v1 value is never "<digits>|" at its start: its first field is base64 of
    # at least 4 characters or empty, so a leading short number means a version.
    head, sep, _ = value.partition(b"|")
    if sep and head.isdigit() and len(head) <= 2:
        return int(head)
    return 1


def decode_signed_value(
    secret: Secret,
    name: str,
    value: str | bytes | None,
    max_age_days: float = 31,
    clock: Callable[[], float] | None = None,
    min_version: int | None = None,
) -> bytes | None:
    """The original value if ``value`` is a valid signed value for ``name``, else None.

    Refuses (returns None) values older than ``max_age_days``, tampered, truncated
    or malformed ones, and v1 values when ``min_version`` is 2.
    """
    if not value:
        return None
    try:
        raw = _utf8(value)
        min_version = min_version or DEFAULT_SIGNED_VALUE_MIN_VERSION
        version = _version_of(raw)
        if version < min_version:
            return None
        now = (clock or time.time)()
        if version == 1:
            if isinstance(secret, Mapping):
                return None
            return _decode_v1(_utf8(secret), _utf8(name), raw, max_age_days, now)
        if version == 2:
            return _decode_v2(secret, _utf8(name), raw, max_age_days, now)
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError):
        return None
    return None


def _fresh(timestamp: bytes, max_age_days: float, now: float) -> bool:
    # Digits only, without a leading zero: no sign, spaces or padding can hide in it.
    if not timestamp.isdigit() or timestamp.startswith(b"0"):
        return False
    stamp = int(timestamp)
    return now - max_age_days * 86400 <= stamp <= now + _FUTURE_SLACK


def _decode_v1(
    secret: bytes, name: bytes, raw: bytes, max_age_days: float, now: float
) -> bytes | None:
    parts = raw.split(b"|")
    if len(parts) != 3:
        return None
    encoded, timestamp, signature = parts
    expected = _signature_v1(secret, name, encoded, timestamp)
    if not hmac.compare_digest(signature, expected):
        return None
    if not _fresh(timestamp, max_age_days, now):
        return None
    return base64.b64decode(encoded, validate=True)


def _read_field(raw: bytes, pos: int) -> tuple[bytes, int]:
    colon = raw.index(b":", pos)
    length_text = raw[pos:colon]
    if not length_text.isdigit() or len(length_text) > 9:
        raise ValueError("malformed field length")
    end = colon + 1 + int(length_text)
    if raw[end : end + 1] != b"|":
        raise ValueError("malformed field")
    return raw[colon + 1 : end], end + 1


def _decode_v2(
    secret: Secret, name: bytes, raw: bytes, max_age_days: float, now: float
) -> bytes | None:
    key_version, pos = _read_field(raw, 2)
    timestamp, pos = _read_field(raw, pos)
    signed_name, pos = _read_field(raw, pos)
    encoded, pos = _read_field(raw, pos)
    body, signature = raw[:pos], raw[pos:]
    if not key_version.isdigit():
        return None
    if isinstance(secret, Mapping):
        key = secret.get(int(key_version))
        if key is None:
            return None
    elif int(key_version) != 0:
        return None
    else:
        key = secret
    if not hmac.compare_digest(signature, _signature_v2(_utf8(key), body)):
        return None
    if not hmac.compare_digest(signed_name, name):
        return None
    if not _fresh(timestamp, max_age_days, now):
        return None
    return base64.b64decode(encoded, validate=True)


def get_signature_key_version(value: str | bytes | None) -> int | None:
    """The key version a v2 signed value names (unverified), or None."""
    if not value:
        return None
    try:
        raw = _utf8(value)
        if _version_of(raw) != 2:
            return None
        key_version, _ = _read_field(raw, 2)
        return int(key_version) if key_version.isdigit() else None
    except (ValueError, UnicodeError):
        return None


class SignedCookiesMixin:
    """Signed cookies for RequestHandler, keyed by the ``cookie_secret`` setting.

    Settings: ``cookie_secret`` (a key, or ``{version: key}`` for rotation),
    ``key_version`` (the version that signs new cookies) and
    ``signed_value_min_version`` (1 by default: cyclone 1.x cookies still read).
    """

    settings: Any

    def _cookie_secret(self) -> Secret:
        secret = COOKIE_SECRET.of(self.settings)
        if not secret:
            raise Exception(
                "You must define the 'cookie_secret' setting in your application "
                "to use signed cookies"
            )
        return secret

    def create_signed_value(
        self, name: str, value: str | bytes, version: int | None = None
    ) -> bytes:
        """Sign ``value`` under ``name`` with the application's current key."""
        secret = self._cookie_secret()
        key_version = KEY_VERSION.of(self.settings) if isinstance(secret, Mapping) else None
        return create_signed_value(secret, name, value, version=version, key_version=key_version)

    def set_signed_cookie(
        self,
        name: str,
        value: str | bytes,
        expires_days: float | None = 30,
        version: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Set a cookie whose value is signed and timestamped (read it with
        :meth:`get_signed_cookie`); ``kwargs`` go to ``set_cookie``."""
        signed = self.create_signed_value(name, value, version=version)
        self.set_cookie(name, signed, expires_days=expires_days, **kwargs)  # type: ignore[attr-defined]

    def get_signed_cookie(
        self,
        name: str,
        value: str | None = None,
        max_age_days: float = 31,
        min_version: int | None = None,
    ) -> bytes | None:
        """The verified value of signed cookie ``name`` (bytes), or None."""
        if value is None:
            value = self.get_cookie(name)  # type: ignore[attr-defined]
        if min_version is None:
            min_version = SIGNED_VALUE_MIN_VERSION.of(self.settings)
        return decode_signed_value(
            self._cookie_secret(), name, value, max_age_days=max_age_days, min_version=min_version
        )

    def get_signed_cookie_key_version(self, name: str, value: str | None = None) -> int | None:
        """The key version cookie ``name`` was signed with (not verified), or None."""
        if value is None:
            value = self.get_cookie(name)  # type: ignore[attr-defined]
        return get_signature_key_version(value)

    # cyclone 1.x and Tornado < 6.3 names.
    set_secure_cookie = set_signed_cookie
    get_secure_cookie = get_signed_cookie
    get_secure_cookie_key_version = get_signed_cookie_key_version
