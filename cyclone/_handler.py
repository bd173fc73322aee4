"""RequestHandler: the Tornado handler life cycle on a Twisted connection.

Strategy: a request runs through ``get_current_user`` (only when it is
asynchronous), ``prepare`` and the HTTP method; each step may return a plain
value, a Deferred, a coroutine or a generator, and the next step starts when it
completes. When every step is synchronous nothing is wrapped in a Deferred,
and the whole response leaves in a single ``transport.write``.
"""

from __future__ import annotations

import datetime
import inspect
import json
import re
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from cyclone import escape
from cyclone._arguments import RequestArgumentsMixin
from cyclone._conditional import body_etag, etag_matches, strip_not_modified_headers
from cyclone._cookies import is_cookie_name, set_cookie_value
from cyclone._errorpage import error_response, exc_info_of, plain_page, traceback_page
from cyclone._errors import Finish, HTTPError
from cyclone._methods import DEFAULT_METHODS
from cyclone._redirect import redirect_location
from cyclone._rendering import TemplateRenderingMixin
from cyclone._request import HTTPRequest
from cyclone._signing import SignedCookiesMixin
from cyclone._static_url import static_url_for
from cyclone._xsrf import XSRFMixin
from cyclone.httputil import HTTPInputError, format_timestamp, http_date, responses
from cyclone.httputil import normalize_header_name as _norm
from cyclone.settings import LOGIN_URL, SERIALIZE_LISTS, SERVE_TRACEBACK, XSRF_COOKIES

if TYPE_CHECKING:
    from cyclone._app_contract import HandlerApplication

log = Logger(namespace="cyclone.web")

_INVALID_HEADER_CHAR = re.compile(r"[\x00-\x1f\x7f]")
_SERVER_HEADER = "CycloneServer/2.0"
_SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


def _as_deferred(result: Any) -> defer.Deferred[Any] | None:
    """Wrap an awaitable step result in a Deferred; None for a plain value."""
    if result is None:
        return None
    if isinstance(result, defer.Deferred):
        return result
    if isinstance(result, types.CoroutineType):
        return defer.Deferred.fromCoroutine(result)
    if isinstance(result, types.GeneratorType):
        return defer.inlineCallbacks(lambda: result)()
    if inspect.isawaitable(result):
        return defer.ensureDeferred(result)
    return None


def _is_async_callable(func: Any) -> bool:
    if inspect.iscoroutinefunction(func):
        return True
    wrapped = getattr(func, "__wrapped__", None)
    return wrapped is not None and inspect.isgeneratorfunction(wrapped)


class _Overrides:
    """Which of a handler class's per-request hooks are overridden, and how (once per class).

    A hook left as :class:`RequestHandler` defines it does nothing (or the
    default ETag work, done inline), so the life cycle skips the call.
    """

    __slots__ = (
        "async_current_user",
        "etag",
        "initialize",
        "on_finish",
        "prepare",
        "set_default_headers",
    )

    def __init__(self, cls: type) -> None:
        base = RequestHandler
        self.initialize = cls.initialize is not base.initialize
        self.set_default_headers = cls.set_default_headers is not base.set_default_headers
        self.prepare = cls.prepare is not base.prepare
        self.on_finish = cls.on_finish is not base.on_finish
        self.etag = (
            cls.compute_etag is not base.compute_etag
            or cls.set_etag_header is not base.set_etag_header
            or cls.check_etag_header is not base.check_etag_header
        )
        # An async get_current_user is awaited before prepare().
        self.async_current_user = _is_async_callable(cls.get_current_user)


def _overrides(cls: type) -> _Overrides:
    # Kept in each class's own __dict__: a subclass may differ from its parent.
    found = cls.__dict__.get("_cyclone_overrides")
    if found is None:
        found = _Overrides(cls)
        cls._cyclone_overrides = found  # type: ignore[attr-defined]
    return found  # type: ignore[no-any-return]


