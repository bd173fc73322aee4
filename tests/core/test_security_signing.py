"""Signed values and signed cookies: v2 by default, v1 still read, rotation, refusal."""

import base64
import hashlib
import hmac
import time

import pytest
from client import fetch

import cyclone.web
from cyclone.web import create_signed_value, decode_signed_value

SECRET = "a" * 43
NOW = 1_700_000_000.0


def clock():
    return NOW


def v1_value(secret, name, value, timestamp):
    """A value in the cyclone 1.x / Tornado v1 format, built by hand from its definition."""
    encoded = base64.b64encode(value)
    stamp = str(int(timestamp)).encode()
    mac = hmac.new(secret.encode(), name.encode() + encoded + stamp, hashlib.sha1)
    return b"|".join([encoded, stamp, mac.hexdigest().encode()])


def test_round_trip_in_v2():
    signed = create_signed_value(SECRET, "session", "hello wörld", clock=clock)
    assert signed.startswith(b"2|1:0|10:1700000000|7:session|")
    assert decode_signed_value(SECRET, "session", signed, clock=clock) == "hello wörld".encode()


def test_v2_is_bound_to_the_cookie_name_and_secret():
    signed = create_signed_value(SECRET, "session", "x", clock=clock)
    assert decode_signed_value(SECRET, "other", signed, clock=clock) is None
    assert decode_signed_value("b" * 43, "session", signed, clock=clock) is None


def test_v1_values_still_decode_unless_min_version_is_2():
    old = v1_value(SECRET, "session", b"alice", NOW - 3600)
    assert decode_signed_value(SECRET, "session", old, clock=clock) == b"alice"
    assert decode_signed_value(SECRET, "session", old, clock=clock, min_version=1) == b"alice"
    assert decode_signed_value(SECRET, "session", old, clock=clock, min_version=2) is None
    assert create_signed_value(SECRET, "session", b"alice", version=1, clock=clock) == v1_value(
        SECRET, "session", b"alice", NOW
    )


def test_expired_values_are_refused():
    signed = create_signed_value(SECRET, "s", "x", clock=clock)
    later = lambda: NOW + 32 * 86400  # noqa: E731
    assert decode_signed_value(SECRET, "s", signed, clock=later) is None
    assert decode_signed_value(SECRET, "s", signed, clock=later, max_age_days=40) == b"x"
    old = v1_value(SECRET, "s", b"x", NOW - 32 * 86400)
    assert decode_signed_value(SECRET, "s", old, clock=clock) is None


def test_values_from_the_far_future_are_refused():
    signed = create_signed_value(SECRET, "s", "x", clock=lambda: NOW + 365 * 86400)
    assert decode_signed_value(SECRET, "s", signed, clock=clock) is None


def _flip(value: bytes, index: int) -> bytes:
    return value[:index] + bytes([value[index] ^ 1]) + value[index + 1 :]


@pytest.mark.parametrize("version", [1, 2])
def test_every_tampered_or_truncated_value_is_none_and_never_raises(version):
    signed = create_signed_value(SECRET, "s", "some value", version=version, clock=clock)
    for i in range(len(signed)):
        assert decode_signed_value(SECRET, "s", _flip(signed, i), clock=clock) is None
        assert decode_signed_value(SECRET, "s", signed[:i], clock=clock) is None
    hostile = [
        "",
        None,
        "|",
        "2|",
        "2|1:0|",
        "2|999999999999:0|",
        "2|1:x|10:1700000000|1:s|4:eA==|" + "0" * 64,
        "2|1:0|10:0700000000|1:s|4:eA==|" + "0" * 64,
        "ü|é|ø",
        "2|-1:0|",
        "x" * 100_000,
    ]
    for value in hostile:
        assert decode_signed_value(SECRET, "s", value, clock=clock) is None


