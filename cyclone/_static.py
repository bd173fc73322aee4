"""StaticFileHandler: files from a directory, with caching headers and byte ranges.

Strategy: a URL path becomes a file in two independent gates. The first is
lexical and touches nothing on disk: NUL bytes, backslashes, absolute paths and
``..`` segments are answered 404 outright. The second resolves every symlink
(``os.path.realpath``) and requires the result to lie inside the resolved root,
so a link that leads out of the root is refused too. Every refusal is the same
404 a missing file gets, so a client cannot learn whether anything exists
outside the root. A directory is served through ``default_filename`` only;
without it the answer is 403 (the directory is inside the root, so saying it
exists reveals nothing).

Bodies are streamed: ``get_content`` yields chunks of ``CHUNK_SIZE`` bytes and
the handler awaits ``flush()`` between them, so a slow client holds at most a
few chunks in memory (the chunk being sent, plus what the transport buffers
before it pauses us: about ``CHUNK_SIZE`` + 64 KiB); a file of one chunk leaves
in a single write. The await costs nothing while the client keeps up
(``flush()`` returns a fired Deferred); what a chunk costs is its send: on
loopback every send wakes the reader, so 256 KiB chunks serve a 1 MiB file
with about 0.3 ms less CPU per request than 64 KiB ones (issue 16). Reads are
plain blocking reads (unbuffered: each chunk is read straight into its bytes)
in the reactor thread, one chunk at a time. Only a single
byte range is honoured; a request for several ranges gets the whole file with
200, which RFC 9110 allows and every client handles.
"""

from __future__ import annotations

import datetime
import hashlib
import mimetypes
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from twisted.logger import Logger

from cyclone._conditional import if_range_allows, not_modified_since
from cyclone._errors import HTTPError
from cyclone._handler import RequestHandler
from cyclone._static_url import StaticURLScheme, static_url_for
from cyclone.settings import (
    STATIC_HANDLER_ARGS,
    STATIC_HANDLER_CLASS,
    STATIC_PATH,
    STATIC_URL_PREFIX,
)

__all__ = ["StaticFileHandler", "static_routes", "static_url_for"]

log = Logger(namespace="cyclone.web")

# bytes=first-last, bytes=first- or bytes=-suffix; anything else (including
# several ranges) does not match and the header is ignored.
_SINGLE_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)

# Types that are text although their major type is not ``text/``.
_TEXT_APPLICATION_TYPES = frozenset(
    {"application/javascript", "application/json", "application/xml", "image/svg+xml"}
)


def parse_byte_range(header: str) -> tuple[int | None, int | None] | None:
    """Parse a single-range ``Range`` header into ``(first, last)`` as written.

    ``bytes=5-9`` is ``(5, 9)``, ``bytes=5-`` is ``(5, None)`` and the suffix
    form ``bytes=-3`` is ``(None, 3)``. None for anything malformed, for units
    other than bytes, for ``last < first`` and for several ranges.
    """
    match = _SINGLE_RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    first = int(first_text) if first_text else None
    last = int(last_text) if last_text else None
    if first is not None and last is not None and last < first:
        return None
    return first, last


def resolve_byte_range(spec: tuple[int | None, int | None], size: int) -> tuple[int, int] | None:
    """Turn a parsed range into ``(start, end)`` offsets (end exclusive) for ``size`` bytes.

    Ranges running past the end are clipped; None when nothing of the file is
    selected (the answer is then 416).
    """
    first, last = spec
    if first is None:
        assert last is not None
        if last == 0:
            return None
        return max(0, size - last), size
    if first >= size:
        return None
    end = size if last is None else min(last + 1, size)
    return first, end