class RequestHandler(RequestArgumentsMixin, SignedCookiesMixin, XSRFMixin, TemplateRenderingMixin):
    """Subclass this and define ``get``, ``post``... to handle requests.

    The life cycle is Tornado's: ``initialize(**kwargs)`` from the URL spec,
    ``prepare()``, the HTTP method with the path groups as arguments, then
    ``on_finish()`` once the response is sent.

    What the Application asks of a handler is :meth:`execute_request` (run the
    life cycle) and :meth:`handle_request_exception` (answer an error); they
    run ``_execute`` and ``_handle_request_exception``, the names Tornado and
    cyclone 1.x code overrides. Error pages (``_errorpage``), conditional
    responses (``_conditional``), Set-Cookie values (``_cookies``) and redirect
    targets (``_redirect``) are worked out by collaborators called with
    explicit values.
    """

    SUPPORTED_METHODS: tuple[str, ...] = DEFAULT_METHODS  # the wire's list (cyclone._methods)
    no_keep_alive = False
    no_xsrf = False

    _sending_error = False
    # Per-request state starts from these class defaults (assigned on change only).
    _headers_written = False
    _finished = False
    _auto_finish = True
    _transforms: Sequence[Any] = ()
    _new_cookie: list[str] | None = None
    _extra_headers: list[tuple[str, str]] | None = None
    _finish_waiters: list[defer.Deferred[None]] | None = None

    def __init__(
        self, application: HandlerApplication, request: HTTPRequest, **kwargs: Any
    ) -> None:
        self.application = application
        self.request = request
        self.path_args: list[str] = []
        self.path_kwargs: dict[str, str] = {}
        self._overridden = overridden = _overrides(type(self))
        self.clear()
        connection = request.connection
        if connection is not None:
            connection.set_close_callback(self._connection_closed)
        if overridden.initialize:
            self.initialize(**kwargs)

    def initialize(self, **kwargs: Any) -> None:
        """Hook for the URL spec's keyword arguments; override it."""

    @property
    def settings(self) -> Any:
        """The Application settings (an attribute dict: ``self.settings.debug``)."""
        return self.application.settings

    def _unimplemented_method(self, *args: Any, **kwargs: Any) -> None:
        raise HTTPError(405)

    head = get = post = delete = patch = put = options = _unimplemented_method

    def prepare(self) -> Any:
        """Called before the HTTP method; may be asynchronous, may ``finish()``."""

    def on_finish(self) -> None:
        """Called after the response has been sent."""

    def on_connection_close(self) -> None:
        """Called when the client goes away before the response was finished."""

    def _connection_closed(self) -> None:
        self._fire_finish_waiters()
        self.on_connection_close()

    # -- status and headers --------------------------------------------------------

    def clear(self) -> None:
        """Reset headers and body to their defaults (used before error pages)."""
        self._headers: dict[str, str] = {
            "Server": _SERVER_HEADER,
            "Content-Type": "text/html; charset=UTF-8",
            "Date": http_date(),
        }
        self._extra_headers = None
        if self._overridden.set_default_headers:
            self.set_default_headers()
        self._write_buffer = []
        self._status_code = 200
        self._reason = "OK"

    def set_default_headers(self) -> None:
        """Override to set headers on every response, error pages included."""

    def set_status(self, status_code: int, reason: str | None = None) -> None:
        """Set the status (100 to 599); ``reason`` replaces the standard phrase."""
        if not 100 <= status_code <= 599:
            raise ValueError(f"HTTP status must be between 100 and 599, not {status_code!r}")
        self._status_code = status_code
        if reason is not None:
            if _INVALID_HEADER_CHAR.search(reason):
                raise ValueError(f"unsafe characters in reason phrase {reason!r}")
            self._reason = reason
        else:
            self._reason = responses.get(status_code, "Unknown")

    def get_status(self) -> int:
        """The response status set so far (200 unless changed)."""
        return self._status_code

    def set_header(self, name: str, value: Any) -> None:
        """Set a response header, replacing earlier values of the same name."""
        norm = _norm(name)
        self._headers[norm] = self._convert_header_value(value)
        if self._extra_headers:
            self._extra_headers = [h for h in self._extra_headers if h[0] != norm]

    def add_header(self, name: str, value: Any) -> None:
        """Add a response header, keeping earlier values of the same name."""
        norm = _norm(name)
        value = self._convert_header_value(value)
        if norm not in self._headers:
            self._headers[norm] = value
        else:
            if self._extra_headers is None:
                self._extra_headers = []
            self._extra_headers.append((norm, value))

    def clear_header(self, name: str) -> None:
        """Remove every value of a response header."""
        norm = _norm(name)
        self._headers.pop(norm, None)
        if self._extra_headers:
            self._extra_headers = [h for h in self._extra_headers if h[0] != norm]

    def _convert_header_value(self, value: Any) -> str:
        if isinstance(value, str):
            text = value
        elif isinstance(value, bytes):
            text = value.decode("latin-1")
        elif isinstance(value, int):
            return str(value)
        elif isinstance(value, datetime.datetime):
            return format_timestamp(value)
        else:
            raise TypeError(f"unsupported header value {value!r}")
        if _INVALID_HEADER_CHAR.search(text):
            raise ValueError(f"unsafe header value {text!r}: control characters are not allowed")
        return text

    # -- cookies ---------------------------------------------------------------------

    @property
    def cookies(self) -> dict[str, Any]:
        """The request cookies by name (each has ``.value``)."""
        return self.request.cookies

    def get_cookie(self, name: str, default: str | None = None) -> str | None:
        """The value of request cookie ``name``, or ``default``."""
        cookie = self.request.cookies.get(name)
        return cookie.value if cookie is not None else default

    def set_cookie(
        self,
        name: str,
        value: str | bytes,
        domain: str | None = None,
        expires: float | datetime.datetime | None = None,
        path: str = "/",
        expires_days: float | None = None,
        max_age: int | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Add a ``Set-Cookie`` header; values that could inject attributes are refused."""
        header = set_cookie_value(
            name,
            escape.to_unicode(value),
            domain=domain,
            expires=expires,
            path=path,
            expires_days=expires_days,
            max_age=max_age,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            extra=kwargs,
        )
        prefix = name + "="
        self._new_cookie = [c for c in self._new_cookie or () if not c.startswith(prefix)]
        self._new_cookie.append(header)

    def clear_cookie(
        self, name: str, path: str = "/", domain: str | None = None, **kwargs: Any
    ) -> None:
        """Tell the browser to delete a cookie (same path and domain as when set)."""
        expires = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=365)
        self.set_cookie(name, "", path=path, domain=domain, expires=expires, max_age=0, **kwargs)

    def clear_all_cookies(self, path: str = "/", domain: str | None = None) -> None:
        """Tell the browser to delete every cookie this request sent."""
        for name in self.request.cookies:
            if name and is_cookie_name(name):
                self.clear_cookie(name, path=path, domain=domain)

    # -- output ------------------------------------------------------------------------

    def write(self, chunk: str | bytes | dict[str, Any] | list[Any]) -> None:
        """Buffer output: str (as UTF-8), bytes, or dict (list with ``serialize_lists``) as JSON."""
        if self._finished:
            raise RuntimeError("cannot write() after finish()")
        if isinstance(chunk, bytes):
            self._write_buffer.append(chunk)
            return
        if isinstance(chunk, str):
            self._write_buffer.append(chunk.encode("utf-8"))
            return
        if isinstance(chunk, dict) or (
            isinstance(chunk, list) and SERIALIZE_LISTS.of(self.settings)
        ):
            self._write_buffer.append(
                json.dumps(chunk, separators=(",", ":")).replace("</", "<\\/").encode("utf-8")
            )
            if self._headers.get("Content-Type") == "text/html; charset=UTF-8":
                self._headers["Content-Type"] = "application/json; charset=UTF-8"
            return
        message = f"write() only accepts bytes, str and dict, not {type(chunk).__name__}"
        if isinstance(chunk, list):
            message += " (set serialize_lists=True to send lists as JSON)"
        raise TypeError(message)

    def flush(self, include_footers: bool = False) -> defer.Deferred[None]:
        """Send what is buffered now; the Deferred fires when the client can take more."""
        self._send(finishing=False)
        connection = self.request.connection
        if connection is None:
            return defer.succeed(None)
        return connection.wait_for_drain()

    def finish(self, chunk: str | bytes | dict[str, Any] | None = None) -> defer.Deferred[None]:
        """End the response (writing ``chunk`` first), then run ``on_finish``."""
        if self._finished:
            raise RuntimeError("finish() called twice")
        if chunk is not None:
            self.write(chunk)
        if not self._headers_written:
            status = self._status_code
            headers = self._headers
            request = self.request
            if (
                status == 200
                and "Etag" not in headers
                and (request.method == "GET" or request.method == "HEAD")
            ):
                if self._overridden.etag:
                    self.set_etag_header()
                    matched = self.check_etag_header()
                else:  # the default hooks, inline: the SHA-1 of the body, then If-None-Match
                    etag = headers["Etag"] = body_etag(self._write_buffer)
                    if_none_match = request.headers.get("If-None-Match")
                    matched = if_none_match is not None and etag_matches(etag, if_none_match)
                if matched:
                    self._write_buffer = []
                    self.set_status(304)
                    status = 304
            if status == 304 or status == 204 or status < 200:
                if self._write_buffer and any(self._write_buffer):
                    raise RuntimeError(f"a {status} response cannot have a body")
                self._write_buffer = []
                if status == 304:
                    strip_not_modified_headers(self._headers)
        self._send(finishing=True)
        self._finished = True
        self._after_finish()
        return defer.succeed(None)

    def _send(self, finishing: bool) -> None:
        chunk = b"".join(self._write_buffer) if self._write_buffer else b""
        self._write_buffer = []
        connection = self.request.connection
        if connection is None or connection.closed:
            self._headers_written = True
            return
        if not self._headers_written:
            self._headers_written = True
            status = self._status_code
            headers = self._headers
            for transform in self._transforms:
                status, headers, chunk = transform.transform_first_chunk(
                    status, headers, chunk, finishing
                )
            if self.no_keep_alive:
                headers["Connection"] = "close"
            extra = self._extra_headers
            if self._new_cookie:
                extra = list(extra or ())
                extra.extend(("Set-Cookie", c) for c in self._new_cookie)
            connection.send_response(
                self.request, status, self._reason, headers, extra, chunk, finishing
            )
        else:
            for transform in self._transforms:
                chunk = transform.transform_chunk(chunk, finishing)
            connection.send_body(self.request, chunk, finishing)

    def _after_finish(self) -> None:
        if self._overridden.on_finish:
            try:
                self.on_finish()
            except Exception:
                log.failure("error in on_finish for {uri}", uri=self.request.uri)
        self.application.log_request(self)
        if self._finish_waiters is not None:
            self._fire_finish_waiters()

    def notifyFinish(self) -> defer.Deferred[None]:
        """A Deferred that fires when the response ends or the client goes away."""
        waiter: defer.Deferred[None] = defer.Deferred()
        if self._finished or (
            self.request.connection is not None and self.request.connection.closed
        ):
            waiter.callback(None)
            return waiter
        if self._finish_waiters is None:
            self._finish_waiters = []
        self._finish_waiters.append(waiter)
        return waiter

    def _fire_finish_waiters(self) -> None:
        waiters, self._finish_waiters = self._finish_waiters, None
        for waiter in waiters or ():
            waiter.callback(None)

    def redirect(self, url: str, permanent: bool = False, status: int | None = None) -> None:
        """Redirect to ``url`` (302, or 301 when ``permanent``).

        A URL starting with ``//`` or a backslash variant is taken as a local path:
        browsers would read it as another host (an open redirect).
        """
        if self._headers_written:
            raise RuntimeError("cannot redirect after headers have been written")
        if status is None:
            status = 301 if permanent else 302
        elif not 300 <= status <= 399:
            raise ValueError(f"redirect status must be 3xx, not {status}")
        self.set_status(status)
        self.set_header("Location", redirect_location(self.request.path, url))
        self.finish()

    # -- errors ----------------------------------------------------------------------

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        """Send an error page with ``status_code`` through :meth:`write_error`."""
        if self._headers_written:
            log.error("cannot send error response after headers were written")
            if not self._finished:
                connection = self.request.connection
                if connection is not None and not connection.closed:
                    connection.close()
                self._finished = True
                self._after_finish()
            return
        self.clear()
        answer = error_response(
            status_code, kwargs.get("reason"), kwargs.get("exc_info"), self.SUPPORTED_METHODS
        )
        status_code = answer.status_code
        try:
            self.set_status(status_code, reason=answer.reason)
        except ValueError:  # a reason with control characters: use the standard one
            self.set_status(status_code)
        if answer.allow is not None:
            self.set_header("Allow", answer.allow)
        for challenge in answer.challenges:
            self.add_header("WWW-Authenticate", challenge)
        if self._sending_error:
            # The error page itself failed (e.g. its template, after waiting):
            # answer with the plain page rather than trying the same page again.
            RequestHandler.write_error(self, status_code)
            return
        self._sending_error = True
        self._auto_finish = True
        try:
            pending = _as_deferred(self.write_error(status_code, **kwargs))
        except Exception:
            log.failure("error in write_error")
            pending = None
        if pending is not None:  # an asynchronous write_error: finish when it is done
            self._auto_finish = False
            pending.addErrback(lambda f: log.failure("error in write_error", f))
            pending.addCallback(lambda _: self._finish_error_page(status_code))
        elif self._auto_finish:  # False while render() waits on its template
            self._finish_error_page(status_code)

    def _finish_error_page(self, status_code: int) -> None:
        if not self._finished:
            if status_code in (204, 304):
                self._write_buffer = []
            self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Write the error page; override for custom pages. ``exc_info`` may be in kwargs."""
        exc_info = kwargs.get("exc_info")
        if SERVE_TRACEBACK.of(self.settings) and exc_info:
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.finish(traceback_page(status_code, self._reason, exc_info))
            return
        self.finish(plain_page(status_code, self._reason))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """Log an uncaught exception: HTTPErrors as a warning line, others with traceback."""
        if isinstance(value, HTTPError):
            if value.log_message:
                log.warn(
                    "{status} {summary}: {message}",
                    status=value.status_code,
                    summary=self._request_summary(),
                    message=value.log_message % value.args,
                )
        else:
            log.failure(
                "Uncaught exception {summary}",
                Failure(value, typ, tb),
                summary=self._request_summary(),
            )

    def _request_summary(self) -> str:
        r = self.request
        return f"{r.method} {r.uri} ({r.remote_ip})"

    def handle_request_exception(
        self, error: BaseException, failure: Failure | None = None
    ) -> None:
        """Answer an exception that ended the request: the error page, or ``Finish``'s response.

        The Application calls it when a handler cannot even be built, and
        ``render`` when a template fails after waiting; ``failure`` (when the
        error came through a Deferred) gives the traceback. It runs
        ``_handle_request_exception``, the name Tornado and cyclone 1.x code
        overrides, which stays the place to customise.
        """
        self._handle_request_exception(error, failure)

    def _handle_request_exception(self, e: BaseException, failure: Failure | None = None) -> None:
        if isinstance(e, Finish):
            if not self._finished:
                self.finish(*e.args)
            return
        exc_info = exc_info_of(e, failure)
        if isinstance(e, HTTPInputError) and not isinstance(e, HTTPError):
            log.warn("{summary}: {message}", summary=self._request_summary(), message=str(e))
            if not self._finished:
                self.send_error(e.status, reason=str(e))
            return
        self.log_exception(*exc_info)
        if self._finished:
            return
        if isinstance(e, HTTPError):
            self.send_error(e.status_code, exc_info=exc_info)
        else:
            self.send_error(500, exc_info=exc_info)

    def _handle_failure(self, failure: Failure) -> None:
        self._handle_request_exception(failure.value, failure)

    # -- execution ---------------------------------------------------------------------

    def execute_request(
        self,
        transforms: Sequence[Any],
        path_args: Sequence[Any] = (),
        path_kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Run the handler's life cycle for its request: the Application's entry point.

        ``transforms`` are the request's output transforms; ``path_args`` and
        ``path_kwargs`` are the route's captured groups (still undecoded). It
        runs ``_execute``, the name Tornado and cyclone 1.x code overrides or
        wraps, which stays the place to customise.
        """
        # Unpack only what is there: most routes have no groups (the hot path).
        if path_kwargs:
            self._execute(transforms, *path_args, **path_kwargs)
        elif path_args:
            self._execute(transforms, *path_args)
        else:
            self._execute(transforms)

    def set_auto_finish(self, enabled: bool) -> None:
        """Whether the response is finished when the HTTP method (and what it returned) is done.

        ``set_auto_finish(False)`` keeps the request open until ``finish()``
        is called, as ``@cyclone.web.asynchronous`` does; an error still ends
        it with an error page.
        """
        self._auto_finish = enabled

    def is_finished(self) -> bool:
        """True once ``finish()`` has ended the response."""
        return self._finished

    def _execute(self, transforms: Sequence[Any], *args: str, **kwargs: str) -> None:
        """Run the life cycle (Tornado's name, kept for code that overrides it)."""
        self._transforms = transforms
        try:
            if self.request.method not in self.SUPPORTED_METHODS:
                raise HTTPError(405)
            if args:
                self.path_args = [self.decode_argument(a) for a in args]
            if kwargs:
                self.path_kwargs = {k: self.decode_argument(v, name=k) for k, v in kwargs.items()}
            if self.request.method not in _SAFE_METHODS:
                self._check_xsrf()
            if self._overridden.async_current_user:
                d = _as_deferred(self.get_current_user())
                if d is not None:
                    d.addCallback(self._set_user_then_prepare)
                    d.addErrback(self._handle_failure)
                    return
                self._current_user = None
            self._prepare_then_run()
        except Exception as e:
            self._handle_request_exception(e)

    def _check_xsrf(self) -> None:
        if not self.no_xsrf and XSRF_COOKIES.of(self.settings):
            self.check_xsrf_cookie()

    def _set_user_then_prepare(self, user: Any) -> None:
        self._current_user = user
        self._prepare_then_run()

    def _prepare_then_run(self) -> None:
        if not self._overridden.prepare:
            self._run_method()
            return
        d = _as_deferred(self.prepare())
        if d is None:
            self._run_method()
        else:
            d.addCallback(lambda _: self._run_method())
            d.addErrback(self._handle_failure)

    def _run_method(self) -> None:
        if self._finished:
            return
        method = getattr(self, self.request.method.lower())
        d = _as_deferred(method(*self.path_args, **self.path_kwargs))
        if d is None:
            if self._auto_finish and not self._finished:
                self.finish()
        else:
            d.addCallback(self._method_done)
            d.addErrback(self._handle_failure)

    def _method_done(self, _: Any) -> None:
        if self._auto_finish and not self._finished:
            self.finish()

    # -- etags -------------------------------------------------------------------------

    def compute_etag(self) -> str | None:
        """The ETag for the buffered body (SHA-1); return None to disable ETags."""
        return body_etag(self._write_buffer)

    def set_etag_header(self) -> None:
        """Set the ``Etag`` header from :meth:`compute_etag` (when it gives one)."""
        etag = self.compute_etag()
        if etag is not None:
            self._headers["Etag"] = etag

    def check_etag_header(self) -> bool:
        """True when the request's If-None-Match matches the response ETag."""
        return etag_matches(self._headers.get("Etag"), self.request.headers.get("If-None-Match"))

    # -- users and settings -------------------------------------------------------------

    @property
    def current_user(self) -> Any:
        """The user from :meth:`get_current_user`, computed once per request."""
        if not hasattr(self, "_current_user"):
            self._current_user = self.get_current_user()
        return self._current_user

    @current_user.setter
    def current_user(self, value: Any) -> None:
        self._current_user = value

    def get_current_user(self) -> Any:
        """Override to identify the user; may be ``async`` (awaited before ``prepare``)."""
        return None

    def get_login_url(self) -> str:
        """The ``login_url`` setting (override for a per-handler login page)."""
        self.require_setting("login_url", "@cyclone.web.authenticated")
        return LOGIN_URL.of(self.settings)

    def require_setting(self, name: str, feature: str = "this feature") -> None:
        """Raise if the Application has no ``name`` setting."""
        if not self.settings.get(name):
            raise Exception(
                f"You must define the '{name}' setting in your application to use {feature}"
            )

    def reverse_url(self, name: str, *args: Any) -> str:
        """The path of the handler named ``name`` (see :meth:`Application.reverse_url`)."""
        return self.application.reverse_url(name, *args)

    def static_url(self, path: str, include_host: bool | None = None, **kwargs: Any) -> str:
        """The versioned URL of ``path`` below the ``static_path`` setting."""
        return static_url_for(self, path, include_host, **kwargs)
