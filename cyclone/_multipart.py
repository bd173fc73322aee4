"""Request bodies that may be larger than memory should hold, and multipart forms.

Strategy: a body is collected in a :class:`SpooledBuffer`, which keeps chunks in
memory until a threshold and then moves them to an anonymous temporary file. The
multipart parser reads such a buffer in fixed-size blocks and writes every part
into a buffer of its own, so an upload of any size costs bounded memory. Every
structural limit (number of parts, size of a part's header block) is enforced as
the bytes are read, not after.
"""

from __future__ import annotations

import tempfile
import urllib.parse
from collections.abc import Iterator
from typing import IO, Any

_READ_BLOCK = 64 * 1024


class MultipartError(ValueError):
    """A multipart body that breaks the grammar or a limit."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class SpooledBuffer:
    """Bytes kept in memory up to ``threshold``, in a temporary file beyond it."""

    __slots__ = ("_chunks", "_file", "_size", "threshold")

    def __init__(self, threshold: int = 1024 * 1024) -> None:
        self.threshold = threshold
        self._chunks: list[bytes] = []
        self._size = 0
        self._file: IO[bytes] | None = None

    def write(self, data: bytes) -> None:
        if not data:
            return
        self._size += len(data)
        if self._file is not None:
            self._file.write(data)
        elif self._size > self.threshold:
            self._file = tempfile.TemporaryFile(prefix="cyclone-body-")
            for chunk in self._chunks:
                self._file.write(chunk)
            self._file.write(data)
            self._chunks = []
        else:
            self._chunks.append(bytes(data))

    @property
    def spilled(self) -> bool:
        """True once the content lives in a temporary file."""
        return self._file is not None

    def __len__(self) -> int:
        return self._size

    def getvalue(self) -> bytes:
        """The whole content as bytes (reads the file back when spilled)."""
        if self._file is None:
            if len(self._chunks) != 1:
                self._chunks = [b"".join(self._chunks)]
            return self._chunks[0]
        self._file.seek(0)
        return self._file.read()

    def iter_blocks(self, size: int = _READ_BLOCK) -> Iterator[bytes]:
        """Yield the content in blocks of at most ``size`` bytes."""
        if self._file is None:
            for chunk in self._chunks:
                for i in range(0, len(chunk), size):
                    yield chunk[i : i + size]
            return
        self._file.seek(0)
        while True:
            block = self._file.read(size)
            if not block:
                return
            yield block

    def open(self) -> IO[bytes]:
        """A readable binary file positioned at the start of the content."""
        if self._file is None:
            self._file = tempfile.SpooledTemporaryFile(max_size=self.threshold)  # type: ignore[assignment]
            for chunk in self._chunks:
                self._file.write(chunk)  # type: ignore[union-attr]
            self._chunks = []
        self._file.seek(0)  # type: ignore[union-attr]
        return self._file  # type: ignore[return-value]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._chunks = []
        self._size = 0


class HTTPFile:
    """One uploaded file: ``filename``, ``content_type``, ``body`` and ``headers``.

    ``body`` reads the upload into memory on first use; ``file`` gives a binary
    file object instead, for uploads too large for that. Item access
    (``f["body"]``) works too, as in Tornado and cyclone 1.x.
    """

    __slots__ = ("_body", "_buffer", "content_type", "filename", "headers", "name")

    def __init__(
        self,
        filename: str,
        body: bytes | SpooledBuffer = b"",
        content_type: str = "application/unknown",
        headers: dict[str, str] | None = None,
        name: str = "",
    ) -> None:
        self.filename = filename
        self.content_type = content_type
        self.headers = headers or {}
        self.name = name
        if isinstance(body, SpooledBuffer):
            self._buffer: SpooledBuffer | None = body
            self._body: bytes | None = None
        else:
            self._buffer = None
            self._body = body

    @property
    def body(self) -> bytes:
        if self._body is None:
            assert self._buffer is not None
            self._body = self._buffer.getvalue()
        return self._body

    @property
    def size(self) -> int:
        return len(self._buffer) if self._buffer is not None else len(self._body or b"")

    @property
    def file(self) -> IO[bytes]:
        """The content as a readable binary file."""
        if self._buffer is None:
            self._buffer = SpooledBuffer()
            self._buffer.write(self._body or b"")
        return self._buffer.open()

    def __getitem__(self, key: str) -> Any:
        if key in ("filename", "body", "content_type", "headers", "name"):
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __repr__(self) -> str:
        return (
            f"HTTPFile(filename={self.filename!r}, "
            f"content_type={self.content_type!r}, size={self.size})"
        )


# -- header parameters ----------------------------------------------------------


def _split_params(line: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in line:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def parse_header(line: str) -> tuple[str, dict[str, str]]:
    """Split ``form-data; name="a"; filename*=UTF-8''b`` into the value and parameters.

    Parameter names are lower-cased; quoted values are unquoted; RFC 5987 extended
    values (``name*=charset''value``) are decoded and take precedence.
    """
    parts = _split_params(line)
    value = parts[0].strip().lower()
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, val = part.partition("=")
        if not sep:
            continue
        name = name.strip().lower()
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if name.endswith("*"):
            charset, _, rest = val.partition("''")
            try:
                extended[name[:-1]] = urllib.parse.unquote(rest, encoding=charset or "utf-8")
            except LookupError:
                continue
        else:
            params[name] = val
    params.update(extended)
    return value, params


# -- multipart/form-data ----------------------------------------------------------


def _parse_part_headers(block: bytes) -> dict[str, str]:
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text = block.decode("latin-1")
    headers: dict[str, str] = {}
    for line in text.split("\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or line[0] in " \t":
            raise MultipartError(f"malformed part header line {line[:100]!a}")
        headers[name.lower()] = value.strip(" \t")
    return headers


def parse_multipart_form_data(
    boundary: bytes,
    body: bytes | SpooledBuffer,
    arguments: dict[str, list[bytes]],
    files: dict[str, list[HTTPFile]],
    limits: Any,
) -> None:
    """Parse a multipart/form-data body into ``arguments`` and ``files``.

    ``limits`` supplies ``max_multipart_parts``, ``max_multipart_header_size`` and
    ``body_spill_threshold`` (an :class:`cyclone.httputil.HTTPLimits`).
    """
    if not boundary or len(boundary) > 200:
        raise MultipartError("boundary missing or longer than 200 bytes")
    if isinstance(body, SpooledBuffer):
        blocks: Iterator[bytes] = body.iter_blocks()
    else:
        blocks = iter([body])
    parser = _MultipartParser(boundary, arguments, files, limits)
    for block in blocks:
        parser.feed(block)
    parser.close()


class MultipartStream:
    """A multipart/form-data body parsed as it arrives, so each file part is written once.

    The connection feeds body chunks as llhttp reads them; every part goes straight
    into its own :class:`SpooledBuffer`. The raw body is kept as well while it is
    no larger than ``limits.body_spill_threshold`` (so ``request.body`` still works
    for ordinary forms) and dropped beyond it. A grammar or limit error stops the
    parsing and is kept in :attr:`error`, to be raised when the form is read, as for
    a body parsed later; the rest of the body is then only counted.
    """

    __slots__ = ("_parser", "_raw", "_raw_size", "_threshold", "arguments", "error", "files")

    def __init__(self, boundary: bytes, limits: Any) -> None:
        if not boundary or len(boundary) > 200:
            raise MultipartError("boundary missing or longer than 200 bytes")
        self.arguments: dict[str, list[bytes]] = {}
        self.files: dict[str, list[HTTPFile]] = {}
        self.error: MultipartError | None = None
        self._parser: _MultipartParser | None = _MultipartParser(
            boundary, self.arguments, self.files, limits
        )
        self._threshold = limits.body_spill_threshold
        self._raw: list[bytes] | None = []
        self._raw_size = 0

    def feed(self, data: bytes) -> None:
        if self._raw is not None:
            self._raw_size += len(data)
            if self._raw_size > self._threshold:
                self._raw = None
            else:
                self._raw.append(bytes(data))
        parser = self._parser
        if parser is None:
            return
        try:
            parser.feed(data)
        except MultipartError as e:
            self._fail(e)

    def finish(self) -> None:
        """The body is complete: a part still open is an error."""
        parser = self._parser
        if parser is None:
            return
        try:
            parser.close()
        except MultipartError as e:
            self._fail(e)
        self._parser = None

    def _fail(self, error: MultipartError) -> None:
        self.error = error
        self._parser = None
        self.arguments.clear()
        self.files.clear()

    @property
    def raw(self) -> bytes | None:
        """The raw body, or None when it was larger than the spill threshold."""
        if self._raw is None:
            return None
        if len(self._raw) != 1:
            self._raw = [b"".join(self._raw)]
        return self._raw[0]


class _MultipartParser:
    """Push parser: ``feed`` blocks, then ``close``; raises MultipartError on bad input."""

    def __init__(
        self,
        boundary: bytes,
        arguments: dict[str, list[bytes]],
        files: dict[str, list[HTTPFile]],
        limits: Any,
    ) -> None:
        self.first = b"--" + boundary
        self.delimiter = b"\r\n--" + boundary
        self.arguments = arguments
        self.files = files
        self.limits = limits
        self.buf = bytearray()
        self.state = "preamble"
        self.parts = 0
        self.part: SpooledBuffer | None = None
        self.part_headers: dict[str, str] = {}

    def feed(self, data: bytes) -> None:
        self.buf += data
        while self._step():
            pass

    def _step(self) -> bool:
        buf = self.buf
        state = self.state
        if state == "data":
            assert self.part is not None
            idx = buf.find(self.delimiter)
            if idx < 0:
                safe = len(buf) - len(self.delimiter) + 1
                if safe > 0:
                    self.part.write(bytes(buf[:safe]))
                    del buf[:safe]
                return False
            self.part.write(bytes(buf[:idx]))
            self._finish_part()
            del buf[: idx + len(self.delimiter)]
            self.state = "delimiter"
            return True
        if state == "headers":
            end = buf.find(b"\r\n\r\n")
            limit = self.limits.max_multipart_header_size
            if (end < 0 and len(buf) > limit) or end > limit:
                raise MultipartError(f"a part's headers exceed {limit} bytes", 431)
            if end < 0:
                return False
            self.part_headers = _parse_part_headers(bytes(buf[:end]))
            del buf[: end + 4]
            self._start_part()
            self.state = "data"
            return True
        if state == "delimiter":
            # After a delimiter: "--" closes the body; otherwise optional
            # transport padding and CRLF open the next part.
            if len(buf) < 2:
                return False
            if buf[:2] == b"--":
                del buf[:2]
                self.state = "end"
                return True
            pos = 0
            while pos < len(buf) and buf[pos] in b" \t":
                pos += 1
            if pos + 2 > len(buf):
                if pos > 1024:
                    raise MultipartError("delimiter followed by too much padding")
                return False
            if buf[pos : pos + 2] != b"\r\n":
                raise MultipartError("delimiter not followed by CRLF or '--'")
            del buf[: pos + 2]
            self.parts += 1
            if self.parts > self.limits.max_multipart_parts:
                raise MultipartError(f"more than {self.limits.max_multipart_parts} parts", 413)
            self.state = "headers"
            return True
        if state == "preamble":
            # The first delimiter may open the body or follow a preamble.
            if buf.startswith(self.first):
                del buf[: len(self.first)]
                self.state = "delimiter"
                return True
            idx = buf.find(self.delimiter)
            if idx < 0:
                keep = len(self.delimiter)
                if len(buf) > keep:
                    del buf[: len(buf) - keep]
                return False
            del buf[: idx + len(self.delimiter)]
            self.state = "delimiter"
            return True
        buf.clear()  # "end": the epilogue is ignored
        return False

    def _start_part(self) -> None:
        disposition = self.part_headers.get("content-disposition")
        if disposition is None:
            raise MultipartError("part without Content-Disposition")
        kind, params = parse_header(disposition)
        if kind != "form-data" or not params.get("name"):
            raise MultipartError(f"part is not form-data with a name: {disposition[:100]!a}")
        self.part = SpooledBuffer(self.limits.body_spill_threshold)

    def _finish_part(self) -> None:
        assert self.part is not None
        _, params = parse_header(self.part_headers["content-disposition"])
        name = params["name"]
        if "filename" in params:
            self.files.setdefault(name, []).append(
                HTTPFile(
                    filename=params["filename"],
                    body=self.part,
                    content_type=self.part_headers.get("content-type", "application/unknown"),
                    headers=self.part_headers,
                    name=name,
                )
            )
        else:
            self.arguments.setdefault(name, []).append(self.part.getvalue())
        self.part = None

    def close(self) -> None:
        if self.state != "end":
            raise MultipartError("body ended before the closing delimiter")
