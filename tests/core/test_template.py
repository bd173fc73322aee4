"""The template language, tag by tag, through Template and DictLoader."""

from __future__ import annotations

import datetime

import pytest

from cyclone.template import DictLoader, ParseError, Template


def render(source: str, **kwargs: object) -> bytes:
    return Template(source, name="t.txt").generate(**kwargs)


def test_generate_returns_bytes() -> None:
    assert render("Hello {{ name }}!", name="Ben") == b"Hello Ben!"


def test_expressions_are_python_and_escaped() -> None:
    assert render("{{ 1 + 2 }} {{ x[0] }} {{ '<&>' }}", x=["<i>"]) == (b"3 &lt;i&gt; &lt;&amp;&gt;")


def test_bytes_and_unicode_values() -> None:
    assert render("{{ a }}|{{ b }}", a="é", b="ü".encode()) == "é|ü".encode()


def test_template_source_may_be_bytes() -> None:
    assert Template("ü{{ 1 }}".encode()).generate() == "ü1".encode()


def test_raw_outputs_unescaped() -> None:
    assert render("{% raw x %}|{{ x }}", x="<b>") == b"<b>|&lt;b&gt;"


def test_comments_render_nothing() -> None:
    assert render("a{# {{ nope }} #}b{% comment anything at all %}c") == b"abc"


def test_bang_escapes_print_tag_openers_literally() -> None:
    assert render("{{! x }} {%! if %} {#! c #}") == b"{{ x }} {% if %} {# c #}"


def test_more_than_two_curlies_use_the_innermost_pair() -> None:
    assert render("\\frac{{{ a }}}{{{ b }}}", a=1, b=2) == b"\\frac{1}{2}"


def test_lone_braces_are_text() -> None:
    assert render("function() { return {a: 1}; }") == b"function() { return {a: 1}; }"


def test_if_elif_else() -> None:
    source = "{% if x > 1 %}big{% elif x == 1 %}one{% else %}small{% end %}"
    assert [render(source, x=x) for x in (5, 1, 0)] == [b"big", b"one", b"small"]


def test_for_with_break_continue_and_else() -> None:
    source = (
        "{% for i in items %}{% if i == 2 %}{% continue %}{% end %}"
        "{% if i == 4 %}{% break %}{% end %}{{ i }}{% else %}!{% end %}"
    )
    assert render(source, items=[1, 2, 3, 4, 5]) == b"13"
    assert render(source, items=[1, 3]) == b"13!"


def test_while_loop() -> None:
    source = "{% set n = 3 %}{% while n %}{{ n }}{% set n -= 1 %}{% end %}"
    assert render(source) == b"321"


def test_empty_blocks_are_valid() -> None:
    assert render("{% if True %}{% else %}{% end %}{% for x in [] %}{% end %}ok") == b"ok"


def test_try_except_else_finally() -> None:
    source = (
        "{% try %}{{ 1 / d }}{% except ZeroDivisionError %}zero{% else %}+ok{% finally %}.{% end %}"
    )
    assert render(source, d=1) == b"1.0+ok."
    assert render(source, d=0) == b"zero."


def test_set_import_and_from() -> None:
    source = (
        "{% import math %}{% from os import path as p %}"
        "{% set x, y = 3, math.floor(2.5) %}{{ x * y }} {{ p.join('a', 'b') }}"
    )
    assert render(source) == b"6 a/b"


def test_apply_passes_the_rendered_body_to_a_function() -> None:
    def upper(body: bytes) -> str:
        return body.decode().upper()

    assert render("{% apply upper %}a{{ 'b' }}{% end %}c", upper=upper) == b"ABc"


def test_apply_body_cannot_break_out_of_an_enclosing_loop() -> None:
    with pytest.raises(ParseError, match="break outside for or while block"):
        Template("{% for i in x %}{% apply str %}{% break %}{% end %}{% end %}")


