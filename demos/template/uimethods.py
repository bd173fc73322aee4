"""The template demo's UI method: called in templates without the handler argument."""

from __future__ import annotations

import time
from typing import Any


def ago(handler: Any, when: float) -> str:
    """``when`` (a timestamp) as "N minutes ago", in the request's locale."""
    return handler.locale.format_date(when, relative=True) if time.time() - when > 60 else "now"
