"""The registries: discovery without imports, loading by name, and every failure named."""

import base64
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from thirdparty.install import installed

from cyclone import plugins
from cyclone.plugins import (
    AUTH,
    MAIL,
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
    ("group", "name", "expected"),
    [
        (STORAGE, "nooptions", "missing attribute 'options'"),
        (STORAGE, "strictfactory", "must accept (url, **options) for every option it declares"),
        (RPC, "notahandler", "must be a subclass of cyclone.web.RequestHandler, got class"),
        (AUTH, "half", "missing method challenge()"),
    ],
)
def test_a_contract_violation_names_what_is_missing(tmp_path, group, name, expected):
    with installed(tmp_path / "site", "cyclone-ext-badcontract"):
        with pytest.raises(PluginContractError) as info:
            plugins.load(group, name)
    message = str(info.value)
    assert expected in message
    assert f"{group} plugin {name!r}" in message
    assert "cyclone-ext-badcontract 0.2" in message
    assert isinstance(info.value, TypeError)


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


def test_third_party_auth_and_rpc_plugins_work(memory_dist, serve):
    scheme = plugins.load(AUTH, "token")
    assert scheme.parse("Token s3cret") == "s3cret"
    assert scheme.parse("Basic abc") is None
    assert scheme.challenge("api") == 'Token realm="api"'

    echo = plugins.load(RPC, "echo")
    assert issubclass(echo, RequestHandler)
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