def test_key_rotation_with_a_dict_of_secrets():
    secrets = {0: "old" * 15, 1: "new" * 15}
    signed = create_signed_value(secrets, "s", "v", key_version=1, clock=clock)
    assert signed.startswith(b"2|1:1|")
    assert decode_signed_value(secrets, "s", signed, clock=clock) == b"v"
    old = create_signed_value(secrets, "s", "v", key_version=0, clock=clock)
    assert decode_signed_value(secrets, "s", old, clock=clock) == b"v"
    assert decode_signed_value({1: "new" * 15}, "s", old, clock=clock) is None
    # A key version forged into a value signed by another key does not verify.
    forged = old.replace(b"2|1:0|", b"2|1:1|", 1)
    assert decode_signed_value(secrets, "s", forged, clock=clock) is None
    with pytest.raises(ValueError, match="key_version"):
        create_signed_value(secrets, "s", "v")


class SessionHandler(cyclone.web.RequestHandler):
    def get(self):
        value = self.get_signed_cookie("session")
        self.write({"session": value.decode() if value else None, "kv": self.kv()})

    def kv(self):
        return self.get_signed_cookie_key_version("session")

    def post(self):
        self.set_signed_cookie("session", self.get_argument("user"), httponly=True)

    def put(self):
        # The cyclone 1.x names.
        self.set_secure_cookie("session", self.get_argument("user"))
        self.write({"read_back": self.get_secure_cookie("session", value=None)})


def serve_app(serve, **settings):
    app = cyclone.web.Application([(r"/", SessionHandler)], **settings)
    return serve(app)


def _cookie(response):
    [header] = [v for k, v in response.raw_headers if k.lower() == "set-cookie"]
    return header.split(";")[0]


def test_signed_cookie_round_trip_over_http(serve):
    port = serve_app(serve, cookie_secret=SECRET)
    response = fetch(
        port, "/", "POST", {"Content-Type": "application/x-www-form-urlencoded"}, b"user=alice"
    )
    header = next(v for k, v in response.raw_headers if k.lower() == "set-cookie")
    assert "HttpOnly" in header and "Expires=" in header
    cookie = _cookie(response)
    assert cookie.startswith("session=2|1:0|")
    body = fetch(port, "/", headers={"Cookie": cookie}).body
    assert body == b'{"session":"alice","kv":0}'
    name, _, value = cookie.partition("=")
    tampered = f"{name}={value[:-1]}{'0' if value[-1] != '0' else '1'}"
    assert fetch(port, "/", headers={"Cookie": tampered}).body == b'{"session":null,"kv":0}'


def test_a_cyclone_1x_session_survives_the_upgrade(serve):
    port = serve_app(serve, cookie_secret=SECRET)
    old = v1_value(SECRET, "session", b"bob", time.time() - 60).decode()
    body = fetch(port, "/", headers={"Cookie": f"session={old}"}).body
    assert body == b'{"session":"bob","kv":null}'
    strict = serve_app(serve, cookie_secret=SECRET, signed_value_min_version=2)
    body = fetch(strict, "/", headers={"Cookie": f"session={old}"}).body
    assert body == b'{"session":null,"kv":null}'


def test_rotation_setting_signs_with_key_version_and_reads_older_keys(serve):
    old_port = serve_app(serve, cookie_secret={0: "k0" * 20}, key_version=0)
    cookie = _cookie(
        fetch(
            old_port,
            "/",
            "POST",
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"user=carol",
        )
    )
    port = serve_app(serve, cookie_secret={0: "k0" * 20, 1: "k1" * 20}, key_version=1)
    assert fetch(port, "/", headers={"Cookie": cookie}).body == b'{"session":"carol","kv":0}'
    fresh = _cookie(
        fetch(port, "/", "POST", {"Content-Type": "application/x-www-form-urlencoded"}, b"user=dan")
    )
    assert fresh.startswith("session=2|1:1|")
    assert fetch(port, "/", headers={"Cookie": fresh}).body == b'{"session":"dan","kv":1}'


def test_the_secure_cookie_names_of_cyclone_1x(serve):
    port = serve_app(serve, cookie_secret=SECRET)
    response = fetch(port, "/?user=eve", "PUT", body=b"")
    assert response.body == b'{"read_back":null}'  # the request had no cookie yet
    cookie = _cookie(response)
    assert fetch(port, "/", headers={"Cookie": cookie}).body == b'{"session":"eve","kv":0}'


def test_signed_cookies_without_a_secret_fail_clearly(serve):
    port = serve_app(serve)
    response = fetch(port, "/")
    assert response.status == 500
