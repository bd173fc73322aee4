"""What a request handler may ask of the Application that created it.

A leaf contract of the web layer: :class:`cyclone.web.Application` implements
:class:`HandlerApplication` structurally, so the handler's modules (``_handler``,
``_rendering``) type ``self.application`` with it instead of importing the
Application, which imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from cyclone._util import ObjectDict
from cyclone.template import BaseLoader

__all__ = ["HandlerApplication"]


class HandlerApplication(Protocol):
    """The members of an Application that handlers (and their mixins) use."""

    settings: ObjectDict
    ui_modules: dict[str, type[Any]]
    ui_methods: dict[str, Callable[..., Any]]
    template_loaders: dict[str, BaseLoader]

    def reverse_url(self, name: str, *args: Any) -> str:
        """The path of the handler named ``name``, with ``args`` in its groups."""
        ...

    def log_request(self, handler: Any) -> None:
        """Log one finished request (``handler`` is the RequestHandler that answered it)."""
        ...
