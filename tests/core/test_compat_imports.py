"""cyclone 1.x's import paths: they import when their extension is installed, and
otherwise fail with a message naming the extra to install."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import pytest

# old import path -> (the extension package behind it, its extra, a 1.x name it keeps,
# whether the extension is part of this release)
OLD_PATHS = {
    "cyclone.sqlite": ("cyclone_ext_sql", "sql", "InlineSQLite", True),
    "cyclone.websocket": ("cyclone_ext_realtime", "realtime", "WebSocketHandler", True),
    "cyclone.sse": ("cyclone_ext_realtime", "realtime", "SSEHandler", True),
    "cyclone.redis": ("cyclone_ext_redis", "redis", "lazyConnectionPool", True),
    "cyclone.mail": ("cyclone_ext_mail", "mail", "Message", True),
    "cyclone.jsonrpc": ("cyclone_ext_rpc", "rpc", "JsonrpcRequestHandler", True),
    "cyclone.xmlrpc": ("cyclone_ext_rpc", "rpc", "XmlrpcRequestHandler", True),
}


def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


@pytest.mark.parametrize("module", sorted(OLD_PATHS))
def test_old_import_path(module: str) -> None:
    package, extra, name, released = OLD_PATHS[module]
    sys.modules.pop(module, None)
    if _installed(package):
        imported = importlib.import_module(module)
        if name is not None:
            assert name in imported.__all__
            assert getattr(imported, name) is getattr(importlib.import_module(package), name)
        return
    with pytest.raises(ModuleNotFoundError) as info:
        importlib.import_module(module)
    message = str(info.value)
    assert info.value.name == module
    assert message.startswith(f"{module} is provided by ")
    assert f"pip install 'cyclone[{extra}]'" in message
    if not released:
        assert "not available yet in this release" in message
    assert module not in sys.modules


def test_released_extensions_are_installed_in_the_dev_environment() -> None:
    # The dev group installs every extension of this release, so their paths really import.
    for package, _extra, _name, released in OLD_PATHS.values():
        if released:
            assert _installed(package), package


def test_unreleased_extensions_are_not_extras_yet() -> None:
    """The table in docs/extensions.md says which old paths work today; keep it honest."""
    from importlib.metadata import metadata

    extras = set(metadata("cyclone").get_all("Provides-Extra") or [])
    for _package, extra, _name, released in OLD_PATHS.values():
        assert (extra in extras) == released, extra
