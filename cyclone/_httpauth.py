"""HTTP authentication: the Basic and Digest schemes and the ``requires`` decorator.

Strategy: a scheme only speaks the wire format. ``parse`` turns an
``Authorization`` header into credentials, ``challenge`` writes a
``WWW-Authenticate`` value, and schemes whose proof needs a shared secret
(Basic's password, Digest's response hash, an HMAC signature) also offer
``verify(credentials, request, secret, realm)``. That is the written contract
:class:`cyclone.contracts.AuthScheme` (``name``, ``parse``, ``challenge``) with
its optional members :class:`~cyclone.contracts.SecretVerifier` (``verify``) and
:class:`~cyclone.contracts.MultiChallenge` (``challenges``). Which schemes a
handler accepts, and how it finds users, is said once by :func:`requires`;
schemes are looked up by name in the ``cyclone.auth`` entry-point group when the
decorator is applied, so a third-party scheme is used exactly like the built-in
ones and a misspelled name fails at import time.

Digest (RFC 7616) nonces carry their issue time and an HMAC under a per-process
key: they expire after ``nonce_lifetime`` seconds (a correct answer to an
expired nonce gets ``stale=true``), and the highest ``nc`` seen for each nonce is
remembered, so a captured header cannot be replayed.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import inspect
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer

from cyclone import plugins
from cyclone._errors import HTTPAuthenticationRequired
from cyclone.contracts import AuthScheme, MultiChallenge, SecretVerifier

__all__ = [
    "BasicCredentials",
    "BasicScheme",
    "DigestCredentials",
    "DigestScheme",
    "StaleCredentials",
    "basic",
    "digest",
    "requires",
]


class StaleCredentials(Exception):
    """Raised by ``verify`` when the proof was right but its nonce is no longer valid.

    ``params`` are added to the scheme's new challenge (Digest: ``stale="true"``).
    """

    def __init__(self, **params: str) -> None:
        super().__init__(params)
        self.params = params


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _as_utf8_text(text: str) -> str:
    """Header text arrives as Latin-1; re-read it as the UTF-8 that clients send."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _split_scheme(header_value: str, name: str) -> str | None:
    scheme, _, rest = header_value.strip().partition(" ")
    if scheme.lower() != name.lower():
        return None
    return rest.strip()


# -- Basic (RFC 7617) -----------------------------------------------------------------


@dataclass(frozen=True)
class BasicCredentials:
    """A user name and password from a Basic ``Authorization`` header."""

    username: str
    password: str


class BasicScheme:
    """``Authorization: Basic base64(user:password)``, UTF-8 (RFC 7617).

    Only use it over TLS: the password crosses the wire in the clear.
    """

    name = "Basic"

    def parse(self, header_value: str) -> BasicCredentials | None:
        """The user name and password, or None for another scheme or bad base64."""
        encoded = _split_scheme(header_value, self.name)
        if not encoded:
            return None
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        username, sep, password = text.partition(":")
        if not sep:
            return None
        return BasicCredentials(username, password)

    def challenge(self, realm: str, **params: str) -> str:
        """``Basic realm="...", charset="UTF-8"``."""
        extra = "".join(f", {k}={_quote(v)}" for k, v in params.items())
        return f'Basic realm={_quote(realm)}, charset="UTF-8"{extra}'

    def verify(
        self, credentials: BasicCredentials, request: Any, secret: str | bytes, realm: str
    ) -> bool:
        """True when the password is ``secret`` (compared in constant time)."""
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        return hmac.compare_digest(credentials.password.encode("utf-8"), secret)


# -- Digest (RFC 7616) -------------------------------------------------------------------

_PARAM = re.compile(
    r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,"]*)\s*(?:,|$)'
)
_UNESCAPE = re.compile(r"\\(.)")

_HASHES: dict[str, Callable[..., Any]] = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def parse_auth_params(text: str) -> dict[str, str] | None:
    """``a=b, c="d"`` as a dict (names lower-cased); None when malformed or repeated."""
    params: dict[str, str] = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _PARAM.match(text, pos)
        if match is None or match.end() == pos:
            return None
        name, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = _UNESCAPE.sub(r"\1", value[1:-1])
        if name in params:
            return None
        params[name] = value
        pos = match.end()
    return params


