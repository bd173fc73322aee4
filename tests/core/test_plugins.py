"""The registries: discovery without imports, loading by name, and every failure named."""

import base64
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from thirdparty.install import installed

from cyclone import contracts, plugins
from cyclone.plugins import (
    AUTH,
    MAIL,
    REALTIME,
    RPC,
    STORAGE,
    PluginConflict,
    PluginContractError,
    PluginInfo,
    PluginLoadError,
    PluginNotFound,
)
from cyclone.web import Application, RequestHandler

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def memory_dist(tmp_path):
    with installed(tmp_path / "site", "cyclone-ext-memory") as path:
        yield path


def test_the_five_groups():
    assert plugins.GROUPS == (
        "cyclone.storage",
        "cyclone.mail",
        "cyclone.auth",
        "cyclone.rpc",
        "cyclone.realtime",
    )


def test_an_unknown_group_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown entry-point group 'cyclone\.db'.*cyclone\.mail"):
        plugins.names("cyclone.db")


def test_listing_a_group_imports_no_plugin_module(memory_dist):
    assert "memory" in plugins.names(STORAGE)
    assert "token" in plugins.names(AUTH)
    [info] = [i for i in plugins.describe(STORAGE) if i.name == "memory"]
    assert info == PluginInfo(
        name="memory",
        group=STORAGE,
        distribution="cyclone-ext-memory",
        version="1.0",
        value="cyclone_ext_memory:memory",
    )
    assert "cyclone_ext_memory" not in sys.modules

    factory = plugins.load(STORAGE, "memory")

    assert "cyclone_ext_memory" in sys.modules
    assert factory is sys.modules["cyclone_ext_memory"].memory
    assert plugins.load(STORAGE, "memory") is factory


def test_discovery_is_cached_until_clear_cache(tmp_path):
    before = plugins.names(STORAGE)
    assert "memory" not in before
    site = tmp_path / "site"
    from thirdparty.install import install

    sys.path.insert(0, str(install(site, "cyclone-ext-memory")))
    try:
        assert plugins.names(STORAGE) == before
        plugins.clear_cache()
        assert "memory" in plugins.names(STORAGE)
    finally:
        sys.path.remove(str(site))
        plugins.clear_cache()
    assert "memory" not in plugins.names(STORAGE)


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("sqlite", "sql"),
        ("postgresql", "postgresql"),
        ("mysql", "mysql"),
        ("redis", "redis"),
        ("rediss", "redis"),
        ("redis+sentinel", "redis"),
        ("smtp", "mail"),
        ("smtps", "mail"),
        ("jsonrpc", "rpc"),
        ("xmlrpc", "rpc"),
        ("websocket", "realtime"),
        ("sse", "realtime"),
        ("memory", None),
    ],
)
def test_well_known_names_map_to_their_extra(name, extra):
    assert plugins.extra_for(name) == extra


def test_a_name_of_an_unreleased_extension_says_it_is_not_available_yet(monkeypatch):
    name, extension, extra = "future", "the future extension (cyclone-ext-future)", "future"
    monkeypatch.setattr(plugins, "UNRELEASED", {name: (extension, extra)})
    hint = plugins.install_hint(name)
    assert f"{name!r} is provided by {extension}" in hint
    assert "not available yet in this release of cyclone" in hint
    assert hint.endswith(f"once it is: pip install 'cyclone[{extra}]'")
    assert not hint.startswith("install it with")


def test_a_missing_name_says_group_installed_names_and_extra(memory_dist):
    missing = [n for n in ("redis", "smtp", "sqlite") if n not in plugins.names(STORAGE)]
    if not missing:
        pytest.skip("every well-known storage name is installed here")
    name = missing[0]
    with pytest.raises(PluginNotFound) as info:
        plugins.load(STORAGE, name)
    error = info.value
    assert isinstance(error, LookupError)
    assert (error.group, error.name, error.extra) == (STORAGE, name, plugins.extra_for(name))
    assert "memory" in error.installed
    message = str(error)
    assert f"no plugin {name!r} in group 'cyclone.storage'" in message
    assert "memory" in message
    if name in plugins.UNRELEASED:
        assert "not available yet in this release of cyclone" in message
    else:
        assert f"pip install 'cyclone[{plugins.extra_for(name)}]'" in message


def test_a_missing_unknown_name_says_no_extra_provides_it():
    with pytest.raises(PluginNotFound, match="no known extra provides it") as info:
        plugins.load(MAIL, "carrier-pigeon")
    assert info.value.extra is None


