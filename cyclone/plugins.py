"""Extension points: entry-point groups read through stevedore, loaded lazily by name.

Strategy: listing and loading are two separate steps. Listing a group reads only
distribution metadata (``importlib.metadata``, which also tells which distribution
and version registered each name) and is cached per process; it never imports a
plugin module. Loading one name goes through stevedore's ``DriverManager``, which
imports that one entry point and nothing else, then checks the object against the
contract of its group. A contract is written once, as a ``typing.Protocol`` (or a
base class) below, and every failure is a :class:`PluginError` whose message says
what is wrong and what to do: the extra to install, the two distributions that
claim the same name, the original import error, or the missing member.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from stevedore import DriverManager
from stevedore.extension import ExtensionManager
from twisted.internet.defer import Deferred

__all__ = [
    "EXTRAS",
    "GROUPS",
    "UNRELEASED",
    "AuthScheme",
    "Mailer",
    "PluginConflict",
    "PluginContractError",
    "PluginError",
    "PluginInfo",
    "PluginLoadError",
    "PluginNotFound",
    "Service",
    "ServiceFactory",
    "check_contract",
    "clear_cache",
    "contract_problems",
    "describe",
    "extra_for",
    "install_hint",
    "load",
    "names",
]

STORAGE = "cyclone.storage"
MAIL = "cyclone.mail"
AUTH = "cyclone.auth"
RPC = "cyclone.rpc"
REALTIME = "cyclone.realtime"

GROUPS: tuple[str, ...] = (STORAGE, MAIL, AUTH, RPC, REALTIME)
"""Every entry-point group cyclone reads, in the order ``cyclone plugins`` shows them."""

EXTRAS: Mapping[str, str] = {
    "sqlite": "sql",
    "postgresql": "postgresql",
    "mysql": "mysql",
    "websocket": "realtime",
    "sse": "realtime",
    "redis": "redis",
    "rediss": "redis",
    "redis+unix": "redis",
    "redis+sentinel": "redis",
    "jsonrpc": "rpc",
    "xmlrpc": "rpc",
    "smtp": "mail",
    "smtps": "mail",
}
"""Well-known plugin names → the extra of the ``cyclone`` distribution that provides them."""

UNRELEASED: Mapping[str, tuple[str, str]] = {}
"""Well-known names whose extension is not in this release yet → (that extension, its extra).

A hint for one of them says so rather than naming an extra that pip would not
find. Every extension of this release has a real extra, so the table is empty.
"""


# -- contracts ------------------------------------------------------------------------


@runtime_checkable
class Service(Protocol):
    """What a storage or mail factory returns.

    ``start()`` is called when the server starts and ``stop()`` when it stops; both
    may return a Deferred to make the server wait. ``stop()`` releases every thread,
    connection and file. Everything else is the backend's own API.
    """

    def start(self) -> Deferred[Any] | None: ...

    def stop(self) -> Deferred[Any] | None: ...


@runtime_checkable
class Mailer(Service, Protocol):
    """What a ``cyclone.mail`` factory returns: a service that sends messages.

    ``send(message)`` takes an ``email.message.EmailMessage`` and returns a
    Deferred that fires once the message is accepted for delivery.
    """

    def send(self, message: Any) -> Deferred[Any]: ...


@runtime_checkable
class ServiceFactory(Protocol):
    """A ``cyclone.storage`` or ``cyclone.mail`` entry point: ``factory(url, **options)``.

    ``options`` maps each accepted option name to a converter applied to the string
    values found in the URL query. The URL handed to the factory no longer carries
    those options.
    """

    options: Mapping[str, Callable[[str], Any]]

    def __call__(self, url: str, /, **options: Any) -> Service: ...


@runtime_checkable
class AuthScheme(Protocol):
    """A ``cyclone.auth`` entry point: one HTTP authentication scheme.

    ``name`` is the scheme token as it appears in headers (``"Basic"``).
    ``parse(header_value)`` receives the whole ``Authorization`` header value and
    returns the credentials it carries, or ``None`` when the header is not for this
    scheme or is malformed. ``challenge(realm, **params)`` returns the value of a
    ``WWW-Authenticate`` header asking for credentials.
    """

    name: str

    def parse(self, header_value: str) -> Any: ...

    def challenge(self, realm: str, **params: str) -> str: ...


def _is_request_handler_class(plugin: Any) -> bool:
    # This module imports nothing of cyclone (the web layer stands on it), so the
    # base is looked up, not imported: a class that derives from RequestHandler
    # was defined after its module was imported, so the module is in sys.modules.
    handler_module = sys.modules.get("cyclone._handler")
    base = getattr(handler_module, "RequestHandler", None)
    return isinstance(plugin, type) and base is not None and issubclass(plugin, base)


# -- errors ---------------------------------------------------------------------------


class PluginError(Exception):
    """A plugin cannot be used; the message says why and what to do."""


class PluginNotFound(PluginError, LookupError):
    """No installed distribution registers ``name`` in ``group``."""

    def __init__(self, group: str, name: str, installed: list[str]) -> None:
        self.group = group
        self.name = name
        self.installed = installed
        self.extra = extra_for(name)
        have = ", ".join(installed) if installed else "none"
        hint = install_hint(name)
        super().__init__(f"no plugin {name!r} in group {group!r} (installed: {have}); {hint}")


class PluginConflict(PluginError):
    """Two distributions register the same name in one group."""

    def __init__(self, group: str, name: str, providers: list[PluginInfo]) -> None:
        self.group = group
        self.name = name
        self.providers = providers
        who = " and ".join(f"{p.distribution} {p.version} ({p.value})" for p in providers)
        super().__init__(
            f"plugin {name!r} in group {group!r} is registered by {who}: uninstall one of them"
        )


class PluginLoadError(PluginError):
    """Importing a plugin failed; the original exception is chained as ``__cause__``."""


class PluginContractError(PluginError, TypeError):
    """A plugin loaded but does not provide what its group requires."""


# -- discovery ------------------------------------------------------------------------


@dataclass(frozen=True)
class PluginInfo:
    """One registered entry point, as its distribution's metadata describes it."""

    name: str
    group: str
    distribution: str
    version: str
    value: str


