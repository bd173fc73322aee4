"""UI modules: reusable page components with their own CSS and JavaScript.

Strategy: a template calls ``{% module Name(args) %}``, which the template
engine turns into ``_tt_modules.Name(args)``. A :class:`UIModuleSet` lives for
one request: it is the ``_tt_modules`` namespace, creates each module class at
most once per request, and, after the page is rendered, collects what the
modules it created asked for (script and style files, embedded code, extra
``<head>``/``<body>`` HTML) and inserts it before ``</head>`` and ``</body>``.

The request handler provides the rest (see :class:`ResourceRenderingMixin` and
:class:`UIModule` for the attributes each one uses).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cyclone import escape

__all__ = [
    "BUILTIN_UI_MODULES",
    "Linkify",
    "ResourceRenderingMixin",
    "TemplateModule",
    "UIModule",
    "UIModuleSet",
    "XSRFFormHTML",
    "bind_ui_methods",
    "load_ui_methods",
    "load_ui_modules",
]


class UIModule:
    """A page component rendered with ``{% module Name(...) %}``.

    One instance is created per request (the first time the page uses it);
    :meth:`render` is called for every use. The resource methods are asked once,
    after the page is rendered; return None for nothing.
    """

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.request = handler.request
        self.ui = handler.ui

    @property
    def locale(self) -> Any:
        return self.handler.locale

    @property
    def current_user(self) -> Any:
        return self.handler.current_user

    def render(self, *args: Any, **kwargs: Any) -> str | bytes:
        """Return the HTML of one use of this module."""
        raise NotImplementedError()

    def embedded_javascript(self) -> str | None:
        """JavaScript to put in a ``<script>`` element at the end of the page."""
        return None

    def javascript_files(self) -> Iterable[str] | str | None:
        """Script paths (relative ones go through ``static_url``) linked at the end of the page."""
        return None

    def embedded_css(self) -> str | None:
        """CSS to put in a ``<style>`` element in the page's ``<head>``."""
        return None

    def css_files(self) -> Iterable[str] | str | None:
        """Style sheet paths (relative ones go through ``static_url``) linked in ``<head>``."""
        return None

    def html_head(self) -> str | None:
        """HTML to put at the end of ``<head>``."""
        return None

    def html_body(self) -> str | None:
        """HTML to put at the end of ``<body>``."""
        return None

    def render_string(self, path: str, **kwargs: Any) -> bytes:
        """Render template ``path`` the way the handler renders its templates."""
        return self.handler.render_string(path, **kwargs)


class Linkify(UIModule):
    """``{% module linkify(text) %}``: :func:`cyclone.escape.linkify`."""

    def render(self, text: str | bytes, **kwargs: Any) -> str:  # type: ignore[override]
        return escape.linkify(text, **kwargs)


class XSRFFormHTML(UIModule):
    """``{% module xsrf_form_html() %}``: the handler's hidden XSRF form field."""

    def render(self) -> str:  # type: ignore[override]
        return self.handler.xsrf_form_html()


class TemplateModule(UIModule):
    """``{% module Template("path.html", **kwargs) %}``: render another template.

    The template may call ``{{ set_resources(javascript_files=..., css_files=...,
    embedded_javascript=..., embedded_css=..., html_head=..., html_body=...) }}``;
    each template's resources are included once however often it is used.
    """

    def __init__(self, handler: Any) -> None:
        super().__init__(handler)
        self._resources: dict[str, dict[str, Any]] = {}

    def render(self, path: str, **kwargs: Any) -> bytes:  # type: ignore[override]
        def set_resources(**resources: Any) -> str:
            known = self._resources.setdefault(path, resources)
            if known != resources:
                raise ValueError(f"set_resources called with different resources for {path}")
            return ""

        return self.render_string(path, set_resources=set_resources, **kwargs)

    def _each(self, key: str) -> list[Any]:
        return [r[key] for r in self._resources.values() if key in r]

    @staticmethod
    def _flatten(values: list[Any]) -> list[str]:
        flat: list[str] = []
        for value in values:
            flat.extend([value] if isinstance(value, (str, bytes)) else value)
        return flat

    def embedded_javascript(self) -> str:
        return "\n".join(self._each("embedded_javascript"))

    def javascript_files(self) -> list[str]:
        return self._flatten(self._each("javascript_files"))

    def embedded_css(self) -> str:
        return "\n".join(self._each("embedded_css"))

    def css_files(self) -> list[str]:
        return self._flatten(self._each("css_files"))

    def html_head(self) -> str:
        return "".join(self._each("html_head"))

    def html_body(self) -> str:
        return "".join(self._each("html_body"))


BUILTIN_UI_MODULES: dict[str, type[UIModule]] = {
    "linkify": Linkify,
    "xsrf_form_html": XSRFFormHTML,
    "Template": TemplateModule,
}


def load_ui_modules(spec: Any) -> dict[str, type[UIModule]]:
    """``ui_modules`` setting -> ``{name: UIModule subclass}``.

    ``spec`` is a Python module (its UIModule subclasses are taken), a dict, or
    a list of either.
    """
    if isinstance(spec, types.ModuleType):
        spec = {name: getattr(spec, name) for name in dir(spec)}
    if isinstance(spec, (list, tuple)):
        found: dict[str, type[UIModule]] = {}
        for item in spec:
            found.update(load_ui_modules(item))
        return found
    return {
        name: value
        for name, value in spec.items()
        if isinstance(value, type) and issubclass(value, UIModule)
    }


