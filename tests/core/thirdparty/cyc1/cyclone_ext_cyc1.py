"""A third-party ``cyclone.auth`` scheme: S3-style HMAC request signatures.

``Authorization: CYC1 <access key>:<base64(HMAC-SHA256(secret, method\\ndate\\npath))>``,
where ``date`` is the request's ``Date`` header, which must be within 5 minutes.
It uses only the public contract: ``name``, ``parse``, ``challenge`` and ``verify``.
"""

import base64
import email.utils
import hashlib
import hmac
import time
from dataclasses import dataclass

MAX_SKEW = 300


@dataclass(frozen=True)
class SignedRequest:
    username: str  # the access key: cyclone looks the secret up by this name
    signature: str


class CYC1Scheme:
    name = "CYC1"

    def parse(self, header_value):
        scheme, _, rest = header_value.strip().partition(" ")
        if scheme != "CYC1":
            return None
        access_key, sep, signature = rest.strip().partition(":")
        if not sep or not access_key or not signature:
            return None
        return SignedRequest(access_key, signature)

    def challenge(self, realm, **params):
        return f'CYC1 realm="{realm}"'

    def verify(self, credentials, request, secret, realm):
        date = request.headers.get("Date", "")
        try:
            sent = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return False
        if abs(time.time() - sent) > MAX_SKEW:
            return False
        return hmac.compare_digest(
            credentials.signature, sign(secret, request.method, date, request.path)
        )


def sign(secret, method, date, path):
    message = f"{method}\n{date}\n{path}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


cyc1 = CYC1Scheme()
