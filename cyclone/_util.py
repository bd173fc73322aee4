"""Small helpers shared by every layer: attribute dicts and dotted-name imports."""

from __future__ import annotations

import importlib
from typing import Any


class ObjectDict(dict):
    """A dict whose keys are also attributes: ``d.debug`` is ``d["debug"]``."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None


def import_object(name: str) -> Any:
    """Import ``package.module.attr`` (or a bare module name) and return it."""
    if "." not in name:
        return importlib.import_module(name)
    module_name, _, attr = name.rpartition(".")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError(f"module {module_name!r} has no attribute {attr!r}") from None
