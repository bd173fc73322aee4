"""What ``cyclone run --reload`` watches, and how it notices a change.

A worker names what its applications were built from (:func:`watched_paths`): the
Python files of the modules it imported that are not part of the Python
installation (the standard library and the virtual environment's packages stay
out), each application's ``template_path`` and ``static_path`` directories, and an
``--appopts`` value that is a file (a 1.x configuration file). The supervisor polls
their modification times (:func:`snapshot`); the set is bounded by
:data:`MAX_FILES`, so a huge static tree cannot make polling expensive.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["MAX_FILES", "changed", "snapshot", "watched_paths"]

MAX_FILES = 5000

_SKIP_DIRS = {"__pycache__", ".git", ".hg", ".svn", "node_modules", ".venv"}


def _installation_prefixes() -> tuple[str, ...]:
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return tuple(os.path.join(os.path.realpath(p), "") for p in prefixes)


def watched_paths(apps: Iterable[Any], appopts: Iterable[str | None] = ()) -> list[str]:
    """Files and directories whose change should restart the server (absolute, sorted)."""
    outside = _installation_prefixes()
    paths: set[str] = set()
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not filename or not filename.endswith(".py"):
            continue
        real = os.path.realpath(filename)
        if not real.startswith(outside):
            paths.add(real)
    for app in apps:
        settings = getattr(app, "settings", {}) or {}
        for key in ("template_path", "static_path"):
            value = settings.get(key)
            if isinstance(value, str) and os.path.isdir(value):
                paths.add(os.path.realpath(value))
    for value in appopts:
        if value and os.path.isfile(value):
            paths.add(os.path.realpath(value))
    return sorted(paths)


def snapshot(paths: Iterable[str], limit: int = MAX_FILES) -> dict[str, tuple[int, int]]:
    """``{file: (mtime_ns, size)}`` of the files (directories walked), at most ``limit``."""
    seen: dict[str, tuple[int, int]] = {}

    def add(path: str) -> bool:
        try:
            st = os.stat(path)
        except OSError:
            return True  # gone: absent from the snapshot, which is a change
        seen[path] = (st.st_mtime_ns, st.st_size)
        return len(seen) < limit

    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
                for name in sorted(files):
                    if not add(os.path.join(root, name)):
                        return seen
        elif not add(path):
            return seen
    return seen


def changed(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    """The files added, removed or modified between two snapshots."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
