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
from typing import Any

__all__ = [
    "ServeError",
    "endpoint_description",
    "install_second_signal_handlers",
    "listen",
    "load_application",
    "make_endpoint",
    "make_twistd_service",
    "print_error",
    "served_url",
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


def load_application(name: str, command: str | None = None) -> Any:
    """Import ``name`` (an Application, or a callable returning one), the cwd on the path.

    Raises :class:`ServeError`; with ``command`` (the old signature), ``SystemExit``
    carrying the message prefixed by it.
    """
    from cyclone.httpserver import HTTPServer

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj = _import(name)
        if not isinstance(obj, HTTPServer) and callable(obj):
            try:
                obj = obj()
            except Exception as e:
                raise ServeError(
                    f"{name} is not an Application factory: calling it failed: {_describe(e)}",
                    True,
                ) from e
        if not isinstance(obj, HTTPServer):
            raise ServeError(f"{name} is not an Application (got {type(obj).__name__})")
    except ServeError as e:
        if command is None:
            raise
        raise SystemExit(f"{command}: {e}") from None
    return obj


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
        _check_readable(ssl_cert, "certificate")
        _check_readable(ssl_key or ssl_cert, "private key")
    description = endpoint_description(number, listen, unix, ssl_cert, ssl_key)
    try:
        return endpoints.serverFromString(reactor, description)
    except Exception as e:
        if ssl_cert:
            raise ServeError(
                f"cannot use the TLS certificate {ssl_cert} and key {ssl_key or ssl_cert}: "
                f"{_describe(e)}"
            ) from e
        raise ServeError(f"cannot listen as {description}: {_describe(e)}") from e


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


# -- signals ----------------------------------------------------------------------------


def install_second_signal_handlers(reactor: Any, factory: Any, log: Any) -> None:
    """Wrap the reactor's SIGINT/SIGTERM handlers (call once the reactor runs).

    The first signal goes to the reactor as before (a graceful stop: the server stops
    listening and lets in-flight requests finish). A signal that arrives while the
    reactor is already stopping closes the connections still open, without waiting
    for the drain to time out, and no second ``reactor.stop()`` (which would log a
    ``ReactorNotRunning`` traceback).
    """
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
            open_now = len(getattr(factory, "connections", ()))
            log.warn(
                "Received {signal} while shutting down: closing the {count} connection(s)"
                " still open",
                signal=name,
                count=open_now,
            )
            drained = getattr(factory, "drained", None)
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
    """The service ``twistd cyclone`` runs, from the plugin's parsed options."""
    from twisted.application import service
    from twisted.logger import Logger

    log = Logger(namespace="cyclone")
    app = options.get("application") or load_application(options["app"], command="twistd cyclone")
    tls = bool(options["ssl-cert"]) and not options["unix"]

    class CycloneService(service.Service):
        """Listens in ``privilegedStartService`` (before twistd sheds privileges)."""

        name = "cyclone"
        port: Any = None

        def privilegedStartService(self) -> None:
            from twisted.internet import reactor

            super().privilegedStartService()
            try:
                endpoint = make_endpoint(
                    reactor,
                    options["port"],
                    options["listen"],
                    options["unix"],
                    options["ssl-cert"],
                    options["ssl-key"],
                )
                self.port = listen(
                    endpoint, app, options["port"], options["listen"], options["unix"]
                )
            except ServeError as e:
                # Logged for the log file; twistd -n also shows it on stderr, and a
                # daemonizing twistd reports it from the parent. No traceback: see
                # the excepthook.
                log.critical("twistd cyclone: {error}", error=str(e))
                sys.excepthook = _twistd_excepthook(sys.excepthook)
                raise
            log.info(
                "cyclone: serving {app} on {url}",
                app=options["app"],
                url=served_url(self.port.getHost(), tls),
            )

        def startService(self) -> None:
            from twisted.internet import reactor

            if self.port is None:
                self.privilegedStartService()
            super().startService()
            reactor.callWhenRunning(install_second_signal_handlers, reactor, app, log)

        def stopService(self) -> Any:
            from twisted.internet import defer

            super().stopService()
            port, self.port = self.port, None
            if port is None or getattr(port, "disconnecting", False):
                return None  # the server's own shutdown trigger already closed it
            return defer.maybeDeferred(port.stopListening)

    return CycloneService()
