"""What `cyclone run` and the twistd plugin share.

Loading the application, naming and opening the endpoint, the one-line messages a
user sees when either fails, the URL announced once listening, and the signal
handlers that make a second SIGINT/SIGTERM during the graceful drain close the
remaining connections instead of logging a traceback.

Nothing here imports the reactor at module level: twistd imports the plugin (and so
this module) while it looks for plugins, before ``--reactor`` has been applied.
"""

from __future__ import annotations

import errno
import importlib
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from cyclone._options import Listener

__all__ = [
    "ServeError",
    "endpoint_description",
    "install_second_signal_handlers",
    "listen",
    "listen_all",
    "load_application",
    "load_applications",
    "make_endpoint",
    "make_twistd_service",
    "print_error",
    "served_url",
    "start_logging",
    "tls_options",
]


class ServeError(Exception):
    """A startup failure the user can fix; ``str()`` is the whole, one-line explanation.

    ``traceback_helps``: the cause raised inside the user's code, so ``--debug`` (its
    traceback) is worth suggesting.
    """

    def __init__(self, message: str, traceback_helps: bool = False) -> None:
        super().__init__(message)
        self.traceback_helps = traceback_helps


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _import(name: str) -> Any:
    """``package.module.attr`` or ``package.module:attr`` (a bare module name too)."""
    if ":" in name:
        module_name, _, attr = name.partition(":")
    elif "." in name:
        module_name, _, attr = name.rpartition(".")
    else:
        module_name, attr = name, ""
    if not module_name:
        raise ServeError(f"cannot load {name!r}: expected package.module.Application")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        missing = e.name or ""
        if missing == module_name or module_name.startswith(missing + "."):
            raise ServeError(f"cannot load {name}: no module named {missing!r}") from e
        # The module exists but something it imports does not.
        raise ServeError(
            f"cannot load {name}: importing {module_name} failed: {_describe(e)}", True
        ) from e
    except Exception as e:
        raise ServeError(
            f"cannot load {name}: importing {module_name} failed: {_describe(e)}", True
        ) from e
    if not attr:
        return module
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ServeError(
                f"cannot load {name}: module {module_name!r} has no attribute {attr!r}"
            ) from None
    return obj


def _call_factory(name: str, factory: Any, appopts: str | None) -> Any:
    """``factory(appopts)`` when given (or required), else ``factory()``."""
    import inspect

    try:
        signature: inspect.Signature | None = inspect.signature(factory)
    except (TypeError, ValueError):
        signature = None  # no signature to check (a builtin): just call it
    args: tuple[Any, ...] = () if appopts is None else (appopts,)
    if signature is not None:
        try:
            signature.bind(*args)
        except TypeError:
            if appopts is None:
                raise ServeError(
                    f"{name} is not an Application factory without arguments"
                    " (one that takes a string is given it with --appopts/-c)"
                ) from None
            raise ServeError(f"{name} takes no argument, so it cannot be given --appopts") from None
    try:
        return factory(*args)
    except Exception as e:
        raise ServeError(
            f"{name} is not an Application factory: calling it failed: {_describe(e)}",
            True,
        ) from e


def load_application(name: str, command: str | None = None, *, appopts: str | None = None) -> Any:
    """Import ``name`` (an Application, or a callable returning one), the cwd on the path.

    ``appopts`` (``--appopts``) is passed to the factory: ``Application(appopts)``.
    Raises :class:`ServeError`; with ``command`` (the old signature), ``SystemExit``
    carrying the message prefixed by it.
    """
    from cyclone.httpserver import HTTPServer

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj = _import(name)
        if isinstance(obj, HTTPServer):
            if appopts is not None:
                raise ServeError(
                    f"{name} is an Application, not a factory: --appopts needs a function"
                    " or class that takes one argument"
                )
        elif callable(obj):
            obj = _call_factory(name, obj, appopts)
        if not isinstance(obj, HTTPServer):
            raise ServeError(f"{name} is not an Application (got {type(obj).__name__})")
    except ServeError as e:
        if command is None:
            raise
        raise SystemExit(f"{command}: {e}") from None
    return obj


