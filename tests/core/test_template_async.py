"""Templates that wait: Deferred and coroutine values, rendered with generate_async.

Deferreds here are real: deferLater fires them from the reactor (running in its
test thread), and cyclone.testing.call waits for the rendered bytes.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer, reactor, task

from cyclone.template import DictLoader, Template, TemplateNotReady
from cyclone.testing import call


def later(value: Any, delay: float = 0.001) -> defer.Deferred[Any]:
    """A Deferred that the reactor fires with ``value`` after ``delay`` seconds."""
    return task.deferLater(reactor, delay, lambda: value)


class FakeDB:
    """Answers queries the way adbapi does: a Deferred list of row tuples."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def runQuery(self, sql: str) -> defer.Deferred[list[tuple[Any, ...]]]:
        self.queries.append(sql)
        return later([(1, "ann"), (2, "<bob>")])


def render_async(template: Template, **kwargs: Any) -> bytes:
    return call(template.generate_async, **kwargs)


def test_deferred_expression_is_awaited() -> None:
    template = Template("Hi {{ name }}!")
    assert render_async(template, name=later("<ann>")) == b"Hi &lt;ann&gt;!"


def test_db_query_in_an_expression_and_in_a_for_loop() -> None:
    template = Template(
        "{{ len(await db.runQuery('select 1')) }} users:"
        "{% for id, name in db.runQuery('select id, name from users') %}"
        " {{ id }}={{ name }}{% end %}"
    )
    db = FakeDB()
    assert render_async(template, db=db) == b"2 users: 1=ann 2=&lt;bob&gt;"
    assert db.queries == ["select 1", "select id, name from users"]


def test_awaited_values_inside_a_for_loop_body() -> None:
    template = Template("{% for i in range(3) %}[{{ later(i * 10) }}]{% end %}")
    assert render_async(template, later=later) == b"[0][10][20]"


def test_awaited_value_inside_a_block_of_an_extended_template() -> None:
    loader = DictLoader(
        {
            "base.html": "<h1>{% block title %}{% end %}</h1>{% block body %}{% end %}",
            "page.html": (
                "{% extends 'base.html' %}"
                "{% block title %}{{ later('Users') }}{% end %}"
                "{% block body %}{% for _, n in db.runQuery('q') %}<p>{{ n }}</p>{% end %}{% end %}"
            ),
        }
    )
    page = loader.load("page.html")
    assert render_async(page, later=later, db=FakeDB()) == (
        b"<h1>Users</h1><p>ann</p><p>&lt;bob&gt;</p>"
    )


def test_coroutine_values_are_awaited() -> None:
    async def greeting(who: str) -> str:
        await later(None)
        return f"hello {who}"

    async def numbers() -> list[int]:
        return await later([1, 2, 3])

    template = Template("{{ greeting('x') }}:{% for n in numbers() %}{{ n }}{% end %}")
    assert render_async(template, greeting=greeting, numbers=numbers) == b"hello x:123"


def test_set_awaits_its_value() -> None:
    template = Template("{% set rows = db.runQuery('q') %}{{ len(rows) }} {{ rows[0][1] }}")
    assert render_async(template, db=FakeDB()) == b"2 ann"


def test_explicit_await_works_anywhere() -> None:
    template = Template("{% if await later(True) %}{{ sum(await later([1, 2])) }}{% end %}")
    assert render_async(template, later=later) == b"3"


def test_raw_apply_and_module_outputs_are_awaited() -> None:
    class Modules:
        def Slow(self, text: str) -> defer.Deferred[str]:
            return later(f"<i>{text}</i>")

    def shout(body: bytes) -> defer.Deferred[str]:
        return later(body.decode().upper())

    template = Template(
        "{% raw later('<b>') %}{% apply shout %}a{{ later('b') }}{% end %}{% module Slow('m') %}"
    )
    assert render_async(template, later=later, shout=shout, _tt_modules=Modules()) == (
        b"<b>AB<i>m</i>"
    )


def test_generate_accepts_deferreds_that_have_already_fired() -> None:
    template = Template("{{ a }} {% for x in b %}{{ x }}{% end %}")
    assert template.generate(a=defer.succeed("done"), b=defer.succeed([1, 2])) == b"done 12"


def test_generate_refuses_a_pending_deferred() -> None:
    template = Template("{{ value }}", name="wait.html")
    with pytest.raises(TemplateNotReady, match=r"wait\.html is waiting on .*generate_async"):
        template.generate(value=defer.Deferred())


def test_generate_async_without_waiting_has_already_fired() -> None:
    fired: list[bytes] = []
    Template("{{ 1 + 1 }}").generate_async().addCallback(fired.append)
    assert fired == [b"2"]


def test_failure_of_an_awaited_deferred_names_the_template_line() -> None:
    def broken() -> defer.Deferred[str]:
        return task.deferLater(reactor, 0.001, lambda: 1 / 0)

    template = Template("ok\n{{ broken() }}", name="fail.html")
    with pytest.raises(ZeroDivisionError) as info:
        render_async(template, broken=broken)
    assert "in template fail.html:2" in info.value.__notes__


def test_many_concurrent_renders_of_one_template() -> None:
    template = Template("{{ later(n, 0.001 * (n % 3)) }}")

    def render_all() -> defer.Deferred[list[bytes]]:
        return defer.gatherResults([template.generate_async(later=later, n=n) for n in range(20)])

    assert call(render_all) == [str(n).encode() for n in range(20)]
