"""cyclone 1.x's Bottle-style API: plain functions routed with a decorator.

For the simple::

    from cyclone.bottle import route, run

    @route("/")
    def index(req):
        req.write("Hello, world")

    @route("/hello/(\\w+)", method="POST")
    async def hello(req, name):
        return {"hello": name}

    run(host="127.0.0.1", port=8888)

Each function receives the request handler (a :class:`cyclone.web.RequestHandler`,
with ``write``, ``get_argument``, ``render``, ``settings``...) and the path's
groups. Whatever it returns, when not ``None``, is written (a ``dict`` as JSON);
it may be ``async def``, ``@inlineCallbacks`` or return a Deferred.
``method="ANY"`` answers every method not routed otherwise. Routes with the
same path share one handler class, in the order they were first declared.
:func:`create_app` builds the :class:`cyclone.web.Application`; :func:`run`
also listens and runs the reactor. The module-level functions use one shared
:class:`App`; make an ``App()`` of your own to keep route sets apart.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any, TypeVar

from twisted.internet.defer import Deferred

from cyclone.web import Application, RequestHandler, URLSpec

__all__ = ["App", "create_app", "default_app", "route", "run"]

F = TypeVar("F", bound=Callable[..., Any])

ANY = "ANY"


def _as_method(callback: Callable[..., Any]) -> Callable[..., Any]:
    """A handler method that calls ``callback(handler, *path_args)`` and writes its result."""

    def method(self: RequestHandler, *args: Any, **kwargs: Any) -> Any:
        result = callback(self, *args, **kwargs)
        if isinstance(result, Deferred) or inspect.isawaitable(result):
            return _write_later(self, result)
        if result is not None:
            self.write(result)
        return None

    method.__name__ = getattr(callback, "__name__", "route")
    method.__doc__ = getattr(callback, "__doc__", None)
    return method


async def _write_later(handler: RequestHandler, pending: Any) -> None:
    result = await pending
    if result is not None and not handler.is_finished():
        handler.write(result)


class App:
    """A set of Bottle-style routes and the Application made from them."""

    def __init__(self) -> None:
        # path -> {METHOD: callback}, in the order paths were first routed.
        self._routes: dict[str, dict[str, Callable[..., Any]]] = {}
        self._names: dict[str, str] = {}

    def route(
        self,
        path: str | Callable[..., Any] = "/",
        method: str | Iterable[str] = "GET",
        callback: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
    ) -> Any:
        """Route ``method`` requests for ``path`` (a regular expression) to a function.

        Used as ``@route("/path", method="POST")``, as a bare ``@route`` (the
        path is ``/``) or called as ``route("/path", callback=function)``.
        ``method`` is a name, a list of names or ``"ANY"``; ``name`` names the
        route for ``reverse_url``. The function is returned unchanged.
        """
        if callable(path):  # a bare @route
            return self.route("/", method, name=name)(path)
        methods = [method] if isinstance(method, str) else list(method)
        if not methods:
            raise ValueError(f"route {path!r}: no method given")

        def register(function: F) -> F:
            table = self._routes.setdefault(path, {})
            for each in methods:
                upper = each.upper()
                if upper in table:
                    raise ValueError(
                        f"route {path!r}: {upper} is already routed to {table[upper].__name__}"
                    )
                table[upper] = function
            if name is not None:
                if self._names.get(name, path) != path:
                    raise ValueError(
                        f"route name {name!r} is already used for {self._names[name]!r}"
                    )
                self._names[name] = path
            return function

        if callback is not None:
            register(callback)
            return callback
        return register

    def handlers(self, base_handler: type[RequestHandler] = RequestHandler) -> list[URLSpec]:
        """One URLSpec per routed path, each with a handler class derived from ``base_handler``."""
        names = {path: name for name, path in self._names.items()}
        specs = []
        for path, table in self._routes.items():
            namespace: dict[str, Any] = {
                m.lower(): _as_method(f) for m, f in table.items() if m != ANY
            }
            if ANY in table:
                for m in base_handler.SUPPORTED_METHODS:
                    namespace.setdefault(m.lower(), _as_method(table[ANY]))
                extra = tuple(
                    m for m in table if m != ANY and m not in base_handler.SUPPORTED_METHODS
                )
                namespace["SUPPORTED_METHODS"] = (*base_handler.SUPPORTED_METHODS, *extra)
            else:
                unsupported = [m for m in table if m not in base_handler.SUPPORTED_METHODS]
                if unsupported:
                    namespace["SUPPORTED_METHODS"] = (*base_handler.SUPPORTED_METHODS, *unsupported)
            namespace["__doc__"] = f"Bottle-style routes of {path!r}."
            handler = type(f"BottleHandler[{path}]", (base_handler,), namespace)
            specs.append(URLSpec(path, handler, name=names.get(path)))
        return specs

    def create_app(
        self,
        base_handler: type[RequestHandler] = RequestHandler,
        more_handlers: Sequence[Any] = (),
        **settings: Any,
    ) -> Application:
        """The Application serving the routes, then ``more_handlers`` (regular handler specs).

        ``base_handler`` is the class the route handlers derive from (to share
        ``get_current_user``, ``prepare``...); other keywords are Application
        settings.
        """
        return Application([*self.handlers(base_handler), *more_handlers], **settings)

    def run(
        self,
        host: str = "0.0.0.0",
        port: int = 8888,
        log: IO[str] | None = None,
        **settings: Any,
    ) -> None:
        """Serve the routes on ``host:port`` until the process is stopped (SIGINT, SIGTERM).

        Log lines go to ``log`` (stdout by default). Other keywords go to
        :meth:`create_app`. A port that cannot be opened ends the process with
        a one-line message and status 1.
        """
        from twisted.internet import reactor
        from twisted.logger import Logger, globalLogBeginner, textFileLogObserver

        from cyclone._serve import (
            ServeError,
            install_second_signal_handlers,
            listen,
            make_endpoint,
            served_url,
        )

        app = self.create_app(**settings)
        try:
            endpoint = make_endpoint(reactor, port, host)
            listening = listen(endpoint, app, port, host)
        except ServeError as e:
            print(f"cyclone.bottle: {e}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        out = sys.stdout if log is None else log
        print(f"cyclone.bottle: serving on {served_url(listening.getHost())}", file=out, flush=True)
        globalLogBeginner.beginLoggingTo([textFileLogObserver(out)], redirectStandardIO=False)
        logger = Logger(namespace="cyclone.bottle")
        reactor.callWhenRunning(install_second_signal_handlers, reactor, [app], logger)
        reactor.run()


default_app = App()
"""The routes of the module-level :func:`route`, :func:`create_app` and :func:`run`."""


def route(
    path: str | Callable[..., Any] = "/",
    method: str | Iterable[str] = "GET",
    callback: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
) -> Any:
    """Route requests to a function in :data:`default_app` (see :meth:`App.route`)."""
    return default_app.route(path, method, callback, name=name)


def create_app(**settings: Any) -> Application:
    """The Application of :data:`default_app` (see :meth:`App.create_app`)."""
    return default_app.create_app(**settings)


def run(
    host: str = "0.0.0.0", port: int = 8888, log: IO[str] | None = None, **settings: Any
) -> None:
    """Serve :data:`default_app` (see :meth:`App.run`)."""
    default_app.run(host=host, port=port, log=log, **settings)