def test_autoescape_none_and_custom_function() -> None:
    assert render("{% autoescape None %}{{ x }}", x="<b>") == b"<b>"
    assert render("{% autoescape url_escape %}{{ x }}", x="a b&c") == b"a+b%26c"
    assert Template("{{ x }}", autoescape=None).generate(x="<b>") == b"<b>"


def test_the_default_escape_handles_every_value_type_as_before() -> None:
    # {{ }} with the built-in xhtml_escape escapes and encodes in one step
    # (str, bytes, and anything else through str()), quotes included.
    assert render("{{ a }}|{{ b }}|{{ c }}|{{ d }}", a="<'\"&>", b="é<".encode(), c=3, d=None) == (
        "&lt;&#x27;&quot;&amp;&gt;|é&lt;|3|None".encode()
    )
    with pytest.raises(UnicodeDecodeError):
        render("{{ b }}", b=b"\xff")


def test_a_namespace_xhtml_escape_replaces_the_built_in_one() -> None:
    seen: list[object] = []

    def shout(value: object) -> str:
        seen.append(value)
        return "ESCAPED"

    assert render("{{ x }}|{% raw x %}", x="<b>", xhtml_escape=shout) == b"ESCAPED|<b>"
    assert seen == [b"<b>"]  # it is called with the UTF-8 bytes, as Tornado does


def test_default_namespace() -> None:
    source = (
        "{{ json_encode({'a': '</'}) }}|{% raw json_encode([1]) %}|{{ url_escape('a b') }}|"
        "{{ squeeze(' a   b ') }}|{% raw linkify('www.x.org') %}|{{ datetime.date(2020, 1, 2) }}|"
        "{% raw escape('<') %}|{% raw xhtml_escape('>') %}"
    )
    assert render(source) == (
        b"{&quot;a&quot;: &quot;&lt;\\/&quot;}|[1]|a+b|a b|"  # json.dumps spacing, as Tornado 6
        b'<a href="http://www.x.org">www.x.org</a>|2020-01-02|&lt;|&gt;'
    )


def test_non_string_values_are_stringified() -> None:
    day = datetime.date(2001, 2, 3)
    assert render("{{ n }} {{ none }} {{ day }}", n=1.5, none=None, day=day) == (
        b"1.5 None 2001-02-03"
    )


def test_whitespace_single_by_default_for_html_and_all_otherwise() -> None:
    source = "a   b\n\n   c\t\td"
    assert Template(source, name="x.html").generate() == b"a b\nc d"
    assert Template(source, name="x.js").generate() == b"a b\nc d"
    assert Template(source, name="x.txt").generate() == source.encode()


def test_whitespace_modes_and_tag() -> None:
    source = "a   b\n\n   c"
    assert Template(source, whitespace="oneline").generate() == b"a b c"
    assert Template(source, whitespace="all", name="x.html").generate() == source.encode()
    assert Template(source, compress_whitespace=True).generate() == b"a b\nc"
    assert render("{% whitespace oneline %}x \n y {% whitespace all %} \n z") == b"x y  \n z"
    with pytest.raises(ParseError, match="invalid whitespace mode"):
        Template("{% whitespace pretty %}")
    with pytest.raises(ValueError):
        Template("", whitespace="pretty")


def test_pre_blocks_keep_their_whitespace() -> None:
    assert Template("<pre>a\n\n  b</pre>", name="x.html").generate() == b"<pre>a\n\n  b</pre>"


