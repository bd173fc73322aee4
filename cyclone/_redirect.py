"""Where a redirect may point: the ``Location`` of ``RequestHandler.redirect``.

A collaborator of the handler: :func:`redirect_location` turns the URL a
handler asked for into a header value that can never send the browser to
another host by accident (an open redirect).
"""

from __future__ import annotations

import urllib.parse

__all__ = ["redirect_location"]

# Every printable ASCII character: only non-ASCII text is percent-encoded in Location.
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def _single_slash(path: str) -> str:
    """``//host/x`` (or a backslash variant) as the local path ``/host/x``."""
    if path[:2] in ("//", "/\\", "\\\\", "\\/"):
        return "/" + path.lstrip("/\\")
    return path


def redirect_location(request_path: str, url: str) -> str:
    """The Location for redirecting to ``url`` from ``request_path``.

    Absolute URLs (with a scheme) pass unchanged; paths that browsers would read
    as ``//other-host`` become local paths, also when the request path itself
    starts with ``//`` and a relative ``url`` is resolved against it.
    """
    url = url.strip()
    if not url.isascii():
        url = urllib.parse.quote(url, safe=_URL_SAFE)
    if urllib.parse.urlsplit(url).scheme:
        return url
    url = _single_slash(url)
    if url.startswith("/"):
        return url
    return _single_slash(urllib.parse.urljoin(_single_slash(request_path), url))
