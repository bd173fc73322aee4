"""UI modules and their resources, driven the way RequestHandler.render drives them.

``Page`` below is the smallest object that fulfils the handler side of the
contract (request, ui, locale, current_user, render_string, static_url,
xsrf_form_html); its ``render`` is the pipeline the web layer follows.
"""

from __future__ import annotations

import types
from typing import Any

import pytest

from cyclone import escape
from cyclone._uimodule import (
    BUILTIN_UI_MODULES,
    ResourceRenderingMixin,
    TemplateModule,
    UIModule,
    UIModuleSet,
    bind_ui_methods,
    load_ui_methods,
    load_ui_modules,
)
from cyclone.template import DictLoader


class Entry(UIModule):
    def render(self, title: str) -> str:  # type: ignore[override]
        return f"<article>{escape.xhtml_escape(title)} by {self.current_user}</article>"

    def javascript_files(self) -> list[str]:
        return ["entry.js", "https://cdn.example/lib.js"]

    def css_files(self) -> str:
        return "/abs/entry.css"

    def embedded_javascript(self) -> str:
        return "initEntries();"

    def embedded_css(self) -> str:
        return ".entry { color: red }"

    def html_head(self) -> str:
        return '<meta name="entry">'

    def html_body(self) -> str:
        return "<div id=entry-footer></div>"


class Counter(UIModule):
    """One instance per request: counts its uses."""

    def __init__(self, handler: Any) -> None:
        super().__init__(handler)
        self.uses = 0

    def render(self) -> str:  # type: ignore[override]
        self.uses += 1
        return str(self.uses)


def shout(handler: Page, text: str) -> str:
    return text.upper() + handler.suffix


class Page(ResourceRenderingMixin):
    def __init__(self, templates: dict[str, str], modules: dict[str, type[UIModule]]) -> None:
        self.loader = DictLoader(templates)
        self.request = object()
        self.current_user = "ann"
        self.locale = None
        self.suffix = "!"
        self.ui_modules = UIModuleSet(self, {**BUILTIN_UI_MODULES, **modules})
        self.ui = {
            **bind_ui_methods(self, load_ui_methods({"shout": shout})),
            "_tt_modules": self.ui_modules.namespace,
            "modules": self.ui_modules.namespace,
        }

    def static_url(self, path: str) -> str:
        return f"/static/{path}?v=1"

    def xsrf_form_html(self) -> str:
        return '<input type="hidden" name="_xsrf" value="t0k3n"/>'

    def namespace(self) -> dict[str, Any]:
        return {"handler": self, "static_url": self.static_url, **self.ui}

    def render_string(self, name: str, **kwargs: Any) -> bytes:
        return self.loader.load(name).generate(**self.namespace(), **kwargs)

    def render(self, name: str, **kwargs: Any) -> bytes:
        html = self.render_string(name, **kwargs)
        return self.ui_modules.insert_resources(html, self)


PAGE = "<html><head><title>t</title></head><body>{% module Entry('a<b') %}</body></html>"


def test_module_renders_and_its_resources_are_inserted() -> None:
    html = Page({"page.html": PAGE}, {"Entry": Entry}).render("page.html")
    assert html == (
        b"<html><head><title>t</title>"
        b'<link href="/abs/entry.css" type="text/css" rel="stylesheet"/>\n'
        b'<style type="text/css">\n.entry { color: red }\n</style>\n'
        b'<meta name="entry">\n'
        b"</head><body><article>a&lt;b by ann</article>"
        b'<script src="/static/entry.js?v=1"></script>'
        b'<script src="https://cdn.example/lib.js"></script>\n'
        b"<script>\n//<![CDATA[\ninitEntries();\n//]]>\n</script>\n"
        b"<div id=entry-footer></div>\n"
        b"</body></html>"
    )


def test_a_module_is_created_once_per_request_and_resources_are_not_repeated() -> None:
    templates = {"p.html": "{% module Counter() %}{% module Counter() %}{{ modules.Counter() }}"}
    page = Page(templates, {"Counter": Counter})
    assert page.render("p.html") == b"123"
    assert Page(templates, {"Counter": Counter}).render("p.html") == b"123"


def test_pages_without_head_or_body_still_get_resources() -> None:
    html = Page({"p.html": "{% module Entry('x') %}"}, {"Entry": Entry}).render("p.html")
    assert html.startswith(b'<link href="/abs/entry.css"')
    assert html.endswith(b"<div id=entry-footer></div>\n")


def test_unknown_module_is_an_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="no UI module named 'Nope'"):
        Page({"p.html": "{% module Nope() %}"}, {}).render("p.html")


def test_builtin_linkify_and_xsrf_form_html_modules() -> None:
    templates = {"p.html": "{% module linkify('see www.x.org') %} {% module xsrf_form_html() %}"}
    assert Page(templates, {}).render("p.html") == (
        b'see <a href="http://www.x.org">www.x.org</a> '
        b'<input type="hidden" name="_xsrf" value="t0k3n"/>'
    )


def test_template_module_renders_with_the_handler_namespace_and_set_resources() -> None:
    templates = {
        "page.html": (
            "<head></head><body>"
            "{% for c in comments %}{% module Template('comment.html', c=c) %}{% end %}"
            "</body>"
        ),
        "comment.html": (
            "{{ set_resources(javascript_files='comment.js', embedded_css='.c{}',"
            " html_body='<i>end</i>') }}"
            "<p>{{ shout(c) }}</p>"
        ),
    }
    html = Page(templates, {}).render("page.html", comments=["hi", "<yo>"])
    assert html == (
        b'<head><style type="text/css">\n.c{}\n</style>\n</head><body>'
        b"<p>HI!</p><p>&lt;YO&gt;!</p>"
        b'<script src="/static/comment.js?v=1"></script>\n<i>end</i>\n</body>'
    )


def test_template_module_refuses_conflicting_resources() -> None:
    templates = {
        "page.html": (
            "{% module Template('c.html', js='a.js') %}{% module Template('c.html', js='b.js') %}"
        ),
        "c.html": "{{ set_resources(javascript_files=js) }}",
    }
    with pytest.raises(ValueError, match=r"different resources for c\.html"):
        Page(templates, {}).render("page.html")


def test_template_module_collects_lists_of_files_once() -> None:
    page = Page({"c.html": "{{ set_resources(css_files=['a.css', 'b.css']) }}"}, {})
    module = TemplateModule(page)
    module.render("c.html")
    module.render("c.html")
    assert module.css_files() == ["a.css", "b.css"]
    assert module.javascript_files() == []
    assert module.html_head() == ""


def test_load_ui_modules_from_a_python_module_a_dict_and_a_list() -> None:
    package = types.ModuleType("my_modules")
    package.Entry = Entry  # type: ignore[attr-defined]
    package.helper = len  # type: ignore[attr-defined]
    package.UIModule = UIModule  # type: ignore[attr-defined]
    assert load_ui_modules(package) == {"Entry": Entry, "UIModule": UIModule}
    assert load_ui_modules([{"C": Counter, "x": 1}, {"E": Entry}]) == {"C": Counter, "E": Entry}


def test_load_ui_methods_takes_public_lowercase_callables() -> None:
    package = types.ModuleType("my_methods")
    package.shout = shout  # type: ignore[attr-defined]
    package._private = shout  # type: ignore[attr-defined]
    package.Klass = Entry  # type: ignore[attr-defined]
    package.constant = 3  # type: ignore[attr-defined]
    assert load_ui_methods(package) == {"shout": shout}
    assert load_ui_methods([{"a": shout}, {"b": len}]) == {"a": shout, "b": len}
