"""The web framework: Application, RequestHandler, routing, errors and decorators.

This module is the public face Tornado and cyclone 1.x users know; the pieces
live in smaller private modules and are re-exported here.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

from cyclone._application import Application, ErrorHandler
from cyclone._errors import Finish, HTTPAuthenticationRequired, HTTPError, MissingArgumentError
from cyclone._handler import RequestHandler
from cyclone._routing import URLSpec, url
from cyclone._signing import create_signed_value, decode_signed_value
from cyclone._static import StaticFileHandler
from cyclone._transforms import GZipContentEncoding, OutputTransform
from cyclone._uimodule import TemplateModule, UIModule
from cyclone.httputil import url_concat

__all__ = [
    "Application",
    "ErrorHandler",
    "Finish",
    "GZipContentEncoding",
    "HTTPAuthenticationRequired",
    "HTTPError",
    "MissingArgumentError",
    "OutputTransform",
    "RedirectHandler",
    "RequestHandler",
    "StaticFileHandler",
    "TemplateModule",
    "UIModule",
    "URLSpec",
    "addslash",
    "asynchronous",
    "authenticated",
    "create_signed_value",
    "decode_signed_value",
    "removeslash",
    "url",
]

F = TypeVar("F", bound=Callable[..., Any])


def asynchronous(method: F) -> F:
    """Keep the request open after the method returns, until ``self.finish()`` is called.

    For long polling and other responses that end on an outside event: it calls
    :meth:`RequestHandler.set_auto_finish` with False before the method runs.
    Errors raised by the method (or by the Deferred it returns) still produce
    an error page.
    """

    @functools.wraps(method)
    def wrapper(self: RequestHandler, *args: Any, **kwargs: Any) -> Any:
        self.set_auto_finish(False)
        return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def authenticated(method: F) -> F:
    """Require ``current_user``: GET/HEAD redirect to ``login_url`` with ``next``, others 403."""

    @functools.wraps(method)
    def wrapper(self: RequestHandler, *args: Any, **kwargs: Any) -> Any:
        if not self.current_user:
            if self.request.method in ("GET", "HEAD"):
                login_url = self.get_login_url()
                if "?" not in login_url:
                    split = urllib.parse.urlsplit(login_url)
                    next_url = self.request.full_url() if split.scheme else self.request.uri
                    login_url = url_concat(login_url, {"next": next_url})
                self.redirect(login_url)
                return None
            raise HTTPError(403)
        return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def removeslash(method: F) -> F:
    """Redirect ``/path/`` to ``/path`` for GET and HEAD (404 for other methods)."""

    @functools.wraps(method)
    def wrapper(self: RequestHandler, *args: Any, **kwargs: Any) -> Any:
        if self.request.path.endswith("/"):
            if self.request.method in ("GET", "HEAD"):
                uri = self.request.path.rstrip("/")
                if uri:
                    if self.request.query:
                        uri += "?" + self.request.query
                    self.redirect(uri, permanent=True)
                    return None
            else:
                raise HTTPError(404)
        return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def addslash(method: F) -> F:
    """Redirect ``/path`` to ``/path/`` for GET and HEAD (404 for other methods)."""

    @functools.wraps(method)
    def wrapper(self: RequestHandler, *args: Any, **kwargs: Any) -> Any:
        if not self.request.path.endswith("/"):
            if self.request.method in ("GET", "HEAD"):
                uri = self.request.path + "/"
                if self.request.query:
                    uri += "?" + self.request.query
                self.redirect(uri, permanent=True)
                return None
            raise HTTPError(404)
        return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class RedirectHandler(RequestHandler):
    """Redirect every GET to ``url`` (``{0}``-style placeholders take the path groups)."""

    def initialize(self, url: str, permanent: bool = True) -> None:
        self._url = url
        self._permanent = permanent

    def get(self, *args: Any, **kwargs: Any) -> None:
        target = self._url.format(*args, **kwargs)
        if self.request.query:
            target = url_concat(
                target, urllib.parse.parse_qsl(self.request.query, keep_blank_values=True)
            )
        self.redirect(target, permanent=self._permanent)