def test_two_distributions_with_one_name_is_an_error_naming_both(tmp_path):
    with installed(tmp_path / "site", "cyclone-ext-memory", "cyclone-ext-othermemory"):
        assert plugins.names(STORAGE).count("memory") == 1
        providers = [i.distribution for i in plugins.describe(STORAGE) if i.name == "memory"]
        assert providers == ["cyclone-ext-memory", "cyclone-ext-othermemory"]
        with pytest.raises(PluginConflict) as info:
            plugins.load(STORAGE, "memory")
        message = str(info.value)
        assert "cyclone-ext-memory 1.0" in message
        assert "cyclone-ext-othermemory 0.3" in message
        assert "'memory'" in message and "cyclone.storage" in message
        # Neither contender was imported to find out.
        assert "cyclone_ext_memory" not in sys.modules
        assert "cyclone_ext_othermemory" not in sys.modules


def test_an_import_failure_reports_the_original_exception(tmp_path):
    with installed(tmp_path / "site", "cyclone-ext-broken"):
        with pytest.raises(PluginLoadError) as info:
            plugins.load(STORAGE, "broken")
    error = info.value
    assert isinstance(error.__cause__, RuntimeError)
    message = str(error)
    assert "RuntimeError: cyclone_ext_broken needs libfoo 3, found libfoo 2" in message
    assert "cyclone-ext-broken 0.1" in message
    assert "'broken'" in message


@pytest.mark.parametrize(
    ("group", "name", "protocol", "expected"),
    [
        (STORAGE, "nooptions", "ServiceFactory", "missing attribute 'options'"),
        (
            STORAGE,
            "strictfactory",
            "ServiceFactory",
            "must accept (url, **options) for every option it declares",
        ),
        (
            RPC,
            "notahandler",
            "RPCHandler",
            "it must be a request handler class (a subclass of cyclone.web.RequestHandler), "
            "got class cyclone_ext_badcontract.NotAHandler: missing attribute "
            "'SUPPORTED_METHODS'; missing method initialize()",
        ),
        (RPC, "noprocedure", "RPCHandler", "missing method get_procedure()"),
        (AUTH, "half", "AuthScheme", "missing method challenge()"),
        (
            AUTH,
            "badverify",
            "AuthScheme",
            "optional verify() must accept the arguments (credentials, request, secret, realm)",
        ),
        (
            REALTIME,
            "notransport",
            "RealtimeHandler",
            "missing attribute 'transport'; missing method on_close()",
        ),
        (REALTIME, "postonly", "RealtimeHandler", "SUPPORTED_METHODS must include 'GET'"),
        (REALTIME, "numbered", "RealtimeHandler", "'transport' must be a str, got int 7"),
    ],
)
def test_a_contract_violation_names_what_is_missing(tmp_path, group, name, protocol, expected):
    with installed(tmp_path / "site", "cyclone-ext-badcontract"):
        with pytest.raises(PluginContractError) as info:
            plugins.load(group, name)
        # A plugin that breaks its contract is not cached as loaded: it fails again.
        with pytest.raises(PluginContractError):
            plugins.load(group, name)
    message = str(info.value)
    assert expected in message
    assert f"{group} plugin {name!r}" in message
    assert "cyclone-ext-badcontract 0.2" in message
    assert f"breaks its contract (cyclone.contracts.{protocol})" in message
    assert isinstance(info.value, TypeError)


def test_every_group_has_a_written_contract():
    assert tuple(contracts.CONTRACTS) == plugins.GROUPS
    assert plugins.CONTRACTS is contracts.CONTRACTS
    for contract in contracts.CONTRACTS.values():
        for protocol in (contract.protocol, *contract.optional):
            assert protocol.__module__ == "cyclone.contracts"
            assert getattr(protocol, "_is_runtime_protocol", False), protocol
    kinds = {group: c.kind for group, c in contracts.CONTRACTS.items()}
    assert kinds == {
        STORAGE: "object",
        MAIL: "object",
        AUTH: "object",
        RPC: "class",
        REALTIME: "class",
    }
    assert contracts.CONTRACTS[AUTH].optional == (
        contracts.SecretVerifier,
        contracts.MultiChallenge,
    )
    assert contracts.CONTRACTS[REALTIME].methods == ("GET",)
    assert contracts.CONTRACTS[RPC].methods == ("POST",)