def load_applications(listeners: Sequence[Listener]) -> dict[tuple[str, str | None], Any]:
    """One Application per distinct (name, appopts): ``--app X --ssl-app X`` share one."""
    apps: dict[tuple[str, str | None], Any] = {}
    for listener in listeners:
        key = (listener.app, listener.appopts)
        if key not in apps:
            apps[key] = load_application(listener.app, appopts=listener.appopts)
    return apps


def print_error(command: str, error: BaseException, debug: bool = False) -> None:
    """The one line for ``error``; with ``debug``, the traceback of its cause first."""
    cause = error.__cause__
    if debug and cause is not None:
        traceback.print_exception(type(cause), cause, cause.__traceback__, file=sys.stderr)
    helps = getattr(error, "traceback_helps", False)
    hint = " (--debug shows the traceback)" if helps and not debug else ""
    print(f"{command}: {error}{hint}", file=sys.stderr, flush=True)


# -- endpoints --------------------------------------------------------------------------


def _quote(value: str) -> str:
    from twisted.internet.endpoints import quoteStringArgument

    return quoteStringArgument(str(value))


def endpoint_description(
    port: int | str,
    listen: str,
    unix: str | None = None,
    ssl_cert: str | None = None,
    ssl_key: str | None = None,
) -> str:
    """A Twisted server endpoint string for these listening options."""
    if unix:
        return f"unix:{_quote(unix)}"
    interface = _quote(listen)
    if ssl_cert:
        key = ssl_key or ssl_cert
        return (
            f"ssl:{port}:interface={interface}:certKey={_quote(ssl_cert)}:privateKey={_quote(key)}"
        )
    return f"tcp:{port}:interface={interface}"


def _where(port: int | str, listen: str, unix: str | None) -> str:
    if unix:
        return unix
    host = f"[{listen}]" if ":" in listen else listen
    return f"{host}:{port}"


_HINTS = {
    errno.EADDRINUSE: "another process is listening there",
    errno.EADDRNOTAVAIL: "no interface of this machine has that address",
    errno.EACCES: "ports below 1024 need privileges",
}


def _listen_reason(exc: BaseException) -> str:
    from twisted.internet.error import CannotListenError

    cause: Any = exc.socketError if isinstance(exc, CannotListenError) else exc
    number = getattr(cause, "errno", None)
    if isinstance(cause, OSError) and number:
        reason = os.strerror(number).lower()
        hint = _HINTS.get(number)
        return f"{reason} ({hint})" if hint else reason
    if isinstance(cause, BaseException):
        return _describe(cause)
    return str(cause)


