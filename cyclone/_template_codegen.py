"""A parsed template tree -> the Python source of one coroutine function.

Strategy: a template, its ``{% extends %}`` ancestors and its ``{% include %}``
files are inlined into a single ``async def _tt_execute()`` that appends UTF-8
chunks to a list and returns their join. Blocks are resolved at generation
time: each ``{% block %}`` renders its most derived override, and
``{% super %}`` renders the next one up the chain.

The function is a coroutine so that values which are Deferreds or coroutines
can be awaited where they are used (``{{ }}``, ``{% raw %}``, ``{% module %}``,
the value of ``{% set %}``, the iterable of ``{% for %}``), and so that an
explicit ``await`` is legal anywhere in a template. A template that never
waits finishes on the coroutine's first step, which is how
:meth:`cyclone.template.Template.generate` stays synchronous.

Every generated line ends with a ``# name:line`` comment and has an entry in a
line map, so compile and runtime errors can be reported in template terms.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cyclone import escape
from cyclone._template_parser import (
    Apply,
    Block,
    ControlBlock,
    Expression,
    Extends,
    Include,
    IntermediateControl,
    Node,
    ParseError,
    Statement,
    Super,
    Text,
    filter_whitespace,
)

__all__ = ["SourceLine", "generate_python"]

# (template name, line in that template, " (via parent:line, ...)" or "")
SourceLine = tuple[str, int, str]

_MAYBE_AWAIT = "((await _tt_v) if isinstance(_tt_v := ({}), _tt_async_types) else _tt_v)"


def generate_python(template: Any, loader: Any) -> tuple[str, list[SourceLine]]:
    """Return the source of ``_tt_execute`` for ``template`` and its line map."""
    ancestors = _ancestors(template, loader)
    ancestors.reverse()  # the root template is rendered; descendants only fill blocks
    named_blocks: dict[str, list[Block]] = {}
    for ancestor in ancestors:
        _find_blocks(ancestor.nodes, loader, named_blocks)
    writer = _Writer(loader, named_blocks, ancestors[0])
    writer.write("async def _tt_execute():", 1)
    with writer.indented():
        writer.write_function_body(ancestors[0].nodes)
    return "".join(writer.lines), writer.line_map


def _ancestors(template: Any, loader: Any) -> list[Any]:
    chain = [template]
    for node in template.nodes:
        if isinstance(node, Extends):
            if loader is None:
                raise ParseError(
                    "{% extends %} block found, but no template loader", template.name, node.line
                )
            chain.extend(_ancestors(loader.load(node.name, template.name), loader))
    return chain


def _find_blocks(nodes: list[Node], loader: Any, found: dict[str, list[Block]]) -> None:
    for node in nodes:
        if isinstance(node, Block):
            found.setdefault(node.name, []).append(node)
            _find_blocks(node.body, loader, found)
        elif isinstance(node, (ControlBlock, Apply)):
            _find_blocks(node.body, loader, found)
        elif isinstance(node, Include) and loader is not None:
            _find_blocks(loader.load(node.name, node.template_name).nodes, loader, found)


class _Writer:
    def __init__(self, loader: Any, named_blocks: dict[str, list[Block]], template: Any) -> None:
        self.loader = loader
        self.named_blocks = named_blocks
        self.template = template
        self.lines: list[str] = []
        self.line_map: list[SourceLine] = []
        self.indent = 0
        self.include_stack: list[tuple[Any, int]] = []
        self.block_stack: list[tuple[str, int]] = []  # (block name, index in its chain)
        self.apply_counter = 0

    def write(self, code: str, line: int, indent: int | None = None) -> None:
        via = ""
        if self.include_stack:
            via = " (via {})".format(
                ", ".join(f"{t.name}:{n}" for t, n in reversed(self.include_stack))
            )
        source: SourceLine = (self.template.name, line, via)
        prefix = "    " * (self.indent if indent is None else indent)
        self.lines.append(f"{prefix}{code}  # {self.template.name}:{line}{via}\n")
        # A statement may span lines ({% set x = [1,\n 2] %}): map each of them.
        self.line_map.extend([source] * (code.count("\n") + 1))

    @contextmanager
    def indented(self) -> Iterator[None]:
        self.indent += 1
        try:
            yield
        finally:
            self.indent -= 1

    @contextmanager
    def inside(self, template: Any, line: int) -> Iterator[None]:
        self.include_stack.append((self.template, line))
        self.template = template
        try:
            yield
        finally:
            self.template, _ = self.include_stack.pop()

    def write_function_body(self, nodes: list[Node]) -> None:
        line = nodes[0].line if nodes else 1
        self.write("_tt_buffer = []", line)
        self.write("_tt_append = _tt_buffer.append", line)
        self.write_nodes(nodes)
        self.write("return _tt_utf8('').join(_tt_buffer)", line)

    def write_nodes(self, nodes: list[Node]) -> None:
        # A run of text and {{ }} is appended at once: each expression is
        # evaluated and escaped in turn into a temporary, and the run's chunks
        # go into the buffer with one ``+=`` (nothing can see the buffer before).
        run: list[str] = []
        line = 1
        for node in nodes:
            if isinstance(node, Text):
                chunk = self.text_chunk(node)
                if chunk is not None:
                    run.append(chunk)
                    line = node.line
            elif isinstance(node, Expression):
                target = f"_tt_e{len(run)}"
                self.write_expression(node, target)
                run.append(target)
                line = node.line
            else:
                self.flush_run(run, line)
                self.write_node(node)
        self.flush_run(run, line)

    def flush_run(self, run: list[str], line: int) -> None:
        if len(run) == 1:
            self.write(f"_tt_append({run[0]})", line)
        elif run:
            self.write(f"_tt_buffer += ({', '.join(run)})", line)
        run.clear()

    def write_node(self, node: Node) -> None:
        match node:
            case Text():
                self.write_text(node)
            case Expression():
                self.write_expression(node)
            case Statement():
                statement = _await_value(node.statement) if node.awaits else node.statement
                self.write(statement, node.line)
            case ControlBlock():
                statement = node.statement
                if statement.startswith("for "):
                    statement = _await_iterable(statement)
                self.write(statement + ":", node.line)
                with self.indented():
                    self.write_nodes(node.body)
                    self.write("pass", node.line)  # the body may be empty
            case IntermediateControl():
                self.write("pass", node.line)  # the branch before may be empty
                self.write(node.statement + ":", node.line, self.indent - 1)
            case Apply():
                self.write_apply(node)
            case Block():
                chain = self.named_blocks[node.name]
                self.write_block(node.name, len(chain) - 1, node.line)
            case Super():
                self.write_super(node)
            case Include():
                self.write_include(node)
            case Extends():
                pass  # handled by generate_python

    def write_text(self, node: Text) -> None:
        chunk = self.text_chunk(node)
        if chunk is not None:
            self.write(f"_tt_append({chunk})", node.line)

    def text_chunk(self, node: Text) -> str | None:
        """The bytes literal of ``node``'s text after whitespace filtering; None if empty."""
        value = node.value
        # Whitespace inside <pre> is content; leave such chunks alone.
        if "<pre>" not in value:
            value = filter_whitespace(node.whitespace, value)
        return repr(escape.utf8(value)) if value else None

    def write_expression(self, node: Expression, target: str | None = None) -> None:
        """Evaluate, await if needed, convert and escape ``node``; append the bytes,
        or assign them to ``target`` when it is given."""
        line = node.line
        self.write(f"_tt_tmp = {node.expression}", line)
        # Deferred's class is an ABC, slow to isinstance-check: let strings,
        # numbers and None skip it.
        self.write(
            "if _tt_tmp.__class__ not in _tt_plain_types"
            " and isinstance(_tt_tmp, _tt_async_types): _tt_tmp = await _tt_tmp",
            line,
        )
        autoescape = None if node.raw else self.template.autoescape
        if autoescape == "xhtml_escape":
            # The default: escape and encode in one step, unless the namespace
            # gives xhtml_escape another meaning (then the general path below).
            self.write("if xhtml_escape is _tt_xhtml_escape:", line)
            with self.indented():
                self.write(_store(target, "_tt_xhtml_escape_utf8(_tt_tmp)"), line)
            self.write("else:", line)
            with self.indented():
                self._write_expression_tail(autoescape, line, target)
            return
        self._write_expression_tail(autoescape, line, target)

    def _write_expression_tail(self, autoescape: str | None, line: int, target: str | None) -> None:
        self.write("if isinstance(_tt_tmp, _tt_string_types): _tt_tmp = _tt_utf8(_tt_tmp)", line)
        self.write("else: _tt_tmp = _tt_utf8(str(_tt_tmp))", line)
        if autoescape is not None:
            self.write(f"_tt_tmp = _tt_utf8({autoescape}(_tt_tmp))", line)
        self.write(_store(target, "_tt_tmp"), line)

    def write_apply(self, node: Apply) -> None:
        function = f"_tt_apply{self.apply_counter}"
        self.apply_counter += 1
        self.write(f"async def {function}():", node.line)
        with self.indented():
            self.write_function_body(node.body)
        self.write(f"_tt_tmp = {node.function}(await {function}())", node.line)
        self.write("if isinstance(_tt_tmp, _tt_async_types): _tt_tmp = await _tt_tmp", node.line)
        self.write("_tt_append(_tt_utf8(_tt_tmp))", node.line)

    def write_block(self, name: str, level: int, line: int) -> None:
        block = self.named_blocks[name][level]
        self.block_stack.append((name, level))
        try:
            with self.inside(block.template, line):
                self.write_nodes(block.body)
        finally:
            self.block_stack.pop()

    def write_super(self, node: Super) -> None:
        if not self.block_stack:
            raise ParseError("{% super %} outside a {% block %}", self.template.name, node.line)
        name, level = self.block_stack[-1]
        if level == 0:
            raise ParseError(
                f"{{% super %}} in block {name!r}, which no parent template defines",
                self.template.name,
                node.line,
            )
        self.write_block(name, level - 1, node.line)

    def write_include(self, node: Include) -> None:
        if self.loader is None:
            raise ParseError("{% include %} needs a template loader", self.template.name, node.line)
        included = self.loader.load(node.name, node.template_name)
        with self.inside(included, node.line):
            self.write_nodes(included.nodes)


def _store(target: str | None, value: str) -> str:
    return f"{target} = {value}" if target is not None else f"_tt_append({value})"


def _await_iterable(statement: str) -> str:
    """Rewrite ``for x in EXPR`` so that a Deferred or coroutine EXPR is awaited."""
    try:
        tree = ast.parse(statement + ":\n pass")
    except SyntaxError:
        return statement  # compile() reports it, with the template line
    node = tree.body[0]
    if not isinstance(node, ast.For):
        return statement
    iterable = _MAYBE_AWAIT.format(ast.unparse(node.iter))
    return f"for {ast.unparse(node.target)} in {iterable}"


def _await_value(statement: str) -> str:
    """Rewrite ``targets = EXPR`` so that a Deferred or coroutine EXPR is awaited."""
    try:
        tree = ast.parse(statement)
    except SyntaxError:
        return statement
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        return statement
    node = tree.body[0]
    targets = " = ".join(ast.unparse(target) for target in node.targets)
    return f"{targets} = {_MAYBE_AWAIT.format(ast.unparse(node.value))}"