def test_the_handler_contract_is_what_a_request_handler_provides():
    assert plugins.contract_problems(RequestHandler, contracts.Handler, of_class=True) == []

    class Push(RequestHandler):
        transport = "carrier-pigeon"

        def on_close(self):
            pass

    plugins.check_contract(REALTIME, Push)
    with pytest.raises(PluginContractError, match="missing attribute 'protocol'"):
        plugins.check_contract(RPC, Push)

    class Unconstructible(Push):
        def __init__(self):
            pass

    with pytest.raises(PluginContractError, match=r"constructible as Unconstructible\(appl"):
        plugins.check_contract(REALTIME, Unconstructible)

    class BadHubReceiver(Push):
        def on_hub_message(self):
            pass

    with pytest.raises(
        PluginContractError, match=r"optional on_hub_message\(\) must accept the arguments"
    ):
        plugins.check_contract(REALTIME, BadHubReceiver)
    with pytest.raises(PluginContractError, match="it must be a request handler class"):
        plugins.check_contract(REALTIME, Push.on_close)  # a function, not a class


def test_a_json_rpc_style_handler_meets_the_rpc_contract():
    # The shape the module documentation of cyclone.contracts describes.
    class JsonRPCHandler(RequestHandler):
        protocol = "jsonrpc"

        def get_procedure(self, name):
            return getattr(self, f"jsonrpc_{name}", None)

        async def post(self):
            pass

    class Calculator(JsonRPCHandler):
        def jsonrpc_add(self, a, b):
            return a + b

        def list_procedures(self):
            return ["add"]

    plugins.check_contract(RPC, JsonRPCHandler)
    plugins.check_contract(RPC, Calculator)
    assert isinstance(Calculator, contracts.ProcedureLister)
    assert not isinstance(JsonRPCHandler, contracts.ProcedureLister)

    class GetOnly(JsonRPCHandler):
        SUPPORTED_METHODS = ("GET",)

    with pytest.raises(PluginContractError, match="SUPPORTED_METHODS must include 'POST'"):
        plugins.check_contract(RPC, GetOnly)


def test_the_builtin_realtime_transports_meet_their_contract():
    realtime = pytest.importorskip("cyclone_ext_realtime")
    websocket = plugins.load(REALTIME, "websocket")
    sse = plugins.load(REALTIME, "sse")
    assert (websocket, sse) == (realtime.WebSocketHandler, realtime.SSEHandler)
    assert (websocket.transport, sse.transport) == ("websocket", "sse")
    assert isinstance(sse, contracts.HubReceiver)  # it sends hub messages as events
    assert isinstance(websocket, contracts.RealtimeHandler)


def test_a_plugin_without_its_optional_members_loads(memory_dist):
    token = plugins.load(AUTH, "token")
    assert isinstance(token, contracts.AuthScheme)
    assert not isinstance(token, contracts.SecretVerifier)
    assert not isinstance(token, contracts.MultiChallenge)
    lines = plugins.load(REALTIME, "lines")
    assert not isinstance(lines, contracts.HubReceiver)
    echo = plugins.load(RPC, "echo")
    assert not isinstance(echo, contracts.ProcedureLister)


