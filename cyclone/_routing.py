"""URL routing: compiled patterns, virtual hosts and reverse URLs.

Strategy: every pattern is compiled once, anchored at the end, and matched
against the raw (still percent-encoded) path; captured groups are unquoted
after the match, so an encoded ``/`` can never change which route matches.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from cyclone._util import import_object
from cyclone.escape import url_escape, utf8


class URLSpec:
    """Maps a path pattern to a handler class and its ``initialize`` keyword arguments.

    Attributes: ``regex`` (the compiled pattern, anchored at the end),
    ``group_count`` (its number of capturing groups, read on every match),
    ``literal`` (the path itself when the pattern is plain text, else None),
    ``handler_class``, ``kwargs`` and ``name`` (for :meth:`reverse`, or None).
    """

    __slots__ = ("_path", "group_count", "handler_class", "kwargs", "literal", "name", "regex")

    def __init__(
        self,
        pattern: str | re.Pattern[str],
        handler: Any,
        kwargs: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(pattern, str):
            if not pattern.endswith("$"):
                pattern += "$"
            self.regex = re.compile(pattern)
        else:
            self.regex = pattern
        if isinstance(handler, str):
            handler = import_object(handler)
        self.handler_class = handler
        self.kwargs = kwargs or {}
        self.name = name
        self.group_count: int = self.regex.groups
        self._path = self._reverse_template()
        #: The one path this pattern matches when it has no regex syntax at all
        #: (``/``, ``/json``): routing compares strings instead of running the regex.
        self.literal: str | None = None
        pieces, count = self._path
        if pieces is not None and count == 0 and not self.regex.flags & ~re.UNICODE:
            self.literal = pieces[0]

    def _reverse_template(self) -> tuple[list[str], int] | tuple[None, None]:
        """Turn ``/user/([0-9]+)/x`` into ``(["/user/", "/x"], 1)`` when the pattern allows it.

        The literal pieces sit between the groups; None when the pattern has
        nested or non-capturing groups or regex syntax outside its groups.
        """
        pattern = self.regex.pattern
        if pattern.startswith("^"):
            pattern = pattern[1:]
        if pattern.endswith("$"):
            pattern = pattern[:-1]
        if self.regex.groups != pattern.count("("):
            return None, None
        fragments = pattern.split("(")
        try:
            pieces = [_unescape_literal(fragments[0])]
            for fragment in fragments[1:]:
                if ")" not in fragment:
                    return None, None
                pieces.append(_unescape_literal(fragment[fragment.index(")") + 1 :]))
        except ValueError:
            return None, None
        return pieces, self.regex.groups

    def reverse(self, *args: Any) -> str:
        """The path for ``args`` (one per group), each percent-encoded."""
        pieces, count = self._path
        if pieces is None:
            raise ValueError(f"cannot reverse the pattern {self.regex.pattern!r}")
        if len(args) != count:
            raise ValueError(f"{self.name or self.regex.pattern!r} needs {count} arguments")
        out = [pieces[0]]
        for arg, literal in zip(args, pieces[1:], strict=True):
            if not isinstance(arg, (str, bytes)):
                arg = str(arg)
            out.append(url_escape(utf8(arg), plus=False))
            out.append(literal)
        return "".join(out)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.regex.pattern!r}, {self.handler_class.__name__}, "
            f"kwargs={self.kwargs!r}, name={self.name!r})"
        )


url = URLSpec


def _unescape_literal(fragment: str) -> str:
    """Undo regex escapes in a literal fragment; fail on real regex syntax."""
    out: list[str] = []
    chars = iter(fragment)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            if nxt.isalnum():
                raise ValueError("not a literal")
            out.append(nxt)
        elif ch in "^$.*+?{}[]|":
            raise ValueError("not a literal")
        else:
            out.append(ch)
    return "".join(out)


def unquote_path_arg(value: str | None) -> str | bytes | None:
    """Percent-decode a captured path group: bytes when it had escapes, else the str itself.

    The handler's ``decode_argument`` turns the bytes into str (400 on invalid UTF-8).
    """
    if value is None or "%" not in value:
        return value
    return urllib.parse.unquote_to_bytes(value)


class HostRules:
    """Virtual hosts: an ordered list of ``(host regex, [URLSpec, ...])``."""

    __slots__ = ("rules",)

    def __init__(self) -> None:
        self.rules: list[tuple[re.Pattern[str], list[URLSpec]]] = []

    def add(self, host_pattern: str, specs: list[URLSpec]) -> None:
        """Add the routes of a host pattern (matched against the whole host name)."""
        if not host_pattern.endswith("$"):
            host_pattern += "$"
        regex = re.compile(host_pattern)
        # A catch-all host keeps last place so later virtual hosts still match.
        if self.rules and self.rules[-1][0].pattern == ".*$":
            self.rules.insert(-1, (regex, specs))
        else:
            self.rules.append((regex, specs))

    def for_host(self, host_name: str, default_host: str | None) -> list[URLSpec] | None:
        """The routes of the first matching host, else of ``default_host``, else None."""
        for regex, specs in self.rules:
            if regex.match(host_name):
                return specs
        if default_host:
            for regex, specs in self.rules:
                if regex.match(default_host):
                    return specs
        return None
