"""HTTP authentication with real clients: curl and requests, Basic and Digest, a plugin scheme."""

import email.utils
import hashlib
import json
import subprocess

import pytest
import requests
from client import TIMEOUT, fetch
from requests.auth import HTTPBasicAuth, HTTPDigestAuth
from thirdparty.install import installed
from twisted.internet import reactor, task

import cyclone.auth
import cyclone.web
from cyclone import plugins
from cyclone.auth import DigestScheme, HTTPAuthenticationRequired, requires

USERS = {"alice": "wonderland", "jürgen": "pässwort"}


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now


CLOCK = Clock()
MD5_ONLY = DigestScheme(algorithms=("MD5",))
SHA256_ONLY = DigestScheme(algorithms=("SHA-256",))
CLOCKED = DigestScheme(nonce_lifetime=60, clock=CLOCK)


class Whoami(cyclone.web.RequestHandler):
    def get_password(self, username):
        return USERS.get(username)

    @requires("basic", "digest", realm="api")
    def get(self):
        self.write({"user": self.current_user})


class Md5Handler(Whoami):
    @requires(MD5_ONLY, realm="api")
    def get(self):
        self.write({"user": self.current_user})


class Sha256Handler(Whoami):
    @requires(SHA256_ONLY, realm="api")
    def get(self):
        self.write({"user": self.current_user})


class ClockedHandler(Whoami):
    @requires(CLOCKED, realm="api")
    def get(self):
        self.write({"user": self.current_user})


class AsyncLookupHandler(cyclone.web.RequestHandler):
    """The password comes from an asynchronous store (as ``self.settings.db`` would)."""

    async def get_password(self, username):
        return await task.deferLater(reactor, 0.01, USERS.get, username)

    @requires("digest", "basic", realm="api")
    async def get(self):
        await task.deferLater(reactor, 0.01, lambda: None)
        self.write({"user": self.current_user})


def check_hashed(handler, scheme, credentials):
    # A store of password hashes: Basic is checked by the application itself.
    stored = {"alice": hashlib.sha256(b"wonderland").hexdigest()}
    given = hashlib.sha256(credentials.password.encode()).hexdigest()
    if stored.get(credentials.username) == given:
        return task.deferLater(reactor, 0.01, lambda: {"name": credentials.username})
    return None


class CheckHandler(cyclone.web.RequestHandler):
    @requires("basic", realm="hashed", check=check_hashed)
    def get(self):
        self.write({"user": self.current_user["name"]})


@requires("basic", realm="whole class")
class ClassWideHandler(cyclone.web.RequestHandler):
    def check_credentials(self, scheme, credentials):
        return credentials.username if credentials.password == "letmein" else None

    def get(self):
        self.write({"user": self.current_user, "method": "GET"})

    def post(self):
        self.write({"user": self.current_user, "method": "POST"})


class NoLookupHandler(cyclone.web.RequestHandler):
    @requires("basic")
    def get(self):
        self.write("unreachable")


class LegacyHandler(cyclone.web.RequestHandler):
    def get(self):
        raise HTTPAuthenticationRequired("no", auth_type="Basic", realm='old "realm"')


@pytest.fixture(scope="module")
def app():
    return cyclone.web.Application(
        [
            (r"/whoami", Whoami),
            (r"/md5", Md5Handler),
            (r"/sha256", Sha256Handler),
            (r"/clocked", ClockedHandler),
            (r"/async", AsyncLookupHandler),
            (r"/check", CheckHandler),
            (r"/classwide", ClassWideHandler),
            (r"/nolookup", NoLookupHandler),
            (r"/legacy", LegacyHandler),
        ]
    )


@pytest.fixture
def port(serve, app):
    return serve(app)


def challenges(response):
    return [v for k, v in response.raw_headers if k.lower() == "www-authenticate"]


def run_curl(*args):
    out = subprocess.run(
        ["curl", "-sS", "--max-time", str(TIMEOUT), "-w", "\n%{http_code}", *args],
        capture_output=True,
        timeout=TIMEOUT + 5,
        check=True,
    ).stdout.decode()
    body, _, code = out.rpartition("\n")
    return int(code), body


def test_no_credentials_get_every_challenge(port):
    response = fetch(port, "/whoami")
    assert response.status == 401
    basic, sha256, md5 = challenges(response)
    assert basic == 'Basic realm="api", charset="UTF-8"'
    for challenge, algorithm in ((sha256, "SHA-256"), (md5, "MD5")):
        assert challenge.startswith('Digest realm="api", qop="auth", algorithm=' + algorithm)
        assert "charset=UTF-8" in challenge and 'nonce="' in challenge and 'opaque="' in challenge
    params = [cyclone.auth.parse_auth_params(c[len("Digest ") :]) for c in (sha256, md5)]
    assert params[0]["nonce"] == params[1]["nonce"]