_listing: dict[str, list[PluginInfo]] = {}
_loaded: dict[tuple[str, str], Any] = {}


def clear_cache() -> None:
    """Forget what was discovered and loaded, e.g. after adding a distribution at runtime.

    A distribution added at runtime is best placed in a new ``sys.path`` directory:
    stevedore's own cache is keyed by ``sys.path``.
    """
    _listing.clear()
    _loaded.clear()
    for group in GROUPS:
        ExtensionManager.ENTRY_POINT_CACHE.pop(group, None)
    importlib.invalidate_caches()


def _check_group(group: str) -> None:
    if group not in GROUPS:
        raise ValueError(f"unknown entry-point group {group!r}; the groups are {', '.join(GROUPS)}")


def describe(group: str) -> list[PluginInfo]:
    """Every entry point registered in ``group``, sorted by name; imports nothing."""
    _check_group(group)
    infos = _listing.get(group)
    if infos is None:
        infos = []
        for ep in importlib.metadata.entry_points(group=group):
            dist = ep.dist
            infos.append(
                PluginInfo(
                    name=ep.name,
                    group=group,
                    distribution=dist.name if dist is not None else "?",
                    version=dist.version if dist is not None else "?",
                    value=ep.value,
                )
            )
        infos.sort(key=lambda i: (i.name, i.distribution))
        _listing[group] = infos
    return list(infos)


def names(group: str) -> list[str]:
    """The names registered in ``group``, sorted; imports nothing."""
    return sorted({info.name for info in describe(group)})


def extra_for(name: str) -> str | None:
    """The extra of ``cyclone`` that provides the well-known plugin ``name``, if any."""
    return EXTRAS.get(name)


def install_hint(name: str) -> str:
    """What to do to get the plugin ``name``: the end of a "not found" message."""
    extra = extra_for(name)
    if extra:
        return f"install it with: pip install 'cyclone[{extra}]'"
    if name in UNRELEASED:
        extension, future_extra = UNRELEASED[name]
        return (
            f"{name!r} is provided by {extension}, which is not available yet in this "
            f"release of cyclone; once it is: pip install 'cyclone[{future_extra}]'"
        )
    return "no known extra provides it: install the distribution that registers it"


# -- loading --------------------------------------------------------------------------


def load(group: str, name: str) -> Any:
    """Import the plugin ``name`` of ``group``, check its contract and return it (cached)."""
    key = (group, name)
    if key in _loaded:
        return _loaded[key]
    providers = [info for info in describe(group) if info.name == name]
    if not providers:
        raise PluginNotFound(group, name, names(group))
    if len(providers) > 1:
        raise PluginConflict(group, name, providers)
    info = providers[0]

    def failed(manager: Any, entry_point: Any, error: BaseException) -> None:
        raise PluginLoadError(
            f"plugin {name!r} in group {group!r} ({_origin(info)}) failed to import: "
            f"{type(error).__name__}: {error}"
        ) from error

    try:
        manager = DriverManager(group, name, on_load_failure_callback=failed)
    except PluginError:
        raise
    except Exception as e:
        # stevedore's view of the installed entry points disagrees with the metadata.
        raise PluginLoadError(
            f"plugin {name!r} in group {group!r} ({_origin(info)}) cannot be loaded: {e}"
        ) from e
    plugin = manager.driver
    check_contract(group, plugin, info)
    _loaded[key] = plugin
    return plugin


