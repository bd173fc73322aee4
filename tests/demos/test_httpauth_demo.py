"""The httpauth demo with curl (Basic, Digest) and a hand-made S3-style signature."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import json
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from demos.httpauth.app import Application


@pytest.fixture
def base(serve) -> str:
    return f"http://127.0.0.1:{serve(Application())}"


def curl(*args: str) -> tuple[int, str]:
    out = subprocess.run(
        ["curl", "-s", "--max-time", "10", "-w", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    body, _, code = out.rpartition("\n")
    return int(code), body


def s3_get(url: str, path: str, key: str, secret: str, date: str | None = None):
    date = date or email.utils.formatdate(usegmt=True)
    signed = f"GET\n\n{date}\n{path}".encode()
    signature = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest())
    request = urllib.request.Request(
        url + path, headers={"Date": date, "Authorization": f"S3 {key}:{signature.decode()}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers


def test_basic_and_digest_with_curl(base):
    assert "/static/demo.css" in curl(base + "/")[1]
    code, body = curl("-u", "admin:secret", base + "/basic")
    assert code == 200 and json.loads(body) == {"user": "admin", "scheme": "Basic"}
    code, body = curl("--digest", "-u", "admin:secret", base + "/digest")
    assert code == 200 and json.loads(body) == {"user": "admin", "scheme": "Digest"}
    assert curl("-u", "admin:wrong", base + "/basic")[0] == 401
    assert curl("--digest", "-u", "admin:wrong", base + "/digest")[0] == 401
    assert curl("-u", "admin:secret", base + "/digest")[0] == 401  # Basic is not accepted there
    for scheme in ("--basic", "--digest"):
        code, body = curl(scheme, "-u", "admin:secret", base + "/any")
        assert code == 200 and json.loads(body)["user"] == "admin"


def test_one_challenge_per_scheme(base):
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(base + "/any", timeout=10)
    challenges = info.value.headers.get_all("WWW-Authenticate")
    schemes = [c.split(" ", 1)[0] for c in challenges]
    assert schemes == ["Digest", "Digest", "Basic", "S3"], challenges
    assert "algorithm=SHA-256" in challenges[0] and 'realm="demo"' in challenges[3]


def test_s3_style_signatures(base):
    key, secret = "AKDEMO", "s3cr3t-signing-key"
    assert s3_get(base, "/s3", key, secret) == (200, {"user": key, "scheme": "S3"})
    assert s3_get(base, "/any", key, secret) == (200, {"user": key, "scheme": "S3"})
    assert s3_get(base, "/s3", key, "not the key")[0] == 401
    assert s3_get(base, "/s3", "AKNOBODY", secret)[0] == 401
    an_hour_ago = email.utils.formatdate(time.time() - 3600, usegmt=True)
    code, headers = s3_get(base, "/s3", key, secret, date=an_hour_ago)
    assert code == 401 and headers["WWW-Authenticate"] == 'S3 realm="demo"'


def test_the_sign_command_prints_a_working_curl(base):
    printed = subprocess.run(
        [sys.executable, "demos/httpauth/app.py", "sign", "GET", "/s3", base],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    command = shlex.split(printed)
    assert command[0] == "curl"
    code, body = curl(*command[1:])
    assert code == 200 and json.loads(body)["scheme"] == "S3"