@pytest.mark.parametrize("path", ["/whoami", "/async"])
@pytest.mark.parametrize("mode", ["--basic", "--digest"])
def test_curl(port, path, mode):
    url = f"http://127.0.0.1:{port}{path}"
    assert run_curl(mode, "-u", "alice:wonderland", url) == (200, '{"user":"alice"}')
    assert run_curl(mode, "-u", "alice:wrong", url)[0] == 401
    assert run_curl(mode, "-u", "nobody:wonderland", url)[0] == 401


@pytest.mark.parametrize("path", ["/md5", "/sha256"])
def test_curl_digest_with_each_algorithm(port, path):
    url = f"http://127.0.0.1:{port}{path}?a=1&b=2"
    assert run_curl("--digest", "-u", "alice:wonderland", url) == (200, '{"user":"alice"}')
    assert run_curl("--digest", "-u", "alice:nope", url)[0] == 401


@pytest.mark.parametrize("mode", ["--basic", "--digest"])
def test_curl_with_a_non_ascii_user_in_utf8(port, mode):
    url = f"http://127.0.0.1:{port}/whoami"
    code, body = run_curl(mode, "-u", "jürgen:pässwort", url)
    assert (code, json.loads(body)) == (200, {"user": "jürgen"})
    assert run_curl(mode, "-u", "jürgen:passwort", url)[0] == 401


@pytest.mark.parametrize("path", ["/whoami", "/md5", "/sha256", "/async"])
def test_requests_digest_and_basic(port, path):
    url = f"http://127.0.0.1:{port}{path}"
    with requests.Session() as session:
        response = session.get(url, auth=HTTPDigestAuth("alice", "wonderland"), timeout=TIMEOUT)
        assert (response.status_code, response.json()) == (200, {"user": "alice"})
        assert session.get(url, timeout=TIMEOUT).status_code == 401
        wrong = session.get(url, auth=HTTPDigestAuth("alice", "nope"), timeout=TIMEOUT)
        assert wrong.status_code == 401
    if path != "/md5" and path != "/sha256":
        ok = requests.get(url, auth=HTTPBasicAuth("alice", "wonderland"), timeout=TIMEOUT)
        assert ok.json() == {"user": "alice"}
        assert (
            requests.get(url, auth=HTTPBasicAuth("alice", "x"), timeout=TIMEOUT).status_code == 401
        )


def test_a_digest_auth_object_keeps_counting_on_one_nonce(port):
    url = f"http://127.0.0.1:{port}/whoami"
    auth = HTTPDigestAuth("alice", "wonderland")
    for _ in range(4):
        response = requests.get(url, auth=auth, timeout=TIMEOUT)
        assert response.status_code == 200
    assert "nc=00000004" in response.request.headers["Authorization"]


def test_a_replayed_digest_header_is_refused(port):
    url = f"http://127.0.0.1:{port}/whoami"
    response = requests.get(url, auth=HTTPDigestAuth("alice", "wonderland"), timeout=TIMEOUT)
    assert response.status_code == 200
    header = response.request.headers["Authorization"]
    replay = fetch(port, "/whoami", headers={"Authorization": header})
    assert replay.status == 401
    assert all("stale" not in c for c in challenges(replay))


def digest_authorization(challenge, user, password, uri, method="GET", nc=1, cnonce="0a4f113b"):
    params = cyclone.auth.parse_auth_params(challenge[len("Digest ") :])
    h = hashlib.sha256 if params["algorithm"] == "SHA-256" else hashlib.md5

    def hexdigest(*parts):
        return h(":".join(parts).encode()).hexdigest()

    ha1 = hexdigest(user, params["realm"], password)
    ha2 = hexdigest(method, uri)
    nc_text = f"{nc:08x}"
    response = hexdigest(ha1, params["nonce"], nc_text, cnonce, "auth", ha2)
    return (
        f'Digest username="{user}", realm="{params["realm"]}", nonce="{params["nonce"]}", '
        f'uri="{uri}", algorithm={params["algorithm"]}, qop=auth, nc={nc_text}, '
        f'cnonce="{cnonce}", response="{response}", opaque="{params["opaque"]}"'
    )


