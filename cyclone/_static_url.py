"""The static-URL scheme: ``static_url_prefix`` + path + ``?v=<content hash>``.

What :meth:`RequestHandler.static_url` needs, below both the handler and the
static-file handler: :class:`StaticURLScheme` holds the class methods that build
a versioned URL and the per-process cache of content versions;
:class:`cyclone.web.StaticFileHandler` inherits them (and may override them, by
Tornado's names), and ``static_url_for`` uses the ``static_handler_class``
setting, or this scheme when the setting is absent.
"""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.parse
from typing import Any

from twisted.logger import Logger

from cyclone._util import import_object
from cyclone.settings import STATIC_HANDLER_CLASS, STATIC_HASH_CACHE, STATIC_PATH, STATIC_URL_PREFIX

__all__ = ["StaticURLScheme", "static_url_for"]

log = Logger(namespace="cyclone.web")

_READ_SIZE = 64 * 1024


class StaticURLScheme:
    """Versioned URLs of the files below the ``static_path`` setting (class methods only)."""

    # absolute path -> content version, for make_static_url (Tornado's cache); shared
    # by the scheme and every static handler class that does not replace it.
    _static_hashes: dict[str, str | None] = {}
    _static_hashes_lock = threading.Lock()

    @classmethod
    def reset(cls) -> None:
        """Forget every cached content hash."""
        with cls._static_hashes_lock:
            cls._static_hashes.clear()

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        """Join ``path`` to ``root``; :meth:`validate_absolute_path` checks the result."""
        return os.path.abspath(os.path.join(root, path))

    @classmethod
    def get_content_version(cls, abspath: str) -> str:
        """A hash (SHA-256, hex) of the file's content."""
        hasher = hashlib.sha256()
        with open(abspath, "rb") as f:
            while chunk := f.read(_READ_SIZE):
                hasher.update(chunk)
        return hasher.hexdigest()

    @classmethod
    def make_static_url(cls, settings: Any, path: str, include_version: bool = True) -> str:
        """The URL of static file ``path``, with ``?v=<hash>`` when the file can be read."""
        url = STATIC_URL_PREFIX.of(settings) + urllib.parse.quote(path)
        if not include_version:
            return url
        version = cls.get_version(settings, path)
        if not version:
            return url
        return f"{url}?v={version[:32]}"

    @classmethod
    def get_version(cls, settings: Any, path: str) -> str | None:
        """The content version of ``path`` below ``settings["static_path"]``; None if unreadable.

        Cached per file unless the ``static_hash_cache`` setting is False.
        """
        abs_path = cls.get_absolute_path(STATIC_PATH.of(settings), path)
        if not STATIC_HASH_CACHE.of(settings):
            return cls._read_version(abs_path)
        with cls._static_hashes_lock:
            if abs_path not in cls._static_hashes:
                cls._static_hashes[abs_path] = cls._read_version(abs_path)
            return cls._static_hashes[abs_path]

    @classmethod
    def _read_version(cls, abs_path: str) -> str | None:
        try:
            return cls.get_content_version(abs_path)
        except OSError:
            log.error("could not open static file {path}", path=abs_path)
            return None


def static_url_for(handler: Any, path: str, include_host: bool | None = None, **kwargs: Any) -> str:
    """``RequestHandler.static_url``: the versioned URL of a file in ``static_path``.

    The scheme is the ``static_handler_class`` setting's (a class or a dotted
    name), else :class:`StaticURLScheme` (which ``StaticFileHandler`` inherits
    unchanged). With ``include_host`` (default: the handler's ``include_host``
    attribute) the URL is absolute, on the request's scheme and host.
    """
    handler.require_setting("static_path", "static_url")
    handler_class = STATIC_HANDLER_CLASS.of(handler.settings) or StaticURLScheme
    if isinstance(handler_class, str):
        handler_class = import_object(handler_class)
    url = handler_class.make_static_url(handler.settings, path, **kwargs)
    if include_host is None:
        include_host = getattr(handler, "include_host", False)
    if include_host:
        return f"{handler.request.protocol}://{handler.request.host}{url}"
    return url