def test_module_tag_calls_tt_modules() -> None:
    class Modules:
        def Hello(self, who: str) -> str:
            return f"<b>hi {who}</b>"

    assert render("{% module Hello('you') %}", _tt_modules=Modules()) == b"<b>hi you</b>"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{% if x %}", "Missing {% end %} block for if at t.txt:1"),
        ("a\n{% end %}", "Extra {% end %} block at t.txt:2"),
        ("{% else %}", "else outside if or for or while or try block at t.txt:1"),
        ("{% if x %}{% except %}{% end %}", "except block cannot be attached to if block"),
        ("\n\n{{ }}", "Empty expression at t.txt:3"),
        ("{{ x", "Missing end expression }} at t.txt:1"),
        ("{% if x", "Missing end block %} at t.txt:1"),
        ("{# x", "Missing end comment #} at t.txt:1"),
        ("{% %}", "Empty block tag ({% %}) at t.txt:1"),
        ("{% frobnicate %}", "unknown operator: 'frobnicate' at t.txt:1"),
        ("{% break %}", "break outside for or while block at t.txt:1"),
        ("{% set %}", "set missing statement at t.txt:1"),
        ("{% import %}", "import missing statement"),
        ("{% apply %}{% end %}", "apply missing method name"),
        ("{% block %}{% end %}", "block missing name"),
        ("{% include %}", "include missing file path"),
        ("{% extends '' %}", "extends missing file path"),
        ("{% extends 'base.html' %}", "{% extends %} block found, but no template loader"),
        ("{% include 'x.html' %}", "{% include %} needs a template loader"),
        ("{% super %}", "{% super %} outside a {% block %}"),
    ],
)
def test_parse_errors_name_the_template_and_line(source: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        Template(source, name="t.txt")
    assert message in str(info.value)


def test_python_syntax_errors_are_parse_errors_with_the_template_line() -> None:
    with pytest.raises(ParseError) as info:
        Template("line one\nline two {{ 1 + }}\n", name="page.html")
    assert str(info.value).endswith("at page.html:2")
    assert info.value.filename == "page.html"
    assert info.value.lineno == 2
    assert isinstance(info.value.__cause__, SyntaxError)


def test_missing_end_is_reported_where_the_block_opened() -> None:
    with pytest.raises(ParseError) as info:
        Template("a\n{% for x in y %}\nb\nc\n", name="list.html")
    assert str(info.value) == "Missing {% end %} block for for at list.html:2"


def test_runtime_errors_carry_a_note_with_the_template_line() -> None:
    template = Template("a\nb\n{{ user.name }}\n", name="profile.html")
    with pytest.raises(AttributeError) as info:
        template.generate(user=None)
    assert "in template profile.html:3" in info.value.__notes__


def test_runtime_error_traceback_shows_the_generated_line_and_template_line() -> None:
    import traceback

    template = Template("x\n{% set y = 1 // zero %}", name="calc.html")
    with pytest.raises(ZeroDivisionError) as info:
        template.generate(zero=0)
    text = "".join(traceback.format_exception(info.value))
    assert "y = " in text and "# calc.html:2" in text
    assert "in template calc.html:2" in text


def test_runtime_errors_in_included_templates_name_the_include_chain() -> None:
    loader = DictLoader(
        {
            "page.html": "header\n{% include 'part.html' %}",
            "part.html": "\n\n{{ missing_name }}",
        }
    )
    with pytest.raises(NameError) as info:
        loader.load("page.html").generate()
    assert "in template part.html:3 (via page.html:2)" in info.value.__notes__


def test_error_inside_apply_names_the_inner_line() -> None:
    template = Template("{% apply str %}\n\n{{ 1 / 0 }}{% end %}", name="ap.html")
    with pytest.raises(ZeroDivisionError) as info:
        template.generate()
    assert info.value.__notes__ == ["in template ap.html:3"]


def test_code_attribute_holds_the_generated_python() -> None:
    template = Template("{{ x }}", name="c.html")
    assert "async def _tt_execute():" in template.code
    assert "# c.html:1" in template.code


def test_generated_source_is_forgotten_with_the_template() -> None:
    import gc
    import linecache

    def generated() -> set[str]:
        return {name for name in linecache.cache if name.endswith(".py") and "generated" in name}

    before = generated()
    templates = [Template(f"{{{{ {n} }}}}") for n in range(50)]
    assert len(generated() - before) == 50
    del templates
    gc.collect()
    assert generated() <= before
