"""Application: routes requests to handlers and is itself a Twisted server factory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred

from cyclone._accesslog import AccessLog
from cyclone._errors import HTTPError
from cyclone._handler import RequestHandler
from cyclone._request import HTTPRequest
from cyclone._routing import HostRules, URLSpec, unquote_path_arg
from cyclone._static import static_routes
from cyclone._transforms import GZipContentEncoding
from cyclone._uimodule import BUILTIN_UI_MODULES, UIModule, load_ui_methods, load_ui_modules
from cyclone._util import ObjectDict, import_object
from cyclone.httpserver import HTTPServer
from cyclone.httputil import HTTPLimits
from cyclone.services import ServiceSet
from cyclone.settings import (
    ACCESS_LOG_FILE,
    ACCESS_LOG_FLUSH_INTERVAL,
    COMPRESS_RESPONSE,
    DEBUG,
    DEFAULT_HANDLER_ARGS,
    DEFAULT_HANDLER_CLASS,
    GZIP,
    LOG_FUNCTION,
    SERVICES,
    SHUTDOWN_TIMEOUT,
    UI_METHODS,
    UI_MODULES,
    XHEADERS,
    check_settings,
)
from cyclone.template import BaseLoader

_seconds = reactor.seconds  # type: ignore[attr-defined]

HandlerSpec = URLSpec | tuple[Any, ...]


class ErrorHandler(RequestHandler):
    """Answers every request with ``status_code`` (404 for unmatched paths)."""

    def initialize(self, status_code: int) -> None:
        self.set_status(status_code)

    def prepare(self) -> None:
        raise HTTPError(self.get_status())

    def check_xsrf_cookie(self) -> None:
        # A 404 must stay a 404, whatever the XSRF state of the request.
        pass


class Application(HTTPServer):
    """A collection of handlers that make up a web application.

    ``Application(handlers, default_host="", transforms=None, error_handler=None,
    **settings)``: ``handlers`` is a list of ``(regex, Handler[, kwargs])`` tuples
    or :class:`url` objects (the handler may be a dotted name to import).
    ``default_host`` picks the virtual host when the Host header matches none;
    ``error_handler`` (an :class:`ErrorHandler` subclass, built with
    ``status_code=404``) answers paths no route matches, unless the
    ``default_handler_class`` setting (with ``default_handler_args``) is given.
    The Application is a Twisted ``ServerFactory``, so ``reactor.listenTCP(8888, app)``
    serves it. Every keyword argument becomes a
    setting, reachable as ``self.settings.name`` in handlers; server limits
    (see :class:`~cyclone.httputil.HTTPLimits`) and ``xheaders`` are settings too.
    """

    def __init__(
        self,
        handlers: Sequence[HandlerSpec] | None = None,
        default_host: str = "",
        transforms: Sequence[type] | None = None,
        error_handler: type[RequestHandler] | None = None,
        **settings: Any,
    ) -> None:
        services = SERVICES.of(settings)
        check_settings(settings, others=iter(services or ()))
        self.settings = ObjectDict(settings)
        if DEBUG.of(settings):
            self.settings.setdefault("serve_traceback", True)
            self.settings.setdefault("compiled_template_cache", False)
            self.settings.setdefault("static_hash_cache", False)
        super().__init__(
            None, xheaders=bool(XHEADERS.of(settings)), limits=HTTPLimits.from_settings(settings)
        )
        self.shutdown_timeout = float(SHUTDOWN_TIMEOUT.of(settings))
        self.services = ServiceSet(services, reserved=self.settings)
        self.settings.update(self.services)
        if transforms is None:
            self.transforms: list[type] = []
            if COMPRESS_RESPONSE.of(settings) or GZIP.of(settings):
                self.transforms.append(GZipContentEncoding)
        else:
            self.transforms = list(transforms)
        self.default_host = default_host
        self.error_handler = error_handler
        # Resolved once: the handler for paths no route matches, and its arguments.
        default_class = DEFAULT_HANDLER_CLASS.of(settings)
        if isinstance(default_class, str):
            default_class = import_object(default_class)
        if default_class is not None:
            self._not_found: tuple[type[RequestHandler], dict[str, Any]] = (
                default_class,
                DEFAULT_HANDLER_ARGS.of(settings) or {},
            )
        else:
            self._not_found = (error_handler or ErrorHandler, {"status_code": 404})
        self.handlers = HostRules()
        self.named_handlers: dict[str, URLSpec] = {}
        self._single_host: list[URLSpec] | None = None
        self._log_function: Callable[[RequestHandler], None] | None = LOG_FUNCTION.of(settings)
        interval = float(ACCESS_LOG_FLUSH_INTERVAL.of(settings))
        if not 0 <= interval <= 60:
            raise ValueError(f"access_log_flush_interval must be 0 to 60 seconds, not {interval!r}")
        #: The access log (None when ``log_function`` replaces it).
        self.access_log: AccessLog | None = (
            AccessLog(ACCESS_LOG_FILE.of(settings), interval)
            if self._log_function is None
            else None
        )
        self.ui_modules: dict[str, type[UIModule]] = {
            **BUILTIN_UI_MODULES,
            **load_ui_modules(UI_MODULES.of(settings) or {}),
        }
        self.ui_methods: dict[str, Callable[..., Any]] = load_ui_methods(
            UI_METHODS.of(settings) or {}
        )
        # One loader per template directory, filled by the handlers that render.
        self.template_loaders: dict[str, BaseLoader] = {}
        static = static_routes(self.settings)
        if static:
            handlers = [*static, *(handlers or ())]
        if handlers:
            self.add_handlers(".*$", handlers)

    def add_handlers(self, host_pattern: str, host_handlers: Sequence[HandlerSpec]) -> None:
        """Add handlers for a virtual host; patterns are tried in order."""
        specs: list[URLSpec] = []
        for spec in host_handlers:
            if isinstance(spec, (tuple, list)):
                if not 2 <= len(spec) <= 4:
                    raise ValueError(f"handler spec must have 2 to 4 items: {spec!r}")
                spec = URLSpec(*spec)
            if not isinstance(spec, URLSpec):
                raise TypeError(f"unsupported handler spec {spec!r}")
            specs.append(spec)
            if spec.name:
                if spec.name in self.named_handlers:
                    raise ValueError(f"two handlers are named {spec.name!r}")
                self.named_handlers[spec.name] = spec
        self.handlers.add(host_pattern, specs)
        rules = self.handlers.rules
        self._single_host = (
            rules[0][1] if len(rules) == 1 and rules[0][0].pattern == ".*$" else None
        )

    def reverse_url(self, name: str, *args: Any) -> str:
        """The path of the handler named ``name``, with ``args`` filling its groups."""
        spec = self.named_handlers.get(name)
        if spec is None:
            raise KeyError(f"no handler named {name!r}")
        return spec.reverse(*args)

    def start_services(self) -> Deferred[None]:
        """Start the ``services=`` in order (done when the first port listens)."""
        return self.services.start()

    def stop_services(self) -> Deferred[None]:
        """Stop the ``services=`` in reverse order (done when the server stops)."""
        return self.services.stop()

    def startFactory(self) -> None:
        super().startFactory()
        self.services.server_started(self)

    def stopFactory(self) -> None:
        super().stopFactory()
        self.services.server_stopped(self)
        log = self.access_log
        if log is not None:
            log.stop()
            # The requests still in flight finish after this: their lines are
            # written once the last connection has closed.
            self.drained().addCallback(lambda _: log.stop())

    def _find_handler(
        self, request: HTTPRequest
    ) -> tuple[type[RequestHandler], dict[str, Any], list[str], dict[str, str]]:
        specs = self._single_host
        if specs is None:
            specs = self.handlers.for_host(request.host_name, self.default_host) or []
        path = request.path
        for spec in specs:
            literal = spec.literal
            if literal is not None:
                # A plain-text pattern: a string comparison does the regex's work.
                if path == literal:
                    return spec.handler_class, spec.kwargs, [], {}
                continue
            match = spec.regex.match(path)
            if match is None:
                continue
            if not spec.group_count:
                return spec.handler_class, spec.kwargs, [], {}
            if spec.regex.groupindex:
                kwargs = {k: unquote_path_arg(v) for k, v in match.groupdict().items()}
                return spec.handler_class, spec.kwargs, [], kwargs  # type: ignore[return-value]
            args = [unquote_path_arg(g) for g in match.groups()]
            return spec.handler_class, spec.kwargs, args, {}  # type: ignore[return-value]
        handler_class, kwargs = self._not_found
        return handler_class, kwargs, [], {}

    def __call__(self, request: HTTPRequest) -> None:
        """Route ``request`` to its handler and run it."""
        handler_class, kwargs, args, path_kwargs = self._find_handler(request)
        transforms = [t(request) for t in self.transforms] if self.transforms else ()
        try:
            handler = handler_class(self, request, **kwargs)
        except Exception as e:
            fallback = ErrorHandler(self, request, status_code=500)
            fallback.handle_request_exception(e)
            return
        handler.execute_request(transforms, args, path_kwargs)

    request_callback = __call__  # type: ignore[assignment]

    def log_request(self, handler: RequestHandler) -> None:
        """Log one line per finished request; the ``log_function`` setting replaces it.

        The line is recorded here and formatted and written later, in a batch
        (see :mod:`cyclone._accesslog`).
        """
        log = self.access_log
        if log is None:
            if self._log_function is not None:
                self._log_function(handler)
            return
        request = handler.request
        log.record(
            handler.get_status(),
            request.method,
            request.uri,
            request.remote_ip,
            request.request_time(),
            _seconds(),
        )