def _check_readable(path: str, what: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as e:
        reason = os.strerror(e.errno).lower() if e.errno else str(e)
        raise ServeError(f"cannot read the TLS {what} {path}: {reason}") from None


def make_endpoint(
    reactor: Any,
    port: int | str,
    listen: str,
    unix: str | None = None,
    ssl_cert: str | None = None,
    ssl_key: str | None = None,
) -> Any:
    """The server endpoint; bad options or TLS files raise :class:`ServeError`."""
    from twisted.internet import endpoints

    try:
        number = int(port)
    except (TypeError, ValueError):
        raise ServeError(f"the port must be a number, not {port!r}") from None
    if not unix and not 0 <= number <= 65535:
        raise ServeError(f"the port must be between 0 and 65535, not {number}")
    if ssl_cert and not unix:
        options = tls_options(ssl_cert, ssl_key or ssl_cert)
        return endpoints.SSL4ServerEndpoint(reactor, number, options, interface=listen)
    description = endpoint_description(number, listen, unix)
    try:
        return endpoints.serverFromString(reactor, description)
    except Exception as e:
        raise ServeError(f"cannot listen as {description}: {_describe(e)}") from e


def tls_options(cert: str, key: str) -> Any:
    """The server's TLS context from PEM files; :class:`ServeError` when they cannot be used.

    Certificates after the first in ``cert`` are sent as the chain (a ``fullchain.pem``
    works as is). ALPN is offered from the served factory's ``acceptableProtocols``.
    """
    import re

    from twisted.internet import ssl

    _check_readable(cert, "certificate")
    _check_readable(key, "private key")
    try:
        with open(cert, "rb") as f:
            cert_pem = f.read()
        with open(key, "rb") as f:
            key_pem = f.read()
        private = ssl.PrivateCertificate.loadPEM(cert_pem + b"\n" + key_pem)
        blocks = re.findall(
            rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", cert_pem, flags=re.DOTALL
        )
        chain = [ssl.Certificate.loadPEM(block).original for block in blocks[1:]]
        return ssl.CertificateOptions(
            privateKey=private.privateKey.original,
            certificate=private.original,
            extraCertChain=chain or None,
        )
    except Exception as e:
        raise ServeError(
            f"cannot use the TLS certificate {cert} and key {key}: {_describe(e)}"
        ) from e


def served_url(address: Any, tls: bool = False) -> str:
    """``http://127.0.0.1:8888/``, ``https://[::1]:8443/``, or the socket path for UNIX."""
    from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress

    if isinstance(address, UNIXAddress):
        name = address.name
        path = name.decode() if isinstance(name, bytes) else str(name)
        return f"unix:{path}"
    if isinstance(address, (IPv4Address, IPv6Address)):
        host = f"[{address.host}]" if isinstance(address, IPv6Address) else address.host
        scheme = "https" if tls else "http"
        return f"{scheme}://{host}:{address.port}/"
    return str(address)


def listen(
    endpoint: Any, factory: Any, port: int | str, listen: str, unix: str | None = None
) -> Any:
    """Listen now; the listening port, or :class:`ServeError` with the reason.

    TCP, TLS and UNIX endpoints listen synchronously: their Deferred has fired when
    ``endpoint.listen`` returns, so the answer is known before the reactor runs.
    """
    outcome: list[Any] = []
    d = endpoint.listen(factory)
    d.addBoth(outcome.append)
    if not outcome:
        d.cancel()
        raise ServeError(f"cannot listen on {_where(port, listen, unix)}: it did not answer")
    result = outcome[0]
    from twisted.python.failure import Failure

    if isinstance(result, Failure):
        raise ServeError(
            f"cannot listen on {_where(port, listen, unix)}: {_listen_reason(result.value)}"
        )
    return result


def listen_all(reactor: Any, listeners: Sequence[Listener], apps: dict[Any, Any]) -> list[Any]:
    """Listen on every listener now (its ports, in order), or close them all and raise."""
    ports: list[Any] = []
    try:
        for listener in listeners:
            endpoint = make_endpoint(
                reactor,
                listener.port,
                listener.interface,
                listener.unix,
                listener.cert,
                listener.key,
            )
            app = apps[(listener.app, listener.appopts)]
            ports.append(listen(endpoint, app, listener.port, listener.interface, listener.unix))
    except ServeError:
        for port in ports:
            port.stopListening()
        raise
    return ports


def start_logging(quiet: bool = False, tag: str | None = None) -> None:
    """The access log and everything else on stdout; with ``quiet``, warnings up on stderr.

    ``tag`` (``worker 1234``) follows the system of each line, so the lines of
    several worker processes sharing one output can be told apart.
    """
    from twisted.logger import (
        FileLogObserver,
        FilteringLogObserver,
        LogLevel,
        LogLevelFilterPredicate,
        formatEventAsClassicLogText,
        globalLogBeginner,
    )

    def format_event(event: dict[str, Any]) -> str | None:
        if tag is not None:
            level = event.get("log_level")
            system = event.get("log_system") or "{}#{}".format(
                event.get("log_namespace", "-"), getattr(level, "name", "-")
            )
            event = {**event, "log_system": f"{system} {tag}"}
        return formatEventAsClassicLogText(event)

    observer: Any = FileLogObserver(sys.stderr if quiet else sys.stdout, format_event)
    if quiet:
        observer = FilteringLogObserver(
            observer, [LogLevelFilterPredicate(defaultLogLevel=LogLevel.warn)]
        )
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)


# -- signals ----------------------------------------------------------------------------


