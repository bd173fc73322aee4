"""The Tornado template language: compile templates to Python, render them to bytes.

Strategy: :class:`Template` parses its source once
(:mod:`cyclone._template_parser`), generates the source of one coroutine
function with every include, ancestor and block inlined
(:mod:`cyclone._template_codegen`) and compiles it. Rendering executes the
compiled code in a fresh namespace and drives the coroutine:

- :meth:`Template.generate` drives it synchronously and returns bytes. It is
  the fast path, and works for every template that does not wait on a
  Deferred that has not fired yet.
- :meth:`Template.generate_async` hands it to Twisted and returns a
  ``Deferred[bytes]``; use it when templates may wait, e.g.
  ``{{ db.runQuery("...") }}`` or ``{% for row in db.runQuery("...") %}``.

A Deferred or coroutine value is awaited where it is output (``{{ }}``,
``{% raw %}``, ``{% module %}``, ``{% apply %}``), where ``{% set x = ... %}``
assigns it, and where ``{% for ... in ... %}`` iterates over it; ``await`` may
also be written explicitly in any expression.

Loaders (:class:`Loader` for a directory, :class:`DictLoader` for a dict)
compile each template once and cache it until :meth:`BaseLoader.reset`.

Errors speak in template terms: a :class:`ParseError` ends with ``at name:line``
(a Python syntax error inside a tag is one too), and an exception raised while
rendering carries a note ``in template name:line``; tracebacks also show the
generated line, which ends with a ``# name:line`` comment.
"""

from __future__ import annotations

import datetime
import itertools
import linecache
import os.path
import posixpath
import threading
import types
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from twisted.internet import defer

from cyclone import escape
from cyclone._template_codegen import SourceLine, generate_python
from cyclone._template_parser import Node, ParseError, filter_whitespace, parse

__all__ = [
    "BaseLoader",
    "DictLoader",
    "Loader",
    "ParseError",
    "Template",
    "TemplateNotReady",
    "filter_whitespace",
]

_DEFAULT_AUTOESCAPE = "xhtml_escape"
_UNSET: Any = object()

def _xhtml_escape_utf8(value: Any) -> bytes:
    """``utf8(xhtml_escape(utf8(value)))`` without the round trip through bytes.

    What an autoescaped ``{{ expression }}`` appends when ``xhtml_escape`` is
    the built-in one: a str (or anything, through ``str()``) is escaped and
    encoded once; bytes are decoded first, as ``xhtml_escape`` does.
    """
    if value.__class__ is not str and not isinstance(value, str):
        value = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    # html.escape(value, quote=True), spelled out: one call fewer per expression.
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
        .encode("utf-8")
    )


# Names every template sees before the loader's namespace and the caller's kwargs.
_BASE_NAMESPACE: dict[str, Any] = {
    "escape": escape.xhtml_escape,
    "xhtml_escape": escape.xhtml_escape,
    "url_escape": escape.url_escape,
    "json_encode": escape.json_encode,
    "squeeze": escape.squeeze,
    "linkify": escape.linkify,
    "datetime": datetime,
    "_tt_utf8": escape.utf8,
    "_tt_xhtml_escape": escape.xhtml_escape,
    "_tt_xhtml_escape_utf8": _xhtml_escape_utf8,
    "_tt_string_types": (str, bytes),
    # Exact classes that are never awaited: a set lookup instead of an isinstance
    # check against Deferred (an ABC, slow to check).
    "_tt_plain_types": frozenset([str, bytes, int, float, bool, type(None)]),
    "_tt_async_types": (defer.Deferred, types.CoroutineType),
}

_filename_counter = itertools.count(2)


class TemplateNotReady(RuntimeError):
    """:meth:`Template.generate` met a value that is still pending."""


class _SourceLoader:
    """Gives :mod:`linecache` the generated source, so tracebacks can show it."""

    def __init__(self, code: str) -> None:
        self.code = code

    def get_source(self, name: str) -> str:
        return self.code