def test_a_third_party_push_transport_serves_a_real_request(memory_dist, serve):
    lines = plugins.load(REALTIME, "lines")
    closed = []

    class Countdown(lines):
        def on_open(self):
            for n in ("3", "2", "1"):
                self.push(n)
            self.end()

        def on_close(self):
            closed.append(self.request.path)

    port = serve(Application([(r"/countdown", Countdown)]))
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/countdown", timeout=5) as response:
        assert response.read() == b"3\n2\n1\n"
    assert closed == ["/countdown"]
    request = urllib.request.Request(f"http://127.0.0.1:{port}/countdown", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 405


def test_an_auth_scheme_class_with_instance_methods_is_refused():
    class Scheme:
        name = "Bearer"

        def parse(self, header_value):
            return header_value

        def challenge(self, realm, **params):
            return "Bearer"

    with pytest.raises(PluginContractError, match=r"parse\(\) is an instance method of a class"):
        plugins.check_contract(AUTH, Scheme)
    plugins.check_contract(AUTH, Scheme())


def test_contract_checks_signatures_and_option_names():
    def factory(url, **options):
        pass

    factory.options = {"url": str}
    with pytest.raises(PluginContractError, match="option name 'url' must be an identifier"):
        plugins.check_contract(STORAGE, factory)
    factory.options = {"pool": "not callable"}
    with pytest.raises(PluginContractError, match="the converter of option 'pool' must be"):
        plugins.check_contract(STORAGE, factory)

    class Scheme:
        name = "X"

        @staticmethod
        def parse():
            return None

        @staticmethod
        def challenge(realm, **params):
            return "X"

    with pytest.raises(PluginContractError, match=r"parse\(\) must accept the arguments"):
        plugins.check_contract(AUTH, Scheme)

    class Nameless(Scheme):
        name = b"X"

        @staticmethod
        def parse(header_value):
            return None

    with pytest.raises(PluginContractError, match="'name' must be a str, got bytes"):
        plugins.check_contract(AUTH, Nameless)


def test_a_misspelled_name_suggests_the_installed_one():
    with pytest.raises(PluginNotFound) as info:
        plugins.load(AUTH, "digset")
    assert "(installed: basic, digest); did you mean 'digest'?" in str(info.value)
    with pytest.raises(PluginNotFound) as info:
        plugins.load(AUTH, "kerberos")
    assert "did you mean" not in str(info.value)


def test_third_party_auth_and_rpc_plugins_work(memory_dist, serve):
    scheme = plugins.load(AUTH, "token")
    assert scheme.parse("Token s3cret") == "s3cret"
    assert scheme.parse("Basic abc") is None
    assert scheme.challenge("api") == 'Token realm="api"'

    echo = plugins.load(RPC, "echo")
    assert issubclass(echo, RequestHandler)
    assert echo.protocol == "echo"
    port = serve(Application([(r"/rpc", echo)]))
    request = urllib.request.Request(f"http://127.0.0.1:{port}/rpc", data=b"hello", method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.read() == base64.b64encode(b"hello")


# -- cyclone plugins -------------------------------------------------------------------


def _cyclone_plugins(site, *args):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "cyclone", "plugins", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cyclone_plugins_lists_third_party_distributions(tmp_path):
    from thirdparty.install import install

    site = install(tmp_path / "site", "cyclone-ext-memory")
    result = _cyclone_plugins(site)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for group in plugins.GROUPS:
        assert group in lines
    [memory] = [line for line in lines if line.split()[:1] == ["memory"]]
    assert memory.split() == [
        "memory",
        "cyclone-ext-memory",
        "1.0",
        "cyclone_ext_memory:memory",
        "ok",
    ]
    assert [line.split()[0] for line in lines if "cyclone-ext-memory" in line] == [
        "memory",
        "outbox",
        "token",
        "echo",
        "lines",
    ]

    checked = _cyclone_plugins(site, "--check")
    failing = [line for line in checked.stdout.splitlines() if "error:" in line]
    assert checked.returncode == (1 if failing else 0)


def test_cyclone_plugins_check_fails_and_explains_a_broken_plugin(tmp_path):
    from thirdparty.install import install

    site = install(tmp_path / "site", "cyclone-ext-memory", "cyclone-ext-broken")
    listed = _cyclone_plugins(site)
    assert listed.returncode == 0
    checked = _cyclone_plugins(site, "--check")
    assert checked.returncode == 1
    [broken] = [line for line in checked.stdout.splitlines() if line.split()[:1] == ["broken"]]
    assert "cyclone-ext-broken 0.1" in broken
    assert "error: plugin 'broken'" in broken
    assert "RuntimeError: cyclone_ext_broken needs libfoo 3" in broken


def test_a_mailer_with_a_broken_optional_send_many_is_refused():
    from cyclone import contracts, plugins

    class Mailer:
        def start(self):
            return None

        def stop(self):
            return None

        def send(self, message):
            return None

        send_many = "not callable"

    mail = plugins.CONTRACTS[contracts.MAIL]
    problems = plugins.contract_problems(Mailer(), mail.returns, optional=mail.returns_optional)
    assert problems and all("send_many" in p for p in problems), problems
    del Mailer.send_many
    assert plugins.contract_problems(Mailer(), mail.returns, optional=mail.returns_optional) == []


def test_the_smtp_mailer_meets_the_batch_contract():
    from cyclone import contracts, plugins

    mail = plugins.CONTRACTS[contracts.MAIL]
    mailer = plugins.load(contracts.MAIL, "smtp")("smtp://127.0.0.1:2525?starttls=off")
    assert plugins.contract_problems(mailer, mail.returns, optional=mail.returns_optional) == []
    assert isinstance(mailer, contracts.BatchMailer)