def load_ui_methods(spec: Any) -> dict[str, Callable[..., Any]]:
    """``ui_methods`` setting -> ``{name: function(handler, ...)}``.

    ``spec`` is a Python module, a dict, or a list of either; only public,
    lower-case callables are taken (so classes and imported helpers are skipped).
    """
    if isinstance(spec, types.ModuleType):
        spec = {name: getattr(spec, name) for name in dir(spec)}
    if isinstance(spec, (list, tuple)):
        found: dict[str, Callable[..., Any]] = {}
        for item in spec:
            found.update(load_ui_methods(item))
        return found
    return {
        name: value
        for name, value in spec.items()
        if not name.startswith("_") and name[0].islower() and callable(value)
    }


def bind_ui_methods(
    handler: Any, methods: Mapping[str, Callable[..., Any]]
) -> dict[str, Callable[..., Any]]:
    """Each UI method with ``handler`` bound as its first argument."""
    return {name: functools.partial(method, handler) for name, method in methods.items()}


class _ModuleNamespace:
    """``_tt_modules``: ``_tt_modules.Name(...)`` renders module ``Name``."""

    def __init__(self, modules: UIModuleSet) -> None:
        self._modules = modules

    def __getitem__(self, name: str) -> Callable[..., Any]:
        return self._modules.renderer(name)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        try:
            return self._modules.renderer(name)
        except KeyError as e:
            raise AttributeError(str(e)) from None


class UIModuleSet:
    """The UI modules of one request; ``namespace`` is the templates' ``_tt_modules``."""

    def __init__(self, handler: Any, modules: Mapping[str, type[UIModule]]) -> None:
        self.handler = handler
        self.modules = modules
        self.active: dict[str, UIModule] = {}
        self.namespace = _ModuleNamespace(self)

    def renderer(self, name: str) -> Callable[..., Any]:
        """The callable a template uses for module ``name``; KeyError if unknown."""
        module_class = self.modules.get(name)
        if module_class is None:
            raise KeyError(f"no UI module named {name!r}")

        def render(*args: Any, **kwargs: Any) -> Any:
            module = self.active.get(name)
            if module is None:
                module = self.active[name] = module_class(self.handler)
            return module.render(*args, **kwargs)

        return render

    def insert_resources(self, html: bytes, renderer: ResourceRenderingMixin) -> bytes:
        """Insert the active modules' resources into a rendered page.

        Linked and embedded CSS and ``html_head`` go before ``</head>`` (or at
        the start when there is none); linked and embedded JavaScript and
        ``html_body`` go before the last ``</body>`` (or at the end).
        """
        js_files: list[str] = []
        css_files: list[str] = []
        js_embed: list[bytes] = []
        css_embed: list[bytes] = []
        heads: list[bytes] = []
        bodies: list[bytes] = []
        for module in self.active.values():
            _extend(js_files, module.javascript_files())
            _extend(css_files, module.css_files())
            if script := module.embedded_javascript():
                js_embed.append(escape.utf8(script))
            if style := module.embedded_css():
                css_embed.append(escape.utf8(style))
            if head := module.html_head():
                heads.append(escape.utf8(head))
            if body := module.html_body():
                bodies.append(escape.utf8(body))

        head_parts: list[bytes] = []
        if css_files:
            head_parts.append(escape.utf8(renderer.render_linked_css(css_files)))
        if css_embed:
            head_parts.append(renderer.render_embed_css(css_embed))
        head_parts.extend(heads)
        body_parts: list[bytes] = []
        if js_files:
            body_parts.append(escape.utf8(renderer.render_linked_js(js_files)))
        if js_embed:
            body_parts.append(renderer.render_embed_js(js_embed))
        body_parts.extend(bodies)

        if head_parts:
            chunk = b"\n".join(head_parts) + b"\n"
            at = html.find(b"</head>")
            html = chunk + html if at == -1 else html[:at] + chunk + html[at:]
        if body_parts:
            chunk = b"\n".join(body_parts) + b"\n"
            at = html.rfind(b"</body>")
            html = html + chunk if at == -1 else html[:at] + chunk + html[at:]
        return html


def _extend(paths: list[str], value: Iterable[str] | str | None) -> None:
    if value:
        paths.extend([value] if isinstance(value, str) else value)


def _is_absolute(path: str) -> bool:
    return path.startswith(("/", "http:", "https:"))


class ResourceRenderingMixin:
    """How UI module resources become HTML; Tornado's overridable handler methods.

    Needs ``self.static_url(path) -> str`` for relative paths. Each path is
    linked once, in first-use order.
    """

    static_url: Callable[..., str]

    def _unique_urls(self, paths: Iterable[str]) -> list[str]:
        urls = (p if _is_absolute(p) else self.static_url(p) for p in paths)
        return list(dict.fromkeys(urls))

    def render_linked_js(self, js_files: Iterable[str]) -> str:
        """``<script src>`` elements for ``js_files``."""
        return "".join(
            f'<script src="{escape.xhtml_escape(url)}"></script>'
            for url in self._unique_urls(js_files)
        )

    def render_embed_js(self, js_embed: Iterable[bytes]) -> bytes:
        """One ``<script>`` element with every embedded script."""
        return b"<script>\n//<![CDATA[\n" + b"\n".join(js_embed) + b"\n//]]>\n</script>"

    def render_linked_css(self, css_files: Iterable[str]) -> str:
        """``<link rel="stylesheet">`` elements for ``css_files``."""
        return "".join(
            f'<link href="{escape.xhtml_escape(url)}" type="text/css" rel="stylesheet"/>'
            for url in self._unique_urls(css_files)
        )

    def render_embed_css(self, css_embed: Iterable[bytes]) -> bytes:
        """One ``<style>`` element with every embedded style sheet."""
        return b'<style type="text/css">\n' + b"\n".join(css_embed) + b"\n</style>"