def _is_within(root: str, path: str) -> bool:
    """True when resolved ``path`` is ``root`` itself or below it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _refuse_unsafe_url_path(url_path: str) -> None:
    """404 for URL paths that could name something outside the root, before any disk access."""
    if (
        "\x00" in url_path
        or "\\" in url_path
        or url_path.startswith("/")
        or ".." in url_path.split("/")
    ):
        raise HTTPError(404)


class StaticFileHandler(RequestHandler, StaticURLScheme):
    """Serve the files below ``path``: ``(r"/static/(.*)", StaticFileHandler, {"path": root})``.

    ``default_filename`` (e.g. ``"index.html"``) is served for directory URLs
    that end in ``/``; directory URLs without the slash are redirected to it.
    Responses carry ``Etag`` (a hash of the content) and ``Last-Modified`` and
    answer conditional requests with 304; a single byte ``Range`` is answered
    with 206. A request whose query has ``v=`` (as :meth:`make_static_url`
    builds) is cached by browsers for ten years.

    Override the class methods to serve from elsewhere or change the caching
    policy; they follow Tornado's names and meanings.
    """

    SUPPORTED_METHODS: tuple[str, ...] = ("GET", "HEAD")
    CACHE_MAX_AGE = 86400 * 365 * 10
    CHUNK_SIZE = 256 * 1024

    # resolved path -> (stat signature, version), for ETags; a changed file misses.
    _etag_versions: dict[str, tuple[tuple[int, int, int], str | None]] = {}

    def initialize(self, path: str, default_filename: str | None = None) -> None:
        self.root = path
        self.default_filename = default_filename
        self.path: str | None = None
        self.absolute_path: str | None = None
        self.modified: datetime.datetime | None = None
        self._stat_result: os.stat_result | None = None

    @classmethod
    def reset(cls) -> None:
        """Forget every cached content hash (URL versions and ETags)."""
        super().reset()
        cls._etag_versions = {}

    def head(self, path: str) -> Any:
        """Like GET, without reading or sending the body."""
        return self.get(path, include_body=False)

    async def get(self, path: str, include_body: bool = True) -> None:
        """Answer with the file at URL path ``path``; only headers unless ``include_body``."""
        url_path = path or ""
        _refuse_unsafe_url_path(url_path)
        self.path = self.parse_url_path(url_path)
        absolute_path = self.get_absolute_path(self.root, self.path)
        self.absolute_path = self.validate_absolute_path(self.root, absolute_path)
        if self.absolute_path is None:
            return
        self.modified = self.get_modified_time()
        self.set_headers()
        if self.should_return_304():
            self.set_status(304)
            return
        size = self.get_content_size()
        start, end = 0, size
        range_header = self.request.headers.get("Range")
        if range_header is not None and size > 0 and self._if_range_allows():
            spec = parse_byte_range(range_header)
            if spec is not None:
                span = resolve_byte_range(spec, size)
                if span is None:
                    self.set_status(416)
                    self.set_header("Content-Type", "text/plain")
                    self.set_header("Content-Range", f"bytes */{size}")
                    return
                start, end = span
                self.set_status(206)
                self.set_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        self.set_header("Content-Length", end - start)
        if include_body and end > start:
            partial = (start, end) != (0, size)
            await self._stream(start if partial else None, end if partial else None, end - start)

    async def _stream(self, start: int | None, end: int | None, length: int) -> None:
        """Write ``length`` bytes of content, flushing (and waiting for the client) per chunk."""
        assert self.absolute_path is not None
        content: Iterable[bytes] = self.get_content(self.absolute_path, start, end)
        if isinstance(content, bytes):
            content = [content]
        remaining = length
        try:
            for chunk in content:
                # Never send more than Content-Length promised, even if the file grew.
                if len(chunk) > remaining:
                    chunk = chunk[:remaining]
                remaining -= len(chunk)
                self.write(chunk)
                if remaining <= 0:
                    break
                await self.flush()
                connection = self.request.connection
                if connection is not None and connection.closed:
                    break
        finally:
            close = getattr(content, "close", None)
            if close is not None:
                close()

    # -- headers and conditional requests ---------------------------------------------

    def set_headers(self) -> None:
        """Set the content and caching headers of a successful response."""
        self.set_header("Accept-Ranges", "bytes")
        etag = self.compute_etag()
        if etag is not None:
            self.set_header("Etag", etag)
        if self.modified is not None:
            self.set_header("Last-Modified", self.modified)
        content_type = self.get_content_type()
        if content_type:
            self.set_header("Content-Type", content_type)
        cache_time = self.get_cache_time(self.path or "", self.modified, content_type)
        if cache_time > 0:
            expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=cache_time)
            self.set_header("Expires", expires)
            self.set_header("Cache-Control", f"max-age={cache_time}")
        self.set_extra_headers(self.path or "")

    def should_return_304(self) -> bool:
        """True when the client's copy is current (If-None-Match, else If-Modified-Since).

        A malformed If-Modified-Since is ignored.
        """
        headers = self.request.headers
        if headers.get("If-None-Match"):
            return self.check_etag_header()
        return not_modified_since(headers.get("If-Modified-Since"), self.modified)

    def _if_range_allows(self) -> bool:
        """True unless an If-Range validator shows the client's partial copy is stale."""
        condition = self.request.headers.get("If-Range")
        if condition is None:
            return True
        return if_range_allows(condition, self.compute_etag(), self.modified)

    def compute_etag(self) -> str | None:
        """The content hash in quotes; recomputed only when the file's stat changes."""
        if self.absolute_path is None:
            return None
        st = self._stat()
        signature = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._etag_versions.get(self.absolute_path)
        if cached is not None and cached[0] == signature:
            version = cached[1]
        else:
            version = self.get_content_version(self.absolute_path)
            type(self)._etag_versions[self.absolute_path] = (signature, version)
        return f'"{version}"' if version else None

    # -- paths --------------------------------------------------------------------------

    def parse_url_path(self, url_path: str) -> str:
        """Turn the URL path (``/``-separated, already unquoted) into a relative file path."""
        if os.sep != "/":
            url_path = url_path.replace("/", os.sep)
        return url_path

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        """The resolved file to serve, or None when a redirect was sent instead.

        Raises 404 for anything outside ``root`` (symlinks resolved) or missing,
        403 for a directory when there is no ``default_filename``.
        """
        if "\x00" in absolute_path:
            raise HTTPError(404)
        real_root = os.path.realpath(root)
        real_path = os.path.realpath(absolute_path)
        if not _is_within(real_root, real_path):
            raise HTTPError(404)
        if os.path.isdir(real_path):
            if self.default_filename is None:
                raise HTTPError(403, "%s is a directory", self.path)
            request_path = self.request.path
            if not request_path.endswith("/"):
                if request_path.startswith("//") or request_path.startswith("/\\"):
                    raise HTTPError(404)
                target = request_path + "/"
                if self.request.query:
                    target += "?" + self.request.query
                self.redirect(target, permanent=True)
                return None
            real_path = os.path.realpath(os.path.join(real_path, self.default_filename))
            if not _is_within(real_root, real_path):
                raise HTTPError(404)
        if not os.path.isfile(real_path):
            raise HTTPError(404)
        return real_path

    # -- content ------------------------------------------------------------------------

    @classmethod
    def get_content(
        cls, abspath: str, start: int | None = None, end: int | None = None
    ) -> Iterator[bytes]:
        """Yield the file's bytes from ``start`` to ``end`` (exclusive) in ``CHUNK_SIZE`` chunks."""
        with open(abspath, "rb", buffering=0) as f:
            if start:
                f.seek(start)
            remaining = None if end is None else end - (start or 0)
            while remaining is None or remaining > 0:
                size = cls.CHUNK_SIZE if remaining is None else min(cls.CHUNK_SIZE, remaining)
                chunk = f.read(size)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    @classmethod
    def get_content_version(cls, abspath: str) -> str:
        """A hash (SHA-256, hex) of the file's content."""
        hasher = hashlib.sha256()
        for chunk in cls.get_content(abspath):
            hasher.update(chunk)
        return hasher.hexdigest()

    def _stat(self) -> os.stat_result:
        assert self.absolute_path is not None
        if self._stat_result is None:
            self._stat_result = os.stat(self.absolute_path)
        return self._stat_result

    def get_content_size(self) -> int:
        """The size in bytes of the file being served."""
        return self._stat().st_size

    def get_modified_time(self) -> datetime.datetime | None:
        """When the file last changed, in UTC, to the second (HTTP dates have no finer unit)."""
        return datetime.datetime.fromtimestamp(int(self._stat().st_mtime), datetime.UTC)

    def get_content_type(self) -> str:
        """The MIME type guessed from the file name; text types are declared UTF-8.

        Compressed files keep their compressed type (a browser must not unpack
        them); unknown types are ``application/octet-stream``.
        """
        assert self.absolute_path is not None
        mime_type, encoding = mimetypes.guess_type(self.absolute_path)
        if encoding == "gzip":
            return "application/gzip"
        if encoding is not None:
            return "application/octet-stream"
        if mime_type is None:
            return "application/octet-stream"
        if mime_type.startswith("text/") or mime_type in _TEXT_APPLICATION_TYPES:
            return f"{mime_type}; charset=UTF-8"
        return mime_type

    def get_cache_time(self, path: str, modified: datetime.datetime | None, mime_type: str) -> int:
        """Seconds browsers may cache the response: ten years for versioned URLs, else 0."""
        return self.CACHE_MAX_AGE if "v" in self.request.query_arguments else 0

    def set_extra_headers(self, path: str) -> None:
        """Hook to add headers to every file response."""


def static_routes(settings: Any) -> list[tuple[str, Any, dict[str, Any]]]:
    """The routes an Application adds for the ``static_path`` setting (none without it).

    ``{static_url_prefix}(.*)``, ``/(favicon\\.ico)`` and ``/(robots\\.txt)``, served
    by ``static_handler_class`` with ``static_handler_args``.
    """
    static_path = STATIC_PATH.of(settings)
    if not static_path:
        return []
    prefix = STATIC_URL_PREFIX.of(settings)
    handler_class = STATIC_HANDLER_CLASS.of(settings) or StaticFileHandler
    args = dict(STATIC_HANDLER_ARGS.of(settings) or {})
    args["path"] = static_path
    return [
        (re.escape(prefix) + "(.*)", handler_class, args),
        (r"/(favicon\.ico)", handler_class, args),
        (r"/(robots\.txt)", handler_class, args),
    ]
