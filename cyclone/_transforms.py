"""Output transforms: rewrite a response's status, headers and body on the way out."""

from __future__ import annotations

import re
import zlib
from typing import Any

from cyclone._request import HTTPRequest


class OutputTransform:
    """Base class; ``headers`` is a dict with ``Http-Header-Case`` names."""

    def __init__(self, request: HTTPRequest) -> None:
        self.request = request

    def transform_first_chunk(
        self, status_code: int, headers: dict[str, str], chunk: bytes, finishing: bool
    ) -> tuple[int, dict[str, str], bytes]:
        """Rewrite the status, headers and first body bytes (``finishing``: the whole body)."""
        return status_code, headers, chunk

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        """Rewrite a later body chunk (``finishing``: the last one)."""
        return chunk


_COMPRESSIBLE = re.compile(
    r"^(text/.*|application/(json|javascript|xml|xhtml\+xml|.*\+json|.*\+xml)|image/svg\+xml)$"
)


def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value allows gzip (``gzip;q=0`` refuses it, ``*`` allows)."""
    gzip_q = star_q = None
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding == "*":
            star_q = q
        else:
            gzip_q = q
    if gzip_q is not None:
        return gzip_q > 0
    return star_q is not None and star_q > 0


class GZipContentEncoding(OutputTransform):
    """Gzip responses of compressible types for clients that send ``Accept-Encoding: gzip``.

    Bodies shorter than :attr:`MIN_LENGTH` are left alone when the whole response is
    known; streamed (flushed) responses are compressed chunk by chunk.
    """

    GZIP_LEVEL = 6
    MIN_LENGTH = 1024

    def __init__(self, request: HTTPRequest) -> None:
        super().__init__(request)
        accept = request.headers.get("Accept-Encoding")
        self._accepts = _accepts_gzip(accept) if accept else False
        self._compressor: Any = None

    def transform_first_chunk(
        self, status_code: int, headers: dict[str, str], chunk: bytes, finishing: bool
    ) -> tuple[int, dict[str, str], bytes]:
        vary = headers.get("Vary")
        if vary is None:
            headers["Vary"] = "Accept-Encoding"
        elif "accept-encoding" not in vary.lower():
            headers["Vary"] = vary + ", Accept-Encoding"
        if not self._accepts or status_code in (204, 304) or status_code < 200:
            return status_code, headers, chunk
        if "Content-Encoding" in headers or "Content-Range" in headers or status_code == 206:
            # Already encoded, or a byte range: Content-Range counts identity bytes.
            return status_code, headers, chunk
        ctype = headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not _COMPRESSIBLE.match(ctype):
            return status_code, headers, chunk
        if finishing and len(chunk) < self.MIN_LENGTH:
            return status_code, headers, chunk
        self._compressor = zlib.compressobj(self.GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        headers["Content-Encoding"] = "gzip"
        if "Etag" in headers:
            etag = headers["Etag"]
            if not etag.startswith("W/"):
                headers["Etag"] = "W/" + etag
        chunk = self.transform_chunk(chunk, finishing)
        if finishing:
            headers["Content-Length"] = str(len(chunk))
        else:
            headers.pop("Content-Length", None)
        return status_code, headers, chunk

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        if self._compressor is None:
            return chunk
        data = self._compressor.compress(chunk)
        if finishing:
            data += self._compressor.flush()
        else:
            data += self._compressor.flush(zlib.Z_SYNC_FLUSH)
        return data
