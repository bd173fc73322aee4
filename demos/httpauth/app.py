"""httpauth: HTTP Basic, Digest and an S3-style signed-request scheme on one site.

    uv run python demos/httpauth/app.py

then, with user ``admin`` and password ``secret``::

    curl -u admin:secret http://127.0.0.1:8888/basic
    curl --digest -u admin:secret http://127.0.0.1:8888/digest
    python demos/httpauth/app.py sign GET /s3   # prints a curl command with an S3 signature

``/any`` accepts all three: its 401 carries one ``WWW-Authenticate`` challenge per
scheme. The S3-style scheme (:class:`S3Scheme`) is written here, in the demo, and
used by ``@cyclone.auth.requires`` exactly as the built-in ones are; a package
would also register it in the ``cyclone.auth`` entry-point group.
"""

from __future__ import annotations

import base64
import email.utils
import hmac
import shlex
import sys
import time
from dataclasses import dataclass
from typing import Any

import cyclone.auth
import cyclone.web
from demos.look import STATIC_PATH, page

USERS = {"admin": "secret"}  # Basic and Digest: user name -> password
KEYS = {"AKDEMO": "s3cr3t-signing-key"}  # S3-style: access key -> secret key
MAX_SKEW = 15 * 60  # seconds a signed request's Date may differ from the server's clock


@dataclass(frozen=True)
class S3Credentials:
    username: str  # the access key
    signature: str


def string_to_sign(method: str, path: str, date: str, content_type: str = "") -> bytes:
    """What the client signs: the verb, the content type, the ``Date`` header and the path."""
    return f"{method}\n{content_type}\n{date}\n{path}".encode()


def sign(secret: str, method: str, path: str, date: str, content_type: str = "") -> str:
    """The base64 HMAC-SHA256 of :func:`string_to_sign` under ``secret``."""
    message = string_to_sign(method, path, date, content_type)
    digest = hmac.digest(secret.encode(), message, "sha256")
    return base64.b64encode(digest).decode()


class S3Scheme:
    """``Authorization: S3 <access key>:<signature>``, with a ``Date`` header.

    The server looks the secret key up by access key (``get_password``), signs
    the same string and compares; a ``Date`` more than 15 minutes away is refused,
    so a captured header stops working.
    """

    name = "S3"

    def parse(self, header_value: str) -> S3Credentials | None:
        scheme, _, rest = header_value.partition(" ")
        key, sep, signature = rest.strip().partition(":")
        if scheme != self.name or not sep or not key or not signature:
            return None
        return S3Credentials(key, signature)

    def challenge(self, realm: str, **params: str) -> str:
        return f'S3 realm="{realm}"'

    def verify(self, credentials: S3Credentials, request: Any, secret: str, realm: str) -> bool:
        date = request.headers.get("Date", "")
        try:
            when = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return False
        if abs(time.time() - when) > MAX_SKEW:
            return False
        expected = sign(
            secret, request.method, request.path, date, request.headers.get("Content-Type", "")
        )
        return hmac.compare_digest(credentials.signature.encode(), expected.encode())


s3 = S3Scheme()


def user_password(handler: Any, username: str) -> str | None:
    return USERS.get(username)


def secret_key(handler: Any, access_key: str) -> str | None:
    return KEYS.get(access_key)


class IndexHandler(cyclone.web.RequestHandler):
    def get(self) -> None:
        self.write(
            page(
                "HTTP authentication",
                "<p>User <code>admin</code>, password <code>secret</code>.</p><ul>"
                '<li><a href="/basic">Basic</a></li><li><a href="/digest">Digest</a></li>'
                '<li><a href="/s3">S3-style signature</a> (not for browsers: see the README)</li>'
                '<li><a href="/any">any of them</a></li></ul>',
            )
        )


class Protected(cyclone.web.RequestHandler):
    def answer(self, scheme: str) -> None:
        self.write({"user": self.current_user, "scheme": scheme})


class BasicHandler(Protected):
    @cyclone.auth.requires("basic", realm="demo", get_password=user_password)
    def get(self) -> None:
        self.answer("Basic")


class DigestHandler(Protected):
    @cyclone.auth.requires("digest", realm="demo", get_password=user_password)
    def get(self) -> None:
        self.answer("Digest")


class S3Handler(Protected):
    @cyclone.auth.requires(s3, realm="demo", get_password=secret_key)
    def get(self) -> None:
        self.answer("S3")


class AnyHandler(Protected):
    @cyclone.auth.requires("digest", "basic", s3, realm="demo")
    def get(self) -> None:
        self.answer(self.request.headers["Authorization"].split(" ", 1)[0])

    def get_password(self, username: str) -> str | None:
        # One lookup for every scheme: users for Basic and Digest, access keys for S3.
        return USERS.get(username) or KEYS.get(username)


def Application() -> cyclone.web.Application:
    """``/basic``, ``/digest``, ``/s3`` and ``/any`` behind their schemes."""
    return cyclone.web.Application(
        [
            (r"/", IndexHandler),
            (r"/basic", BasicHandler),
            (r"/digest", DigestHandler),
            (r"/s3", S3Handler),
            (r"/any", AnyHandler),
        ],
        static_path=STATIC_PATH,
    )


def signed_curl(method: str, path: str, base: str = "http://127.0.0.1:8888") -> str:
    """A curl command line for ``method path`` signed with the demo's access key."""
    date = email.utils.formatdate(usegmt=True)
    key, secret = next(iter(KEYS.items()))
    signature = sign(secret, method, path, date)
    return shlex.join(
        ["curl", "-X", method, "-H", f"Date: {date}", "-H",
         f"Authorization: S3 {key}:{signature}", base + path]
    )  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["sign"]:
        method, path, base = [*sys.argv[2:5], "GET", "/s3", "http://127.0.0.1:8888"][:3]
        print(signed_curl(method, path, base))
    else:
        from twisted.internet import reactor

        reactor.listenTCP(8888, Application(), interface="127.0.0.1")
        print("http://127.0.0.1:8888/")
        reactor.run()