@dataclass(frozen=True)
class DigestCredentials:
    """The fields of a Digest ``Authorization`` header."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str
    qop: str
    nc: str
    cnonce: str
    opaque: str


class DigestScheme:
    """HTTP Digest (RFC 7616) with ``qop=auth``, SHA-256 and MD5 (and their ``-sess``).

    ``secret`` keys the nonces (random per process by default: give every process
    the same one when several serve the same users); nonces live
    ``nonce_lifetime`` seconds.
    """

    name = "Digest"

    def __init__(
        self,
        algorithms: Sequence[str] = ("SHA-256", "MD5"),
        nonce_lifetime: float = 300.0,
        secret: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        for algorithm in algorithms:
            if algorithm not in _HASHES:
                raise ValueError(f"unsupported digest algorithm {algorithm!r}")
        self.algorithms = tuple(algorithms)
        self.nonce_lifetime = nonce_lifetime
        self._key = secret or os.urandom(32)
        self._clock = clock
        self.opaque = hmac.new(self._key, b"opaque", hashlib.sha256).hexdigest()[:32]
        self._last_nc: dict[str, int] = {}

    # nonces

    def new_nonce(self) -> str:
        """A fresh nonce: issue time, random bytes and an HMAC over both."""
        stamp = str(int(self._clock()))
        body = f"{stamp}.{os.urandom(12).hex()}"
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{body}.{mac}"

    def _nonce_state(self, nonce: str) -> str:
        """``"fresh"``, ``"expired"`` or ``"forged"``."""
        body, _, mac = nonce.rpartition(".")
        expected = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:32]
        stamp = body.partition(".")[0]
        if not body or not hmac.compare_digest(mac.encode(), expected.encode()):
            return "forged"
        if not stamp.isdigit():
            return "forged"
        age = self._clock() - int(stamp)
        return "fresh" if -5 <= age <= self.nonce_lifetime else "expired"

    def _count(self, nonce: str, nc: int) -> bool:
        """Remember ``nc`` for ``nonce``; False when it is not above the last one seen."""
        if nc <= self._last_nc.get(nonce, 0):
            return False
        if len(self._last_nc) > 10_000:
            self._forget_expired()
        self._last_nc[nonce] = nc
        return True

    def _forget_expired(self) -> None:
        for nonce in list(self._last_nc):
            if self._nonce_state(nonce) != "fresh":
                del self._last_nc[nonce]

    # the contract

    def parse(self, header_value: str) -> DigestCredentials | None:
        """The Digest fields, or None for another scheme or a malformed header."""
        rest = _split_scheme(header_value, self.name)
        if not rest:
            return None
        params = parse_auth_params(rest)
        if params is None:
            return None
        username = params.get("username")
        if username is None and "username*" in params:
            username = _rfc5987(params["username*"])
        elif username is not None:
            username = _as_utf8_text(username)
        try:
            return DigestCredentials(
                username=username,  # type: ignore[arg-type]
                realm=_as_utf8_text(params["realm"]),
                nonce=params["nonce"],
                uri=params["uri"],
                response=params["response"].lower(),
                algorithm=params.get("algorithm", "MD5"),
                qop=params["qop"],
                nc=params["nc"],
                cnonce=params["cnonce"],
                opaque=params.get("opaque", ""),
            )
        except KeyError:
            return None

    def challenges(self, realm: str, **params: str) -> list[str]:
        """One challenge per algorithm, strongest first, sharing a fresh nonce."""
        nonce = self.new_nonce()
        return [self._challenge(realm, algorithm, nonce, params) for algorithm in self.algorithms]

    def challenge(self, realm: str, **params: str) -> str:
        """The challenge for the strongest algorithm."""
        return self._challenge(realm, self.algorithms[0], self.new_nonce(), params)

    def _challenge(self, realm: str, algorithm: str, nonce: str, params: dict[str, str]) -> str:
        parts = [
            f"Digest realm={_quote(realm)}",
            'qop="auth"',
            f"algorithm={algorithm}",
            f"nonce={_quote(nonce)}",
            f"opaque={_quote(self.opaque)}",
            "charset=UTF-8",
        ]
        parts.extend(f"{k}={v}" if k == "stale" else f"{k}={_quote(v)}" for k, v in params.items())
        return ", ".join(parts)

    def verify(
        self, credentials: DigestCredentials, request: Any, secret: str | bytes, realm: str
    ) -> bool:
        """Check the response hash against ``secret`` (the password), the nonce and ``nc``.

        Raises :class:`StaleCredentials` when the hash is right but the nonce expired.
        """
        c = credentials
        base = c.algorithm[:-5] if c.algorithm.endswith("-sess") else c.algorithm
        if base not in self.algorithms or c.qop != "auth" or c.realm != realm:
            return False
        if not hmac.compare_digest(c.opaque.encode(), self.opaque.encode()):
            return False
        if not _same_resource(c.uri, request.uri):
            return False
        if len(c.nc) != 8 or not all(ch in "0123456789abcdefABCDEF" for ch in c.nc):
            return False
        state = self._nonce_state(c.nonce)
        if state == "forged":
            return False
        if isinstance(secret, bytes):
            secret = secret.decode("utf-8")
        h = _HASHES[base]

        def hexdigest(*parts: str) -> str:
            return h(":".join(parts).encode("utf-8")).hexdigest()

        ha1 = hexdigest(c.username, realm, secret)
        if c.algorithm.endswith("-sess"):
            ha1 = hexdigest(ha1, c.nonce, c.cnonce)
        ha2 = hexdigest(request.method, c.uri)
        expected = hexdigest(ha1, c.nonce, c.nc, c.cnonce, c.qop, ha2)
        if not hmac.compare_digest(expected.encode(), c.response.encode()):
            return False
        if state == "expired":
            raise StaleCredentials(stale="true")
        return self._count(c.nonce, int(c.nc, 16))


def _rfc5987(value: str) -> str | None:
    charset, _, rest = value.partition("'")
    _, _, encoded = rest.partition("'")
    if charset.lower() != "utf-8":
        return None
    try:
        return urllib.parse.unquote(encoded, errors="strict")
    except UnicodeDecodeError:
        return None


def _same_resource(digest_uri: str, request_uri: str) -> bool:
    if digest_uri == request_uri:
        return True
    # A client may send the absolute form; its path and query must still match.
    split = urllib.parse.urlsplit(digest_uri)
    if not split.scheme:
        return False
    path = split.path + ("?" + split.query if split.query else "")
    return path == request_uri


basic = BasicScheme()
"""The ``basic`` entry point of ``cyclone.auth``."""

digest = DigestScheme()
"""The ``digest`` entry point of ``cyclone.auth`` (nonces keyed per process)."""


# -- requires ---------------------------------------------------------------------------


async def _settle(value: Any) -> Any:
    if isinstance(value, defer.Deferred) or inspect.isawaitable(value):
        return await value
    return value


@dataclass(frozen=True)
class _Accepted:
    """One scheme of a ``requires``, resolved when the decorator is applied."""

    scheme: AuthScheme
    verify: Callable[..., Any] | None
    challenges: Callable[..., Sequence[str]] | None


def _resolve(scheme: str | AuthScheme) -> _Accepted:
    """Look ``scheme`` up in ``cyclone.auth`` (or check the object) against its contract."""
    if isinstance(scheme, str):
        found = plugins.load(plugins.AUTH, scheme)
    else:
        plugins.check_contract(plugins.AUTH, scheme)
        found = scheme
    return _Accepted(
        scheme=found,
        verify=found.verify if isinstance(found, SecretVerifier) else None,
        challenges=found.challenges if isinstance(found, MultiChallenge) else None,
    )


def _challenges(accepted: _Accepted, realm: str, **params: str) -> list[str]:
    if accepted.challenges is not None:
        return list(accepted.challenges(realm, **params))
    return [accepted.scheme.challenge(realm, **params)]


def requires(
    *schemes: str | AuthScheme,
    realm: str = "Restricted Access",
    get_password: Callable[..., Any] | None = None,
    check: Callable[..., Any] | None = None,
) -> Callable[[Any], Any]:
    """Protect a handler method (or every method of a handler class) with HTTP auth.

    ``schemes`` are names in the ``cyclone.auth`` group (``"basic"``, ``"digest"``,
    a third party's) or scheme objects; a request may use any of them, and a 401
    challenges with all of them. Credentials are checked with:

    - ``get_password(handler, username)``, or the handler's
      ``get_password(username)``, for schemes that have ``verify`` (Basic,
      Digest): it returns the user's password (None: no such user), the scheme
      compares, and the user is the user name;
    - otherwise ``check(handler, scheme_name, credentials)``, or the handler's
      ``check_credentials(scheme_name, credentials)``: it returns the user
      (truthy) or None.

    Each may be synchronous, return a Deferred or be ``async``. The user becomes
    ``self.current_user``. Decorating a class protects its ``prepare``.

    The schemes are resolved when the decorator is applied (usually when the
    module that defines the handler is imported): a name that no installed
    distribution registers raises :class:`cyclone.plugins.PluginNotFound`, and a
    scheme that breaks the :class:`cyclone.contracts.AuthScheme` contract
    :class:`cyclone.plugins.PluginContractError`, with the registry's message.
    """
    if not schemes:
        raise TypeError("requires() needs at least one scheme")
    resolved: list[_Accepted] = []

    def resolve(target: Any) -> list[_Accepted]:
        if not resolved:
            try:
                resolved.extend([_resolve(s) for s in schemes])
            except plugins.PluginError as e:
                where = getattr(target, "__qualname__", repr(target))
                e.add_note(f"while applying @requires({', '.join(map(repr, schemes))}) to {where}")
                raise
        return resolved

    async def authenticate(handler: Any, loaded: list[_Accepted]) -> None:
        header = handler.request.headers.get("Authorization")
        stale: dict[int, dict[str, str]] = {}
        if header:
            for index, accepted in enumerate(loaded):
                credentials = accepted.scheme.parse(header)
                if credentials is None:
                    continue
                try:
                    user = await _check(handler, accepted, credentials)
                except StaleCredentials as e:
                    stale[index] = e.params
                    user = None
                if user:
                    handler.current_user = user
                    return
                break
        challenges = []
        for index, accepted in enumerate(loaded):
            challenges.extend(_challenges(accepted, realm, **stale.get(index, {})))
        raise HTTPAuthenticationRequired(
            "missing or wrong credentials" if header else None,
            auth_type=loaded[0].scheme.name,
            realm=realm,
            challenges=challenges,
        )

    async def _check(handler: Any, accepted: _Accepted, credentials: Any) -> Any:
        scheme, verify = accepted.scheme, accepted.verify
        if get_password is not None:
            lookup: Callable[[str], Any] | None = functools.partial(get_password, handler)
        else:
            lookup = getattr(handler, "get_password", None)
        if verify is not None and lookup is not None:
            username = getattr(credentials, "username", None)
            if not username:
                return None
            secret = await _settle(lookup(username))
            if secret is None:
                return None
            return username if verify(credentials, handler.request, secret, realm) else None
        if check is not None:
            return await _settle(check(handler, scheme.name, credentials))
        own_check = getattr(handler, "check_credentials", None)
        if own_check is not None:
            return await _settle(own_check(scheme.name, credentials))
        raise TypeError(
            f"{type(handler).__name__} accepts {scheme.name} credentials but has neither "
            "check_credentials() (or check=) nor get_password() for a scheme with verify()"
        )

    def decorate(target: Any) -> Any:
        loaded = resolve(target)
        if isinstance(target, type):
            target.prepare = decorate(target.prepare)
            return target

        @functools.wraps(target)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            async def run() -> Any:
                await authenticate(self, loaded)
                return await _settle(target(self, *args, **kwargs))

            return defer.ensureDeferred(run())

        return wrapper

    return decorate
