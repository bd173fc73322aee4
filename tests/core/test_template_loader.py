"""Loaders, inheritance ({% extends %}, {% block %}, {% super %}) and {% include %}."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cyclone.template import BaseLoader, DictLoader, Loader, ParseError, Template

BASE = (
    "<title>{% block title %}Site{% end %}</title>"
    "<main>{% block body %}nothing{% end %}</main>"
    "<footer>{% block footer %}(c){% end %}</footer>"
)


def test_extends_overrides_blocks_and_keeps_the_others() -> None:
    loader = DictLoader(
        {
            "base.html": BASE,
            "page.html": "{% extends 'base.html' %}{% block body %}Hi {{ who }}{% end %}",
        }
    )
    assert loader.load("page.html").generate(who="<you>") == (
        b"<title>Site</title><main>Hi &lt;you&gt;</main><footer>(c)</footer>"
    )


def test_text_outside_blocks_in_a_child_is_ignored() -> None:
    loader = DictLoader(
        {"base.html": BASE, "page.html": "{% extends 'base.html' %}junk{% block title %}T{% end %}"}
    )
    assert loader.load("page.html").generate() == (
        b"<title>T</title><main>nothing</main><footer>(c)</footer>"
    )


def test_multi_level_inheritance_with_super() -> None:
    loader = DictLoader(
        {
            "base.html": BASE,
            "section.html": (
                "{% extends 'base.html' %}"
                "{% block title %}Docs | {% super %}{% end %}"
                "{% block body %}<nav/>{% block content %}{% end %}{% end %}"
            ),
            "page.html": (
                "{% extends 'section.html' %}"
                "{% block title %}Install | {% super %}{% end %}"
                "{% block content %}steps{% end %}"
                "{% block footer %}{% super %} 2024{% end %}"
            ),
        }
    )
    assert loader.load("page.html").generate() == (
        b"<title>Install | Docs | Site</title><main><nav/>steps</main><footer>(c) 2024</footer>"
    )


def test_super_without_a_parent_block_is_a_parse_error() -> None:
    loader = DictLoader({"base.html": "{% block a %}x{% super %}{% end %}"})
    with pytest.raises(
        ParseError, match=re.escape("which no parent template defines at base.html:1")
    ):
        loader.load("base.html")


def test_blocks_see_the_template_variables_and_loop_variables() -> None:
    loader = DictLoader(
        {
            "base.html": "{% for item in items %}[{% block row %}{% end %}]{% end %}",
            "list.html": "{% extends 'base.html' %}{% block row %}{{ item * k }}{% end %}",
        }
    )
    assert loader.load("list.html").generate(items=[1, 2], k=10) == b"[10][20]"


def test_include_inlines_another_template_with_the_same_variables() -> None:
    loader = DictLoader(
        {
            "page.html": "<ul>{% for x in xs %}{% include 'item.html' %}{% end %}</ul>",
            "item.html": "<li>{{ x }}</li>",
        }
    )
    assert loader.load("page.html").generate(xs=["a", "<"]) == (b"<ul><li>a</li><li>&lt;</li></ul>")


def test_included_templates_may_define_blocks_for_children() -> None:
    loader = DictLoader(
        {
            "base.html": "{% include 'head.html' %}|body",
            "head.html": "{% block head %}default head{% end %}",
            "page.html": "{% extends 'base.html' %}{% block head %}my head{% end %}",
        }
    )
    assert loader.load("page.html").generate() == b"my head|body"


def test_recursive_include_is_a_parse_error() -> None:
    loader = DictLoader({"a.html": "{% include 'b.html' %}", "b.html": "{% include 'a.html' %}"})
    with pytest.raises(
        ParseError, match=re.escape("recursive include or extends of a.html at b.html")
    ):
        loader.load("a.html")


def test_dict_loader_resolves_paths_relative_to_the_including_template() -> None:
    loader = DictLoader(
        {
            "admin/page.html": (
                "{% extends '../base.html' %}{% block b %}{% include 'nav.html' %}{% end %}"
            ),
            "admin/nav.html": "admin nav",
            "base.html": "[{% block b %}{% end %}]",
        }
    )
    assert loader.load("admin/page.html").generate() == b"[admin nav]"
    assert loader.resolve_path("x.html", "a/b.html") == "a/x.html"
    assert loader.resolve_path("/x.html", "a/b.html") == "/x.html"
    assert loader.resolve_path("x.html", "<string>") == "x.html"


def test_file_loader_reads_from_its_root_and_resolves_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "base.html").write_text("<h1>{% block h %}{% end %}</h1>")
    (tmp_path / "blog").mkdir()
    (tmp_path / "blog" / "post.html").write_text(
        "{% extends '../base.html' %}{% block h %}{% include 'title.html' %}{% end %}"
    )
    (tmp_path / "blog" / "title.html").write_text("{{ title }}")
    loader = Loader(str(tmp_path))
    assert loader.load("blog/post.html").generate(title="Post") == b"<h1>Post</h1>"
    assert set(loader.templates) == {"blog/post.html", "base.html", "blog/title.html"}


def test_loader_caches_until_reset(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("one")
    loader = Loader(str(tmp_path))
    first = loader.load("page.html")
    page.write_text("two")
    assert loader.load("page.html") is first
    assert first.generate() == b"one"
    loader.reset()
    assert loader.load("page.html").generate() == b"two"


def test_loader_settings_become_template_defaults() -> None:
    loader = DictLoader(
        {"a.html": "{{ x }}   {{ helper() }}\n\n  end"},
        autoescape=None,
        whitespace="all",
        namespace={"helper": lambda: "from namespace"},
    )
    assert loader.load("a.html").generate(x="<b>") == b"<b>   from namespace\n\n  end"


def test_each_template_keeps_its_own_autoescape() -> None:
    loader = DictLoader(
        {
            "page.html": "{{ x }}|{% include 'raw.html' %}",
            "raw.html": "{% autoescape None %}{{ x }}",
        }
    )
    assert loader.load("page.html").generate(x="<b>") == b"&lt;b&gt;|<b>"


def test_missing_template_raises() -> None:
    with pytest.raises(KeyError):
        DictLoader({}).load("nope.html")


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Loader(str(tmp_path)).load("nope.html")


def test_custom_loader_implements_resolve_path_and_create_template() -> None:
    class UpperLoader(BaseLoader):
        def resolve_path(self, name: str, parent_path: str | None = None) -> str:
            return name.lower()

        def _create_template(self, name: str) -> Template:
            return Template("{{ name }}: " + name.upper(), name=name, loader=self)

    loader = UpperLoader()
    assert loader.load("HELLO").generate(name="n") == b"n: HELLO"
    assert loader.load("hello") is loader.load("Hello")


def test_cyclic_extends_is_a_parse_error() -> None:
    loader = DictLoader({"a.html": "{% extends 'b.html' %}", "b.html": "{% extends 'a.html' %}"})
    with pytest.raises(ParseError, match=re.escape("recursive include or extends of a.html")):
        loader.load("a.html")