class Template:
    """A compiled template.

    ``template_string`` is the source (str or UTF-8 bytes); ``name`` appears in
    error messages and resolves relative ``{% include %}``/``{% extends %}``
    paths through ``loader``. ``autoescape`` names the function applied to every
    ``{{ }}`` (``None`` turns escaping off; default: the loader's, else
    ``"xhtml_escape"``). ``whitespace`` is ``"all"``, ``"single"`` or
    ``"oneline"`` (default: the loader's, else ``"single"`` for ``.html`` and
    ``.js`` names and ``"all"`` otherwise); ``compress_whitespace`` is the older
    boolean spelling of ``"single"``/``"all"``.
    """

    def __init__(
        self,
        template_string: str | bytes,
        name: str = "<string>",
        loader: BaseLoader | None = None,
        compress_whitespace: bool = _UNSET,
        autoescape: str | None = _UNSET,
        whitespace: str | None = None,
    ) -> None:
        self.name: str = name
        if compress_whitespace is not _UNSET:
            if whitespace is not None:
                raise ValueError("cannot set both whitespace and compress_whitespace")
            whitespace = "single" if compress_whitespace else "all"
        if whitespace is None:
            if loader is not None and loader.whitespace:
                whitespace = loader.whitespace
            elif name.endswith((".html", ".js")):
                whitespace = "single"
            else:
                whitespace = "all"
        if autoescape is _UNSET:
            autoescape = loader.autoescape if loader is not None else _DEFAULT_AUTOESCAPE
        self.autoescape: str | None = autoescape
        self.namespace: dict[str, Any] = loader.namespace if loader is not None else {}
        self.loader = loader
        self.nodes: list[Node] = parse(name, escape.to_unicode(template_string), whitespace, self)
        self.code, self._line_map = generate_python(self, loader)
        self._filename = _register_source(self)
        try:
            self.compiled = compile(self.code, self._filename, "exec", dont_inherit=True)
        except SyntaxError as e:
            name_, line, via = self._source_line(e.lineno or 1)
            raise ParseError(f"{e.msg}: {(e.text or '').strip()!r}{via}", name_, line) from e

    def generate(self, **kwargs: Any) -> bytes:
        """Render synchronously with ``kwargs`` as template variables.

        Deferreds that have already fired are fine; a value that is still
        pending raises :class:`TemplateNotReady` (use :meth:`generate_async`).
        """
        coroutine = self._prepare(kwargs)()
        try:
            waiting_on = coroutine.send(None)
        except StopIteration as done:
            return done.value
        except Exception as e:
            self._annotate(e)
            raise
        coroutine.close()
        raise TemplateNotReady(
            f"template {self.name} is waiting on {waiting_on!r}; render it with generate_async()"
        )

    def generate_async(self, **kwargs: Any) -> defer.Deferred[bytes]:
        """Render with ``kwargs``, awaiting Deferreds and coroutines; fires with bytes.

        When nothing has to wait, the returned Deferred has already fired.
        """
        execute = self._prepare(kwargs)

        async def run() -> bytes:
            try:
                return await execute()
            except Exception as e:
                self._annotate(e)
                raise

        return defer.ensureDeferred(run())

    def _prepare(self, kwargs: Mapping[str, Any]) -> Callable[[], Any]:
        namespace = dict(_BASE_NAMESPACE)
        namespace["__name__"] = self.name.replace(".", "_")
        namespace["__loader__"] = _SourceLoader(self.code)
        namespace.update(self.namespace)
        namespace.update(kwargs)
        exec(self.compiled, namespace)
        return namespace["_tt_execute"]

    def _source_line(self, generated_line: int) -> SourceLine:
        index = min(max(generated_line, 1), len(self._line_map)) - 1
        return self._line_map[index]

    def _annotate(self, error: BaseException) -> None:
        """Add ``in template name:line`` for the innermost frame of this template."""
        lineno = None
        tb = error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self._filename:
                lineno = tb.tb_lineno
            tb = tb.tb_next
        if lineno is not None:
            name, line, via = self._source_line(lineno)
            error.add_note(f"in template {name}:{line}{via}")


