"""Template source -> a tree of nodes.

Strategy: one left-to-right scan of the template text. Plain text runs until the
next ``{{``, ``{%`` or ``{#``; each tag becomes a node, and block tags
(``{% if %}``, ``{% for %}``, ``{% block %}``...) recurse until their
``{% end %}``. The nodes are plain data: turning them into Python is the job of
:mod:`cyclone._template_codegen`. Every node remembers its line, and every
error is a :class:`ParseError` that names the template and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Apply",
    "Block",
    "ControlBlock",
    "Expression",
    "Extends",
    "Include",
    "IntermediateControl",
    "Node",
    "ParseError",
    "Statement",
    "Super",
    "Text",
    "filter_whitespace",
    "parse",
]


class ParseError(Exception):
    """A template could not be compiled; ``str()`` ends with ``at name:line``."""

    def __init__(self, message: str, filename: str | None = None, lineno: int = 0) -> None:
        self.message = message
        self.filename = filename
        self.lineno = lineno
        super().__init__(message, filename, lineno)

    def __str__(self) -> str:
        return f"{self.message} at {self.filename}:{self.lineno}"


_SPACES_AND_TABS = re.compile(r"[\t ]+")
_SPACE_AROUND_NEWLINES = re.compile(r"\s*\n\s*")
_ANY_WHITESPACE = re.compile(r"\s+")


def filter_whitespace(mode: str, text: str) -> str:
    """Apply a whitespace mode to template text.

    ``"all"`` keeps text as written; ``"single"`` collapses runs of spaces and
    tabs to one space and runs of whitespace containing a newline to one newline;
    ``"oneline"`` collapses every run of whitespace to one space.
    """
    if mode == "all":
        return text
    if mode == "single":
        return _SPACE_AROUND_NEWLINES.sub("\n", _SPACES_AND_TABS.sub(" ", text))
    if mode == "oneline":
        return _ANY_WHITESPACE.sub(" ", text)
    raise ValueError(f"invalid whitespace mode {mode!r}: use 'all', 'single' or 'oneline'")


# --- nodes -------------------------------------------------------------------


@dataclass
class Node:
    line: int


@dataclass
class Text(Node):
    value: str
    whitespace: str


@dataclass
class Expression(Node):
    """``{{ expr }}``, ``{% raw expr %}`` and ``{% module expr %}``."""

    expression: str
    raw: bool = False


@dataclass
class Statement(Node):
    """``{% set %}``, ``{% import %}``, ``{% from %}``, ``{% break %}``, ``{% continue %}``."""

    statement: str
    awaits: bool = False  # {% set %}: a Deferred or coroutine value is awaited


@dataclass
class ControlBlock(Node):
    """``{% if %}``, ``{% for %}``, ``{% while %}``, ``{% try %}`` with their body."""

    statement: str
    body: list[Node]


@dataclass
class IntermediateControl(Node):
    """``{% elif %}``, ``{% else %}``, ``{% except %}``, ``{% finally %}``."""

    statement: str


@dataclass
class Apply(Node):
    function: str
    body: list[Node]


@dataclass
class Block(Node):
    name: str
    body: list[Node]
    template: Any  # the Template the block was written in


@dataclass
class Extends(Node):
    name: str


@dataclass
class Include(Node):
    name: str
    template_name: str  # the including template, to resolve relative paths


@dataclass
class Super(Node):
    pass


# --- the scanner -------------------------------------------------------------


@dataclass
class _Reader:
    name: str
    text: str
    whitespace: str
    pos: int = 0
    line: int = 1

    def find(self, needle: str, start: int = 0) -> int:
        """Index of ``needle`` relative to the current position, or -1."""
        index = self.text.find(needle, self.pos + start)
        return -1 if index == -1 else index - self.pos

    def consume(self, count: int | None = None) -> str:
        end = len(self.text) if count is None else self.pos + count
        chunk = self.text[self.pos : end]
        self.line += chunk.count("\n")
        self.pos = end
        return chunk

    def remaining(self) -> int:
        return len(self.text) - self.pos

    def char(self, offset: int) -> str:
        return self.text[self.pos + offset]

    def error(self, message: str, line: int | None = None) -> ParseError:
        return ParseError(message, self.name, self.line if line is None else line)


# Which blocks an intermediate tag may continue.
_INTERMEDIATE = {
    "else": ("if", "for", "while", "try"),
    "elif": ("if",),
    "except": ("try",),
    "finally": ("try",),
}
_PATH_REQUIRED = {"extends", "include"}
_STATEMENT_REQUIRED = {"import", "from", "set"}
_LOOPS = ("for", "while")


def parse(name: str, text: str, whitespace: str, template: Any) -> list[Node]:
    """Parse template ``text``; ``{% autoescape %}`` is applied to ``template``."""
    filter_whitespace(whitespace, "")  # validate the mode early
    return _parse_body(_Reader(name, text, whitespace), template, None, None)


def _next_tag(reader: _Reader) -> int:
    """Offset of the next ``{{``, ``{%`` or ``{#``, or -1 at the end of the text."""
    curly = 0
    while True:
        curly = reader.find("{", curly)
        if curly == -1 or curly + 1 == reader.remaining():
            return -1
        if reader.char(curly + 1) not in "{%#":
            curly += 1
            continue
        # With three or more curlies in a row the innermost pair opens the tag,
        # which lets templates emit languages full of braces (LaTeX, JS).
        if (
            curly + 2 < reader.remaining()
            and reader.char(curly + 1) == reader.char(curly + 2) == "{"
        ):
            curly += 1
            continue
        return curly


def _parse_body(
    reader: _Reader, template: Any, in_block: str | None, in_loop: str | None, opened_at: int = 0
) -> list[Node]:
    nodes: list[Node] = []
    while True:
        curly = _next_tag(reader)
        if curly == -1:
            if in_block:
                raise reader.error(f"Missing {{% end %}} block for {in_block}", opened_at)
            if reader.remaining():
                nodes.append(Text(reader.line, reader.consume(), reader.whitespace))
            return nodes
        if curly > 0:
            line = reader.line
            nodes.append(Text(line, reader.consume(curly), reader.whitespace))

        opener = reader.consume(2)
        line = reader.line

        # "{{!", "{%!" and "{#!" print the opener literally.
        if reader.remaining() and reader.char(0) == "!":
            reader.consume(1)
            nodes.append(Text(line, opener, reader.whitespace))
            continue

        if opener == "{#":
            end = reader.find("#}")
            if end == -1:
                raise reader.error("Missing end comment #}", line)
            reader.consume(end + 2)
            continue

        if opener == "{{":
            end = reader.find("}}")
            if end == -1:
                raise reader.error("Missing end expression }}", line)
            contents = reader.consume(end).strip()
            reader.consume(2)
            if not contents:
                raise reader.error("Empty expression", line)
            nodes.append(Expression(line, contents))
            continue

        end = reader.find("%}")
        if end == -1:
            raise reader.error("Missing end block %}", line)
        contents = reader.consume(end).strip()
        reader.consume(2)
        if not contents:
            raise reader.error("Empty block tag ({% %})", line)
        operator, _, suffix = contents.partition(" ")
        suffix = suffix.strip()

        if operator in _INTERMEDIATE:
            parents = _INTERMEDIATE[operator]
            if not in_block:
                raise reader.error(f"{operator} outside {' or '.join(parents)} block", line)
            if in_block not in parents:
                raise reader.error(f"{operator} block cannot be attached to {in_block} block", line)
            nodes.append(IntermediateControl(line, contents))
            continue

        if operator == "end":
            if not in_block:
                raise reader.error("Extra {% end %} block", line)
            return nodes

        node = _parse_tag(reader, template, operator, suffix, contents, line, in_loop)
        if node is not None:
            nodes.append(node)


def _parse_tag(
    reader: _Reader,
    template: Any,
    operator: str,
    suffix: str,
    contents: str,
    line: int,
    in_loop: str | None,
) -> Node | None:
    if operator in _PATH_REQUIRED:
        path = suffix.strip("\"'")
        if not path:
            raise reader.error(f"{operator} missing file path", line)
        if operator == "extends":
            return Extends(line, path)
        return Include(line, path, reader.name)
    if operator in _STATEMENT_REQUIRED:
        if not suffix:
            raise reader.error(f"{operator} missing statement", line)
        if operator == "set":
            return Statement(line, suffix, awaits=True)
        return Statement(line, contents)
    if operator == "comment":
        return None
    if operator == "autoescape":
        template.autoescape = None if suffix == "None" else suffix
        return None
    if operator == "whitespace":
        try:
            filter_whitespace(suffix, "")
        except ValueError as e:
            raise reader.error(str(e), line)
        reader.whitespace = suffix
        return None
    if operator == "raw":
        return Expression(line, suffix, raw=True)
    if operator == "module":
        return Expression(line, "_tt_modules." + suffix, raw=True)
    if operator == "super":
        return Super(line)
    if operator in ("break", "continue"):
        if not in_loop:
            raise reader.error(f"{operator} outside for or while block", line)
        return Statement(line, contents)
    if operator in ("apply", "block", "try", "if", "for", "while"):
        if operator in _LOOPS:
            loop = operator
        elif operator == "apply":
            loop = None  # the body becomes its own function: no break/continue out of it
        else:
            loop = in_loop
        body = _parse_body(reader, template, operator, loop, line)
        if operator == "apply":
            if not suffix:
                raise reader.error("apply missing method name", line)
            return Apply(line, suffix, body)
        if operator == "block":
            if not suffix:
                raise reader.error("block missing name", line)
            return Block(line, suffix, body, template)
        return ControlBlock(line, contents, body)
    raise reader.error(f"unknown operator: {operator!r}", line)
