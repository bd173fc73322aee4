"""Services: the named clients (databases, caches, mailers) an Application owns.

Strategy: ``Application(handlers, services={"db": "sqlite:///app.db"})`` hands the
mapping to a :class:`ServiceSet`, which builds every service at once, so a typo
fails when the Application is constructed, not on the first request. The URL
scheme names a factory in ``cyclone.storage`` (then ``cyclone.mail``); options
come from the URL query or from a dict spec, must all be declared in
``factory.options`` and are converted by it; the factory receives the URL
without them. Every configuration problem is a :class:`ServiceConfigError` that
names the key and the URL with its password masked.

Services start in declaration order, one after the other, when the server starts
listening, and stop in reverse order when it stops (after its connections have
drained) or before the reactor shuts down. Starts and stops are queued, so they
never overlap, and both are idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from twisted.internet import defer, reactor
from twisted.logger import Logger
from twisted.python.failure import Failure

from cyclone import plugins

__all__ = [
    "ServiceConfigError",
    "ServiceSet",
    "ServiceStartError",
    "ServiceStopError",
    "UnknownOptionError",
    "create_service",
    "mask_url",
    "parse_options",
]

log = Logger(namespace="cyclone.services")

ServiceSpec = str | Mapping[str, Any]

# Factories are looked up by URL scheme in these groups, first match wins.
SERVICE_GROUPS = (plugins.STORAGE, plugins.MAIL)

_SECRET_OPTIONS = frozenset({"password", "passwd", "pwd", "secret", "token", "api_key"})


class ServiceConfigError(ValueError):
    """A ``services=`` entry cannot be built: bad URL, unknown scheme, bad option."""


class UnknownOptionError(ServiceConfigError, TypeError):
    """An option name the factory does not declare (see :func:`parse_options`)."""


class ServiceStartError(RuntimeError):
    """A service failed to start; the original exception is chained as ``__cause__``."""

    def __init__(self, key: str, url: str, error: BaseException) -> None:
        self.key = key
        self.url = url
        super().__init__(
            f"service {key!r} ({url}) failed to start: {type(error).__name__}: {error}"
        )


class ServiceStopError(RuntimeError):
    """One or more services failed to stop; ``errors`` maps each key to its exception."""

    def __init__(self, errors: dict[str, BaseException]) -> None:
        self.errors = errors
        super().__init__(
            "; ".join(
                f"service {key!r} failed to stop: {type(e).__name__}: {e}"
                for key, e in errors.items()
            )
        )


def mask_url(url: str) -> str:
    """``url`` with the password and secret-looking query values replaced by ``***``."""
    scheme_end = url.find("://")
    if scheme_end >= 0:
        start = scheme_end + 3
        end = len(url)
        for stop in "/?#":
            pos = url.find(stop, start)
            if pos >= 0:
                end = min(end, pos)
        userinfo, at, hostport = url[start:end].rpartition("@")
        if at and ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            url = f"{url[:start]}{user}:***@{hostport}{url[end:]}"
    base, question, query = url.partition("?")
    if not question:
        return url
    query, hash_, fragment = query.partition("#")
    fields = []
    for field in query.split("&"):
        name, eq, _ = field.partition("=")
        fields.append(f"{name}=***" if eq and name.lower() in _SECRET_OPTIONS else field)
    return f"{base}?{'&'.join(fields)}{hash_}{fragment}"


def _split_spec(key: str, spec: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, Mapping):
        url = spec.get("url")
        if not isinstance(url, str):
            raise ServiceConfigError(
                f"services[{key!r}]: a dict spec needs a 'url' string "
                f"(got keys: {', '.join(map(str, spec)) or 'none'})"
            )
        return url, {k: v for k, v in spec.items() if k != "url"}
    raise ServiceConfigError(
        f"services[{key!r}] must be a URL string or a dict with a 'url' key, "
        f"got {type(spec).__name__}"
    )


def _parse_url(url: str, where: str) -> tuple[str, list[tuple[str, str]], str]:
    """``(scheme, query pairs, url without its query)``, or ServiceConfigError."""
    scheme, sep, _ = url.partition("://")
    if not sep or not scheme:
        raise ServiceConfigError(f"{where}: malformed URL: expected scheme://...")
    try:
        parts = urlsplit(url)
        if parts.hostname and "," not in parts.netloc:  # "h1:1,h2:2" lists servers
            parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError as e:
        raise ServiceConfigError(f"{where}: malformed URL: {e}") from None
    if parts.scheme != scheme.lower():
        raise ServiceConfigError(f"{where}: malformed URL: invalid scheme {scheme!r}")
    bare = url
    if parts.query:
        base, _, rest = url.partition("?")
        _, hash_, fragment = rest.partition("#")
        bare = base + hash_ + fragment
    return parts.scheme, pairs, bare


def _find_factory(scheme: str, where: str) -> tuple[str, Any]:
    for group in SERVICE_GROUPS:
        if scheme in plugins.names(group):
            try:
                return group, plugins.load(group, scheme)
            except plugins.PluginError as e:
                raise ServiceConfigError(f"{where}: {e}") from e
    installed = sorted({n for group in SERVICE_GROUPS for n in plugins.names(group)})
    raise ServiceConfigError(
        f"{where}: unknown scheme {scheme!r} (installed: {', '.join(installed) or 'none'}); "
        f"{plugins.install_hint(scheme)}"
    )


def parse_options(
    scheme: str,
    accepted: Mapping[str, Callable[[str], Any]],
    pairs: Iterable[tuple[str, str]],
    given: Mapping[str, Any],
    *,
    where: str,
    given_wins: bool = False,
) -> dict[str, Any]:
    """The options of a ``scheme://`` URL: its query ``pairs``, then the ``given`` keywords.

    Every name must be in ``accepted``, which maps it to its converter (``int``,
    ``float``, ``str``...); string values go through it, other values are taken
    as given. By default a name given twice (twice in the query, or in both the
    query and ``given``) is an error; with ``given_wins`` the later value wins,
    so keywords override the query. Errors start with ``where``: an unknown
    name is an :class:`UnknownOptionError` (also a ``TypeError``, like an
    unexpected keyword argument), the rest are :class:`ServiceConfigError`.
    A bad value of a secret-looking option is shown as ``***``.
    """
    raw: dict[str, Any] = {}
    for source, items in (("URL", pairs), ("dict", given.items())):
        for name, value in items:
            if name in raw and not given_wins:
                twice = "twice in the URL" if source == "URL" else "in both URL and dict"
                raise ServiceConfigError(f"{where}: option {name!r} is given {twice}")
            raw[name] = value
    unknown = [name for name in raw if name not in accepted]
    if unknown:
        raise UnknownOptionError(
            f"{where}: unknown option{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}; {scheme} accepts: "
            f"{', '.join(accepted) or 'no options'}"
        )
    options = {}
    for name, value in raw.items():
        if isinstance(value, str):
            try:
                value = accepted[name](value)
            except Exception as e:
                shown = "***" if name.lower() in _SECRET_OPTIONS else repr(value)
                raise ServiceConfigError(
                    f"{where}: bad value {shown} for option {name!r}: {type(e).__name__}: {e}"
                ) from e
        options[name] = value
    return options


def create_service(key: str, spec: ServiceSpec) -> Any:
    """Build (without starting) the service described by ``spec`` for ``services[key]``."""
    url, given = _split_spec(key, spec)
    where = f"services[{key!r}] ({mask_url(url)})"
    scheme, pairs, bare_url = _parse_url(url, where)
    group, factory = _find_factory(scheme, where)
    options = parse_options(scheme, factory.options, pairs, given, where=where)
    try:
        service = factory(bare_url, **options)
    except Exception as e:
        raise ServiceConfigError(f"{where}: {type(e).__name__}: {e}") from e
    group_contract = plugins.CONTRACTS[group]
    contract = group_contract.returns or plugins.Service
    problems = plugins.contract_problems(
        service, contract, optional=group_contract.returns_optional
    )
    if problems:
        raise ServiceConfigError(
            f"{where}: the {scheme!r} factory returned {type(service).__name__}, "
            f"which is not a service: {'; '.join(problems)}"
        )
    return service


class ServiceSet(Mapping[str, Any]):
    """The services of an Application, by name; starts and stops them as a whole.

    ``specs`` maps each name to a URL or to ``{"url": ..., option: value}``.
    Names must be identifiers and must not be in ``reserved`` (the other settings).
    """

    def __init__(
        self, specs: Mapping[str, ServiceSpec] | None = None, reserved: Container[str] = ()
    ) -> None:
        if specs is None:
            specs = {}
        if not isinstance(specs, Mapping):
            raise ServiceConfigError(
                f"services= must map names to URLs, got {type(specs).__name__}"
            )
        self._services: dict[str, Any] = {}
        self._urls: dict[str, str] = {}
        for key, spec in specs.items():
            if not isinstance(key, str) or not key.isidentifier():
                raise ServiceConfigError(f"services: the name {key!r} must be an identifier")
            if key in reserved:
                raise ServiceConfigError(
                    f"services[{key!r}]: the name is already used by a setting"
                )
            self._services[key] = create_service(key, spec)
            self._urls[key] = mask_url(_split_spec(key, spec)[0])
        self._started: list[str] = []
        self._lock = defer.DeferredLock()
        self._shutdown_trigger: Any = None

    def __getitem__(self, key: str) -> Any:
        return self._services[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._services)

    def __len__(self) -> int:
        return len(self._services)

    def __repr__(self) -> str:
        return f"<ServiceSet {', '.join(f'{k}={u}' for k, u in self._urls.items())}>"

    @property
    def started(self) -> list[str]:
        """The names of the running services, in the order they started."""
        return list(self._started)

    def start(self) -> defer.Deferred[None]:
        """Start every service not yet running, in order; fires once all have started.

        When one fails, the ones started before it are stopped again and the
        Deferred fails with :class:`ServiceStartError`.
        """
        return self._lock.run(lambda: defer.ensureDeferred(self._start_all()))

    def stop(self, timeout: float | None = None) -> defer.Deferred[None]:
        """Stop every running service, in reverse order; fires once all have stopped.

        Every service is asked to stop even when another fails; failures (and, with
        ``timeout``, stops that take longer) make the Deferred fail with
        :class:`ServiceStopError`.
        """
        return self._lock.run(lambda: defer.ensureDeferred(self._stop_all(timeout)))

    async def _start_all(self) -> None:
        for key, service in self._services.items():
            if key in self._started:
                continue
            try:
                await defer.maybeDeferred(service.start)
            except Exception as e:
                error = ServiceStartError(key, self._urls[key], e)
                try:
                    await self._stop_all(None)
                except ServiceStopError as stop_error:
                    log.error("after {error}: {stop_error}", error=error, stop_error=stop_error)
                raise error from e
            self._started.append(key)

    async def _stop_all(self, timeout: float | None) -> None:
        errors: dict[str, BaseException] = {}
        while self._started:
            key = self._started.pop()
            d = defer.maybeDeferred(self._services[key].stop)
            if timeout is not None:
                d.addTimeout(timeout, reactor)
            try:
                await d
            except defer.TimeoutError:
                errors[key] = TimeoutError(f"did not stop within {timeout}s")
            except Exception as e:
                errors[key] = e
        if errors:
            raise ServiceStopError(errors)

    # -- following a server's life ------------------------------------------------------

    def server_started(self, server: Any) -> None:
        """``server`` started listening: start, and stop before the reactor shuts down."""
        if not self._services:
            return
        if self._shutdown_trigger is None:
            self._shutdown_trigger = reactor.addSystemEventTrigger(
                "before", "shutdown", self._stop_at_shutdown, server
            )
        self.start().addErrback(self._log, "start")

    def server_stopped(self, server: Any) -> None:
        """``server`` stopped listening: stop once its connections have closed."""
        if not self._services:
            return
        d = server.drained()
        d.addCallback(lambda _: self.stop())
        d.addErrback(self._log, "stop")

    def _stop_at_shutdown(self, server: Any) -> defer.Deferred[None]:
        self._shutdown_trigger = None
        timeout = float(getattr(server, "shutdown_timeout", 10.0))
        d = server.drained(timeout=timeout)
        d.addBoth(lambda _: self.stop(timeout=timeout))
        d.addErrback(self._log, "stop")
        return d

    def _log(self, failure: Failure, action: str) -> None:
        log.failure(
            "services failed to {action}: {message}",
            failure,
            action=action,
            message=failure.getErrorMessage(),
        )
