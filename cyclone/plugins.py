"""Extension points: entry-point groups read through stevedore, loaded lazily by name.

Strategy: listing and loading are two separate steps. Listing a group reads only
distribution metadata (``importlib.metadata``, which also tells which distribution
and version registered each name) and is cached per process; it never imports a
plugin module. Loading one name goes through stevedore's ``DriverManager``, which
imports that one entry point and nothing else, then checks the object against the
contract of its group. The contracts are written once, as ``typing.Protocol``
classes in :mod:`cyclone.contracts` (required and optional members, one
:class:`~cyclone.contracts.Contract` per group); this module reads them
structurally and imports nothing else of cyclone. Every failure is a
:class:`PluginError` whose message says what is wrong and what to do: the extra to
install, the two distributions that claim the same name, the original import
error, or the missing member.
"""

from __future__ import annotations

import collections.abc
import difflib
import importlib
import importlib.metadata
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stevedore import DriverManager
from stevedore.extension import ExtensionManager

from cyclone.contracts import (
    AUTH,
    CONTRACTS,
    MAIL,
    REALTIME,
    RPC,
    STORAGE,
    AuthScheme,
    Contract,
    Handler,
    Mailer,
    Service,
    ServiceFactory,
)

__all__ = [
    "AUTH",
    "CONTRACTS",
    "EXTRAS",
    "GROUPS",
    "MAIL",
    "REALTIME",
    "RPC",
    "STORAGE",
    "UNRELEASED",
    "AuthScheme",
    "Contract",
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

GROUPS: tuple[str, ...] = tuple(CONTRACTS)
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
        close = difflib.get_close_matches(name, installed, n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        super().__init__(
            f"no plugin {name!r} in group {group!r} (installed: {have}); {guess}{hint}"
        )


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
    """Raise :class:`PluginContractError` unless ``plugin`` fits the contract of ``group``.

    The message names the group, the plugin (and its distribution when ``info``
    is given), the Protocol of the contract and every member that is missing or
    unusable.
    """
    _check_group(group)
    contract = CONTRACTS[group]
    if info is not None:
        label = f"{group} plugin {info.name!r} ({_origin(info)})"
    else:
        label = f"{group} plugin {_kind(plugin)}"
    if contract.kind == "class":
        problems = _handler_problems(plugin, contract)
    else:
        problems = contract_problems(plugin, contract.protocol, optional=contract.optional)
        if not problems and contract.protocol is ServiceFactory:
            problems = _option_problems(plugin)
    if problems:
        protocol = f"{contract.protocol.__module__}.{contract.protocol.__qualname__}"
        raise PluginContractError(
            f"{label} breaks its contract ({protocol}): " + "; ".join(problems)
        )


def _handler_problems(plugin: Any, contract: Contract) -> list[str]:
    """What a handler class registered in ``contract``'s group lacks."""
    wanted = "a request handler class (a subclass of cyclone.web.RequestHandler)"
    if not isinstance(plugin, type):
        return [f"it must be {wanted}, got {_kind(plugin)}"]
    problems = contract_problems(plugin, Handler, of_class=True)
    if problems:
        return [f"it must be {wanted}, got {_kind(plugin)}: " + "; ".join(problems)]
    try:
        inspect.signature(plugin).bind("application", "request")
    except TypeError:
        return [f"it must be constructible as {plugin.__name__}(application, request, **kwargs)"]
    except ValueError:
        pass
    supported = plugin.SUPPORTED_METHODS
    for method in contract.methods:
        if method not in supported:
            problems.append(f"SUPPORTED_METHODS must include {method!r}, got {tuple(supported)!r}")
    problems.extend(
        contract_problems(plugin, contract.protocol, optional=contract.optional, of_class=True)
    )
    return problems


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
            if inspect.isfunction(value) and (attr == "__call__" or not attr.startswith("__")):
                members[attr] = value
    return members


def contract_problems(
    obj: Any, protocol: type, *, optional: tuple[type, ...] = (), of_class: bool = False
) -> list[str]:
    """What ``obj`` lacks to satisfy ``protocol``: missing members or unusable signatures.

    Empty when ``obj`` fits. Members of the ``optional`` Protocols may be absent;
    when present they are checked like the others. With ``of_class``, ``obj`` is
    a class whose instances must fit (a request handler class): its methods are
    checked as the instances will call them. Used at load time for plugins and
    by :mod:`cyclone.services` for the services that factories return.
    """
    problems = []
    for group, required in [(protocol, True)] + [(o, False) for o in optional]:
        hints = _attribute_hints(group)
        for attr, method in _protocol_members(group).items():
            problem = _member_problem(obj, attr, method, hints.get(attr), required, of_class)
            if problem:
                problems.append(problem if required else f"optional {problem}")
    return problems


def _attribute_hints(protocol: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(protocol)
    except Exception:  # an annotation that cannot be evaluated is not checked
        return {}


def _member_problem(
    obj: Any,
    attr: str,
    method: Callable[..., Any] | None,
    hint: Any,
    required: bool,
    of_class: bool,
) -> str | None:
    is_call = attr == "__call__"
    if method is None:
        if not hasattr(obj, attr):
            return f"missing attribute {attr!r}" if required else None
        return _type_problem(attr, getattr(obj, attr), hint)
    target = obj if is_call else getattr(obj, attr, None)
    shown = "the object itself" if is_call else f"{attr}()"
    if target is None:
        return f"missing method {attr}()" if required else None
    if not callable(target):
        return f"{shown} must be callable"
    wanted = _required_positional(method)
    bound = wanted
    if not is_call and isinstance(obj, type):
        static = inspect.getattr_static(obj, attr, None)
        if inspect.isfunction(static):
            if not of_class:
                return f"{shown} is an instance method of a class: register an instance instead"
            bound = ["self", *wanted]
    try:
        inspect.signature(target).bind(*bound)
    except TypeError:
        return f"{shown} must accept the arguments ({', '.join(wanted)})"
    except ValueError:
        pass  # no signature to inspect (some builtins): trust it
    return None


def _type_problem(attr: str, value: Any, hint: Any) -> str | None:
    """Whether an attribute's value has the type its Protocol annotates (simple types only)."""
    origin = typing.get_origin(hint) or hint
    if not isinstance(origin, type):
        return None  # Any, unions, type variables: not checked
    args = typing.get_args(hint)
    element = args[0] if args and isinstance(args[0], type) else None
    wanted = origin.__name__ + (f" of {element.__name__}" if element is not None else "")
    if origin is not str and isinstance(value, str):
        return f"{attr!r} must be a {wanted}, got {_kind(value)}"
    if not isinstance(value, origin):
        return f"{attr!r} must be a {wanted}, got {_kind(value)}"
    is_collection = issubclass(origin, collections.abc.Collection) and origin is not str
    if element is not None and is_collection and not issubclass(origin, Mapping):
        for item in value:
            if not isinstance(item, element):
                return f"{attr!r} must be a {wanted}, got an item {_kind(item)}"
    return None


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