def _origin(info: PluginInfo) -> str:
    return f"{info.distribution} {info.version}, {info.value}"


def check_contract(group: str, plugin: Any, info: PluginInfo | None = None) -> None:
    """Raise :class:`PluginContractError` unless ``plugin`` fits the contract of ``group``."""
    _check_group(group)
    where = f" ({_origin(info)})" if info is not None else ""
    label = f"{group} plugin {info.name!r}{where}" if info is not None else f"{group} plugin"
    if group in (RPC, REALTIME):
        if not _is_request_handler_class(plugin):
            raise PluginContractError(
                f"{label} must be a subclass of cyclone.web.RequestHandler, got {_kind(plugin)}"
            )
        return
    if group == AUTH:
        problems = contract_problems(plugin, AuthScheme)
        if not problems and not isinstance(plugin.name, str):
            problems.append(f"'name' must be a str, got {_kind(plugin.name)}")
    else:
        problems = contract_problems(plugin, ServiceFactory)
        if not problems:
            problems = _option_problems(plugin)
    if problems:
        raise PluginContractError(f"{label} breaks its contract: " + "; ".join(problems))


def _kind(obj: Any) -> str:
    if isinstance(obj, type):
        return f"class {obj.__module__}.{obj.__qualname__}"
    return f"{type(obj).__name__} {obj!r}"[:120]


def _protocol_members(protocol: type) -> dict[str, Callable[..., Any] | None]:
    """The members a Protocol declares, with its bases': attributes (None) and methods."""
    members: dict[str, Callable[..., Any] | None] = {}
    for klass in reversed(protocol.__mro__):
        if klass is object or klass.__module__ == "typing":
            continue
        for attr in vars(klass).get("__annotations__", {}):
            members[attr] = None
        for attr, value in vars(klass).items():
            if inspect.isfunction(value) and (attr == "__call__" or not attr.startswith("_")):
                members[attr] = value
    return members


def contract_problems(obj: Any, protocol: type) -> list[str]:
    """What ``obj`` lacks to satisfy ``protocol``: missing members or unusable signatures.

    Empty when ``obj`` fits. Used at load time for plugins and by
    :mod:`cyclone.services` for the services that factories return.
    """
    problems = []
    for attr, method in _protocol_members(protocol).items():
        if method is None:
            if not hasattr(obj, attr):
                problems.append(f"missing attribute {attr!r}")
            continue
        target = obj if attr == "__call__" else getattr(obj, attr, None)
        shown = "the object itself" if attr == "__call__" else f"{attr}()"
        if target is None:
            problems.append(f"missing method {attr}()")
            continue
        if not callable(target):
            problems.append(f"{shown} must be callable")
            continue
        if (
            attr != "__call__"
            and isinstance(obj, type)
            and inspect.isfunction(inspect.getattr_static(obj, attr))
        ):
            problems.append(
                f"{shown} is an instance method of a class: register an instance instead"
            )
            continue
        wanted = _required_positional(method)
        try:
            inspect.signature(target).bind(*wanted)
        except TypeError:
            problems.append(f"{shown} must accept the arguments ({', '.join(wanted)})")
        except ValueError:
            pass  # no signature to inspect (some builtins): trust it
    return problems


def _required_positional(method: Callable[..., Any]) -> list[str]:
    params = list(inspect.signature(method).parameters.values())[1:]  # skip self
    return [
        p.name
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]


def _option_problems(factory: Any) -> list[str]:
    options = factory.options
    if not isinstance(options, Mapping):
        return [f"'options' must be a mapping of option name to converter, got {_kind(options)}"]
    problems = []
    for option, converter in options.items():
        if not isinstance(option, str) or not option.isidentifier() or option == "url":
            problems.append(f"option name {option!r} must be an identifier other than 'url'")
        elif not callable(converter):
            problems.append(f"the converter of option {option!r} must be callable")
    if not problems:
        try:
            inspect.signature(factory).bind("url", **dict.fromkeys(options))
        except TypeError:
            problems.append(
                "the factory must accept (url, **options) for every option it declares: "
                + ", ".join(options)
            )
        except ValueError:
            pass
    return problems