def install_second_signal_handlers(
    reactor: Any, factory: Any, log: Any, on_second: Any = None
) -> None:
    """Wrap the reactor's SIGINT/SIGTERM handlers (call once the reactor runs).

    The first signal goes to the reactor as before (a graceful stop: the server stops
    listening and lets in-flight requests finish). A signal that arrives while the
    reactor is already stopping closes the connections still open, without waiting
    for the drain to time out, and no second ``reactor.stop()`` (which would log a
    ``ReactorNotRunning`` traceback). ``factory`` is one server factory or a list of
    them; ``on_second`` (called with the signal's name) replaces the closing.
    """
    factories = list(factory) if isinstance(factory, (list, tuple)) else [factory]
    signalled: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(signum)
        if not callable(previous):
            continue  # the reactor did not install one (installSignalHandlers=False)

        def handler(number: int, frame: Any, previous: Any = previous) -> None:
            # The reactor's handler only schedules reactor.stop(): remember the first
            # signal ourselves, as _stopped is not set until that call runs.
            if not signalled and not getattr(reactor, "_stopped", False):
                signalled.append(number)
                previous(number, frame)
                return
            name = signal.Signals(number).name
            if on_second is not None:
                reactor.callFromThread(on_second, name)
                return
            open_now = sum(len(getattr(f, "connections", ())) for f in factories)
            log.warn(
                "Received {signal} while shutting down: closing the {count} connection(s)"
                " still open",
                signal=name,
                count=open_now,
            )
            for f in factories:
                drained = getattr(f, "drained", None)
                if drained is not None:
                    reactor.callFromThread(drained, 0)

        signal.signal(signum, handler)


# -- twistd -----------------------------------------------------------------------------


def _twistd_excepthook(previous: Any) -> Any:
    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        if isinstance(value, ServeError):
            line = f"twistd cyclone: {value}\n"
            real = sys.__stderr__
            if real is not None:
                real.write(line)
                real.flush()
            return
        previous(kind, value, tb)

    return hook


def make_twistd_service(options: Any) -> Any:
    """The service ``twistd cyclone`` runs, from the plugin's parsed options.

    ``options["listeners"]`` and ``options["applications"]`` are what the plugin
    planned and loaded while parsing (so an app that does not import is a usage
    error, before twistd daemonizes).
    """
    from twisted.application import service
    from twisted.logger import Logger

    log = Logger(namespace="cyclone")
    listeners: list[Listener] = options["listeners"]
    apps = options["applications"]

    class CycloneService(service.Service):
        """Listens in ``privilegedStartService`` (before twistd sheds privileges)."""

        name = "cyclone"
        ports: list[Any] | None = None

        def privilegedStartService(self) -> None:
            from twisted.internet import reactor

            super().privilegedStartService()
            try:
                self.ports = listen_all(reactor, listeners, apps)
            except ServeError as e:
                # Logged for the log file; twistd -n also shows it on stderr, and a
                # daemonizing twistd reports it from the parent. No traceback: see
                # the excepthook.
                log.critical("twistd cyclone: {error}", error=str(e))
                sys.excepthook = _twistd_excepthook(sys.excepthook)
                raise
            for listener, port in zip(listeners, self.ports, strict=True):
                log.info(
                    "cyclone: serving {app} on {url}",
                    app=listener.app,
                    url=served_url(port.getHost(), listener.tls and not listener.unix),
                )

        def startService(self) -> None:
            from twisted.internet import reactor

            if self.ports is None:
                self.privilegedStartService()
            super().startService()
            reactor.callWhenRunning(
                install_second_signal_handlers, reactor, list(apps.values()), log
            )

        def stopService(self) -> Any:
            from twisted.internet import defer

            super().stopService()
            ports, self.ports = self.ports or [], None
            # A port the server's own shutdown trigger already closed is left alone.
            open_ports = [p for p in ports if not getattr(p, "disconnecting", False)]
            if not open_ports:
                return None
            return defer.DeferredList([defer.maybeDeferred(p.stopListening) for p in open_ports])

    return CycloneService()