def test_nonces_expire_with_stale_true_and_counts_must_grow(port):
    CLOCK.now = 1_700_000_000.0
    [challenge, _] = challenges(fetch(port, "/clocked"))

    def attempt(nc, password="wonderland", uri="/clocked"):
        header = digest_authorization(challenge, "alice", password, uri, nc=nc)
        return fetch(port, "/clocked", headers={"Authorization": header})

    assert attempt(1).status == 200
    assert attempt(1).status == 401  # the same count again: a replay
    assert attempt(3).status == 200  # counts may skip, never go back
    assert attempt(2).status == 401
    assert attempt(4, uri="/whoami").status == 401  # signed for another resource
    CLOCK.now += 61
    stale = attempt(5)
    assert stale.status == 401
    assert all(c.endswith(", stale=true") for c in challenges(stale))
    fresh = challenges(stale)[0]
    assert (
        cyclone.auth.parse_auth_params(fresh[7:])["nonce"]
        != (cyclone.auth.parse_auth_params(challenge[7:])["nonce"])
    )
    wrong = attempt(6, password="nope")  # a wrong password is never called stale
    assert wrong.status == 401 and all("stale" not in c for c in challenges(wrong))
    assert (
        fetch(
            port,
            "/clocked",
            headers={
                "Authorization": digest_authorization(fresh, "alice", "wonderland", "/clocked")
            },
        ).status
        == 200
    )


def test_forged_nonces_and_malformed_headers_are_401_not_500(port):
    [_, challenge, _] = challenges(fetch(port, "/whoami"))
    forged = challenge.replace('nonce="', 'nonce="1', 1)
    bad = [
        digest_authorization(forged, "alice", "wonderland", "/whoami"),
        "Basic !!!notbase64",
        "Basic " + "YWxpY2U=",  # no colon
        "Digest garbage",
        'Digest username="alice", realm="api"',
        'Digest username="a", username="b"',
        "Digest " + 'x="' * 5000,
        "Bearer abc",
        "",
    ]
    for header in bad:
        response = fetch(port, "/whoami", headers={"Authorization": header})
        assert response.status == 401, header


def test_check_callables_and_class_decoration(port):
    url = f"http://127.0.0.1:{port}"
    assert run_curl("-u", "alice:wonderland", url + "/check") == (200, '{"user":"alice"}')
    code, _ = run_curl("-u", "alice:wrong", url + "/check")
    assert code == 401
    assert run_curl("-u", "bob:letmein", url + "/classwide") == (
        200,
        '{"user":"bob","method":"GET"}',
    )
    code, body = run_curl("-u", "bob:letmein", "-X", "POST", "-d", "", url + "/classwide")
    assert (code, body) == (200, '{"user":"bob","method":"POST"}')
    response = fetch(port, "/classwide", "POST", body=b"")
    assert challenges(response) == ['Basic realm="whole class", charset="UTF-8"']


def test_a_handler_without_a_way_to_check_is_a_server_error(port):
    assert fetch(port, "/nolookup", headers={"Authorization": "Basic YTpi"}).status == 500
    assert fetch(port, "/nolookup").status == 401


def test_http_authentication_required_still_works(port):
    response = fetch(port, "/legacy")
    assert response.status == 401
    assert challenges(response) == ['Basic realm="old \\"realm\\""']


def test_the_builtin_schemes_are_in_the_registry():
    assert {"basic", "digest"} <= set(plugins.names(plugins.AUTH))
    assert plugins.load(plugins.AUTH, "basic") is cyclone.auth.basic
    assert plugins.load(plugins.AUTH, "digest") is cyclone.auth.digest


# -- a third-party scheme through a real entry point -----------------------------------------