def _register_source(template: Template) -> str:
    """Put generated source in linecache, under a file name unique to this code,
    for as long as the template lives."""
    filename = f"{template.name}.generated.py"
    lines = template.code.splitlines(keepends=True)
    cached = linecache.cache.get(filename)
    if cached is not None and cached[2] != lines:
        filename = f"{template.name}.generated-{next(_filename_counter)}.py"
    entry = (len(template.code), None, lines, filename)
    linecache.cache[filename] = entry
    weakref.finalize(template, _forget_source, filename, entry)
    return filename


def _forget_source(filename: str, entry: tuple[Any, ...]) -> None:
    if linecache.cache.get(filename) is entry:
        del linecache.cache[filename]


class BaseLoader:
    """Loads templates by name and keeps each compiled one until :meth:`reset`.

    ``autoescape``, ``namespace`` (extra template variables) and ``whitespace``
    become the defaults of every template it loads. Subclasses implement
    :meth:`resolve_path` and :meth:`_create_template`.
    """

    def __init__(
        self,
        autoescape: str | None = _DEFAULT_AUTOESCAPE,
        namespace: dict[str, Any] | None = None,
        whitespace: str | None = None,
    ) -> None:
        self.autoescape = autoescape
        self.namespace = namespace or {}
        self.whitespace = whitespace
        self.templates: dict[str, Template] = {}
        # Compiling a template loads its parents and includes: the lock is reentrant.
        self.lock = threading.RLock()
        self._compiling: set[str] = set()

    def reset(self) -> None:
        """Forget every compiled template, so the next load reads the source again."""
        with self.lock:
            self.templates = {}

    def resolve_path(self, name: str, parent_path: str | None = None) -> str:
        """Turn ``name``, relative to template ``parent_path``, into a loader key."""
        raise NotImplementedError()

    def load(self, name: str, parent_path: str | None = None) -> Template:
        """Return the compiled template ``name`` (relative to ``parent_path``)."""
        name = self.resolve_path(name, parent_path=parent_path)
        with self.lock:
            template = self.templates.get(name)
            if template is None:
                # Compiling a template loads the ones it includes or extends.
                if name in self._compiling:
                    raise ParseError(f"recursive include or extends of {name}", parent_path)
                self._compiling.add(name)
                try:
                    template = self.templates[name] = self._create_template(name)
                finally:
                    self._compiling.discard(name)
            return template

    def _create_template(self, name: str) -> Template:
        raise NotImplementedError()


def _is_relative_to_parent(name: str, parent_path: str | None) -> bool:
    return bool(parent_path and not parent_path.startswith(("<", "/")) and not name.startswith("/"))


class Loader(BaseLoader):
    """Loads templates from files under ``root_directory``."""

    def __init__(self, root_directory: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = os.path.abspath(root_directory)

    def resolve_path(self, name: str, parent_path: str | None = None) -> str:
        if _is_relative_to_parent(name, parent_path):
            assert parent_path is not None
            parent_dir = os.path.dirname(os.path.abspath(os.path.join(self.root, parent_path)))
            candidate = os.path.abspath(os.path.join(parent_dir, name))
            if candidate.startswith(self.root + os.sep):
                name = candidate[len(self.root) + 1 :]
        return name

    def _create_template(self, name: str) -> Template:
        with open(os.path.join(self.root, name), "rb") as f:
            return Template(f.read(), name=name, loader=self)


class DictLoader(BaseLoader):
    """Loads templates from a dict of ``{name: source}``."""

    def __init__(self, dict: dict[str, str | bytes], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dict = dict

    def resolve_path(self, name: str, parent_path: str | None = None) -> str:
        if _is_relative_to_parent(name, parent_path):
            assert parent_path is not None
            name = posixpath.normpath(posixpath.join(posixpath.dirname(parent_path), name))
        return name

    def _create_template(self, name: str) -> Template:
        return Template(self.dict[name], name=name, loader=self)
