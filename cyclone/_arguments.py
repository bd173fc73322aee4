"""Request arguments on the handler: ``get_argument`` and its family, ``decode_argument``.

A mixin of :class:`cyclone.web.RequestHandler` that reads only the request's
parsed arguments (``request.arguments``, ``query_arguments``,
``body_arguments``) and its own overridable ``decode_argument``. Values are
decoded from UTF-8 (400 naming the argument when that fails), control
characters become spaces, and surrounding whitespace is stripped unless
``strip=False``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from cyclone._errors import HTTPError, MissingArgumentError

if TYPE_CHECKING:
    from cyclone._request import HTTPRequest

__all__ = ["RequestArgumentsMixin"]

_ARG_DEFAULT: Any = object()
# C0 controls other than tab, newline, vertical tab, form feed and carriage return.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f]")


class RequestArgumentsMixin:
    """The argument accessors of RequestHandler (Tornado's names and meanings)."""

    if TYPE_CHECKING:
        request: HTTPRequest

    def get_argument(self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True) -> Any:
        """The last value of query or body argument ``name``; 400 when missing and no default."""
        return self._get_argument(name, default, self.request.arguments, strip)

    def get_arguments(self, name: str, strip: bool = True) -> list[str]:
        """Every value of query or body argument ``name`` (an empty list when absent)."""
        return self._get_arguments(name, self.request.arguments, strip)

    def get_query_argument(self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True) -> Any:
        """The last value of query argument ``name``; 400 when missing and no default."""
        return self._get_argument(name, default, self.request.query_arguments, strip)

    def get_query_arguments(self, name: str, strip: bool = True) -> list[str]:
        """Every value of query argument ``name``."""
        return self._get_arguments(name, self.request.query_arguments, strip)

    def get_body_argument(self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True) -> Any:
        """The last value of form-body argument ``name``; 400 when missing and no default."""
        return self._get_argument(name, default, self.request.body_arguments, strip)

    def get_body_arguments(self, name: str, strip: bool = True) -> list[str]:
        """Every value of form-body argument ``name`` (urlencoded or multipart)."""
        return self._get_arguments(name, self.request.body_arguments, strip)

    def decode_argument(self, value: bytes | str | None, name: str | None = None) -> Any:
        """Decode an argument or path group from UTF-8; 400 names it when that fails.

        Override to accept another encoding. Path groups without percent escapes
        arrive already as str, and groups that did not match as None.
        """
        if value is None or isinstance(value, str):
            return value
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            what = f"argument {name}" if name else "url path"
            raise HTTPError(
                400,
                f"Invalid unicode in {what}: {value[:40]!r}",
                reason=f"Invalid unicode in {what}",
            ) from None

    def _get_argument(
        self, name: str, default: Any, source: dict[str, list[bytes]], strip: bool
    ) -> Any:
        values = self._get_arguments(name, source, strip)
        if not values:
            if default is _ARG_DEFAULT:
                raise MissingArgumentError(name)
            return default
        return values[-1]

    def _get_arguments(self, name: str, source: dict[str, list[bytes]], strip: bool) -> list[str]:
        values = []
        for raw in source.get(name, ()):
            value = self.decode_argument(raw, name=name)
            if isinstance(value, str):
                value = _CONTROL_CHARS.sub(" ", value)
                if strip:
                    value = value.strip()
            values.append(value)
        return values