KEYS = {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG"}


def test_a_third_party_scheme_protects_a_handler(tmp_path, serve):
    with installed(tmp_path / "site", "cyclone-ext-cyc1"):
        from cyclone_ext_cyc1 import sign

        assert "cyc1" in plugins.names(plugins.AUTH)

        class SignedApi(cyclone.web.RequestHandler):
            def get_password(self, access_key):
                return KEYS.get(access_key)

            @requires("cyc1", realm="s3")
            def get(self):
                self.write({"key": self.current_user})

            @requires("cyc1", "basic", realm="s3")
            def delete(self):
                self.write({"deleted_by": self.current_user})

        port = serve(cyclone.web.Application([(r"/bucket/.*", SignedApi)]))
        date = email.utils.formatdate(usegmt=True)

        def call(method, path, secret="wJalrXUtnFEMI/K7MDENG", key="AKIDEXAMPLE", when=date):
            signature = sign(secret, method, when, path)
            headers = {"Date": when, "Authorization": f"CYC1 {key}:{signature}"}
            return fetch(port, path, method, headers=headers)

        ok = call("GET", "/bucket/photo.jpg")
        assert (ok.status, ok.body) == (200, b'{"key":"AKIDEXAMPLE"}')
        assert call("DELETE", "/bucket/photo.jpg").body == b'{"deleted_by":"AKIDEXAMPLE"}'
        assert call("GET", "/bucket/photo.jpg", secret="wrong").status == 401
        assert call("GET", "/bucket/photo.jpg", key="AKIDOTHER").status == 401
        old = email.utils.formatdate(0, usegmt=True)
        assert call("GET", "/bucket/photo.jpg", when=old).status == 401
        # A signature for one path does not open another.
        signature = sign(KEYS["AKIDEXAMPLE"], "GET", date, "/bucket/a")
        headers = {"Date": date, "Authorization": f"CYC1 AKIDEXAMPLE:{signature}"}
        assert fetch(port, "/bucket/b", headers=headers).status == 401
        refused = fetch(port, "/bucket/x", "DELETE")
        assert challenges(refused) == ['CYC1 realm="s3"', 'Basic realm="s3", charset="UTF-8"']


# -- the contract, checked when @requires is applied -------------------------------------------


def test_a_misspelled_scheme_fails_when_the_module_is_imported(tmp_path, monkeypatch):
    (tmp_path / "typo_app.py").write_text(
        "import cyclone.web\n"
        "from cyclone.auth import requires\n\n\n"
        "class Api(cyclone.web.RequestHandler):\n"
        '    @requires("digest", "basci", realm="api")\n'
        "    def get(self):\n"
        '        self.write("never")\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(plugins.PluginNotFound) as info:
        import typo_app  # noqa: F401
    error = info.value
    assert (error.group, error.name) == (plugins.AUTH, "basci")
    message = str(error)
    assert message.startswith("no plugin 'basci' in group 'cyclone.auth' (installed: ")
    assert "basic" in error.installed and "digest" in error.installed
    assert "did you mean 'basic'?" in message
    assert error.__notes__ == ["while applying @requires('digest', 'basci') to Api.get"]


def test_a_misspelled_scheme_on_a_class_fails_at_decoration():
    with pytest.raises(plugins.PluginNotFound, match="no plugin 'bassic' in group") as info:

        @requires("bassic")
        class Api(cyclone.web.RequestHandler):
            def get(self):
                pass

    assert "to test_a_misspelled_scheme_on_a_class" in info.value.__notes__[0]


def test_a_scheme_object_is_checked_against_the_contract_at_decoration():
    class NoChallenge:
        name = "Bearer"

        def parse(self, header_value):
            return None

    decorator = requires(NoChallenge())
    with pytest.raises(plugins.PluginContractError) as info:

        @decorator
        def get(self):
            pass

    message = str(info.value)
    assert "cyclone.auth plugin" in message
    assert "breaks its contract (cyclone.contracts.AuthScheme): missing method challenge()" in (
        message
    )
    assert isinstance(cyclone.auth.digest, cyclone.auth.SecretVerifier)
    assert isinstance(cyclone.auth.digest, cyclone.auth.MultiChallenge)
    assert not isinstance(cyclone.auth.basic, cyclone.auth.MultiChallenge)


def test_a_scheme_with_a_broken_optional_member_is_refused_by_requires(tmp_path):
    with installed(tmp_path / "site", "cyclone-ext-badcontract"):
        with pytest.raises(plugins.PluginContractError, match=r"optional verify\(\) must accept"):
            requires("badverify")(lambda self: None)


def test_a_scheme_without_the_optional_members_protects_a_handler(tmp_path, serve):
    # ``token`` has neither verify() nor challenges(): check_credentials decides, and
    # the 401 carries its one challenge().
    asked = []
    with installed(tmp_path / "site", "cyclone-ext-memory"):

        class TokenApi(cyclone.web.RequestHandler):
            def get_password(self, username):
                asked.append(username)
                return None

            def check_credentials(self, scheme, credentials):
                return {"Token": {"s3cret": "robot"}}.get(scheme, {}).get(credentials)

            @requires("token", "basic", realm="api")
            def get(self):
                self.write({"user": self.current_user})

    # The schemes were resolved when @requires was applied: the handler keeps working
    # after the distribution is gone from sys.path and from the registry's cache.
    assert "token" not in plugins.names(plugins.AUTH)
    port = serve(cyclone.web.Application([(r"/robots", TokenApi)]))
    ok = fetch(port, "/robots", headers={"Authorization": "Token s3cret"})
    assert (ok.status, ok.body) == (200, b'{"user":"robot"}')
    refused = fetch(port, "/robots", headers={"Authorization": "Token guess"})
    assert refused.status == 401
    assert challenges(refused) == ['Token realm="api"', 'Basic realm="api", charset="UTF-8"']
    assert asked == []  # a scheme without verify() never looks a password up
    basic = fetch(port, "/robots", headers={"Authorization": "Basic YWxpY2U6d29uZGVybGFuZA=="})
    assert (basic.status, asked) == (401, ["alice"])  # Basic has verify(): get_password
