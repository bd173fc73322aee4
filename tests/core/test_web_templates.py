"""Templates and UI modules through real HTTP: render, loaders, settings, resources.

Every test serves an Application on a free port and reads the page with a
real client; the templates come from files in a temporary directory or from a
DictLoader.
"""

from __future__ import annotations

import importlib.util
import re
import types
from pathlib import Path
from typing import Any

import pytest
from client import captured_events, fetch, wait_until
from twisted.internet import reactor, task

import cyclone.locale
import cyclone.web
from cyclone import _rendering
from cyclone.template import DictLoader
from cyclone.web import Application, RequestHandler, TemplateModule, UIModule


def later(value: Any, delay: float = 0.02) -> Any:
    return task.deferLater(reactor, delay, lambda: value)


class PageHandler(RequestHandler):
    """Renders the template named by the path with the query arguments as variables."""

    def get(self, name: str) -> None:
        variables = {k: self.get_argument(k) for k in self.request.query_arguments}
        self.render(name, **variables)


def page_app(**settings: Any) -> Application:
    return Application([(r"/(.+)", PageHandler)], **settings)


def write_templates(directory: Path, templates: dict[str, str]) -> str:
    for name, source in templates.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(source, encoding="utf-8")
    return str(directory)


LAYOUT = {
    "base.html": (
        "<html><head><title>{% block title %}Site{% end %}</title></head>"
        "<body>{% block body %}{% end %}{% include 'footer.html' %}</body></html>"
    ),
    "footer.html": "<footer>{{ year }}</footer>",
    "page.html": (
        "{% extends 'base.html' %}"
        "{% block title %}{{ who }} - {% super %}{% end %}"
        "{% block body %}<p>Hello {{ who }}</p>{% end %}"
    ),
}
LAYOUT_PAGE = (
    b"<html><head><title>&lt;Ann&gt; - Site</title></head>"
    b"<body><p>Hello &lt;Ann&gt;</p><footer>2024</footer></body></html>"
)


# --- render, loaders and settings ------------------------------------------------------


def test_render_from_template_path_with_extends_blocks_super_and_include(
    serve: Any, tmp_path: Path
) -> None:
    port = serve(page_app(template_path=write_templates(tmp_path, LAYOUT)))
    status, headers, body = fetch(port, "/page.html?who=%3CAnn%3E&year=2024")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=UTF-8"
    assert body == LAYOUT_PAGE


def test_render_from_the_template_loader_setting(serve: Any) -> None:
    port = serve(page_app(template_loader=DictLoader(LAYOUT)))
    assert fetch(port, "/page.html?who=%3CAnn%3E&year=2024").body == LAYOUT_PAGE


def test_templates_in_subdirectories_resolve_relative_names(serve: Any, tmp_path: Path) -> None:
    templates = {
        "blog/post.html": "{% extends 'layout.html' %}{% block main %}post{% end %}",
        "blog/layout.html": "<main>{% block main %}{% end %}</main>",
    }
    port = serve(page_app(template_path=write_templates(tmp_path, templates)))
    assert fetch(port, "/blog/post.html").body == b"<main>post</main>"


def test_autoescape_is_xhtml_escape_by_default_and_none_turns_it_off(
    serve: Any, tmp_path: Path
) -> None:
    directory = write_templates(tmp_path, {"t.html": "{{ x }}|{% raw x %}|{% raw escape(x) %}"})
    escaping = serve(page_app(template_path=directory))
    assert fetch(escaping, "/t.html?x=%3Ci%3E").body == b"&lt;i&gt;|<i>|&lt;i&gt;"
    raw = serve(page_app(template_path=directory, autoescape=None))
    assert fetch(raw, "/t.html?x=%3Ci%3E").body == b"<i>|<i>|&lt;i&gt;"


def test_template_whitespace_setting(serve: Any, tmp_path: Path) -> None:
    templates = {"w.html": "<ul>\n    <li>{{ x }}</li>\n\n</ul>\n"}
    directory = write_templates(tmp_path, templates)
    single = serve(page_app(template_path=directory))
    assert fetch(single, "/w.html?x=1").body == b"<ul>\n<li>1</li>\n</ul>\n"
    oneline = serve(page_app(template_path=directory, template_whitespace="oneline"))
    assert fetch(oneline, "/w.html?x=1").body == b"<ul> <li>1</li> </ul> "
    kept = serve(page_app(template_path=directory, template_whitespace="all"))
    assert fetch(kept, "/w.html?x=1").body == templates["w.html"].replace("{{ x }}", "1").encode()


def test_each_application_keeps_its_own_loader_settings(serve: Any, tmp_path: Path) -> None:
    directory = write_templates(tmp_path, {"t.html": "{{ x }}"})
    escaping = serve(page_app(template_path=directory))
    raw = serve(page_app(template_path=directory, autoescape=None))
    assert fetch(escaping, "/t.html?x=%3C").body == b"&lt;"
    assert fetch(raw, "/t.html?x=%3C").body == b"<"


# --- waiting templates and the handler life cycle ------------------------------------------


class SlowPageHandler(RequestHandler):
    """``slow()`` in the template returns a Deferred that fires later."""

    def get(self, style: str) -> Any:
        def slow() -> Any:
            return later("<late>")

        if style == "returned":
            return self.render("slow.html", slow=slow)
        if style == "not-returned":
            self.render("slow.html", slow=slow)
            return None
        return self._awaiting(slow)

    async def _awaiting(self, slow: Any) -> None:
        await self.render("slow.html", slow=slow)
        assert self._finished


SLOW = {"slow.html": "<p>{{ slow() }}</p>{% for n in numbers() %}{{ n }}{% end %}"}


@pytest.mark.parametrize("style", ["returned", "not-returned", "awaited"])
def test_render_awaits_deferreds_in_the_template(serve: Any, style: str) -> None:
    loader = DictLoader(SLOW)
    port = serve(
        Application(
            [(r"/(.+)", SlowPageHandler)],
            template_loader=loader,
            ui_methods={"numbers": lambda handler: later([1, 2, 3])},
        )
    )
    assert fetch(port, f"/{style}").body == b"<p>&lt;late&gt;</p>123"


class StringHandler(RequestHandler):
    def get(self) -> None:
        fragment = self.render_string("fragment.html", x="<x>")
        self.set_header("Content-Type", "text/plain")
        self.write(fragment.upper())


def test_render_string_returns_bytes_without_sending(serve: Any) -> None:
    loader = DictLoader({"fragment.html": "<b>{{ x }}</b>"})
    port = serve(Application([(r"/", StringHandler)], template_loader=loader))
    assert fetch(port, "/").body == b"<B>&LT;X&GT;</B>"


class FailingHandler(RequestHandler):
    def get(self, name: str) -> None:
        self.render(name, slow_failure=lambda: task.deferLater(reactor, 0.01, _boom))


def _boom() -> None:
    raise ZeroDivisionError("late failure")


FAILING = {
    "broken.html": "line one\n{{ 1 / 0 }}\n",
    "late.html": "a\nb\n{{ slow_failure() }}",
    "syntax.html": "x\n{% if %}\n",
}


@pytest.mark.parametrize(
    ("name", "where", "error"),
    [
        ("broken.html", "broken.html:2", "ZeroDivisionError"),
        ("late.html", "late.html:3", "late failure"),
        ("syntax.html", "syntax.html:2", "ParseError"),
    ],
)
def test_template_errors_are_500_and_name_the_template_line(
    serve: Any, tmp_path: Path, name: str, where: str, error: str
) -> None:
    directory = write_templates(tmp_path, FAILING)
    quiet = serve(Application([(r"/(.+)", FailingHandler)], template_path=directory))
    with captured_events("cyclone.web") as events:
        status, _, body = fetch(quiet, f"/{name}")
    assert status == 500
    assert where.encode() not in body and b"Traceback" not in body
    logged = [e for e in events if e.get("log_failure") is not None]
    assert len(logged) == 1
    assert where in logged[0]["log_failure"].getTraceback()

    debug = serve(Application([(r"/(.+)", FailingHandler)], template_path=directory, debug=True))
    with captured_events("cyclone.web"):
        status, _, body = fetch(debug, f"/{name}")
    assert status == 500
    assert where.encode() in body and error.encode() in body


class MissingTemplateHandler(RequestHandler):
    def get(self) -> None:
        self.render("nowhere.html")


def test_a_missing_template_is_a_500(serve: Any, tmp_path: Path) -> None:
    port = serve(Application([(r"/", MissingTemplateHandler)], template_path=str(tmp_path)))
    with captured_events("cyclone.web") as events:
        assert fetch(port, "/").status == 500
    assert any("nowhere.html" in str(e.get("log_failure")) for e in events)


def test_templates_compile_once_unless_debug_reloads_them(
    serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = write_templates(tmp_path, {"t.html": "one", "inc.html": "1"})
    cached = serve(page_app(template_path=directory))
    reloading = serve(page_app(template_path=directory, debug=True))
    assert fetch(cached, "/t.html").body == b"one"
    assert fetch(reloading, "/t.html").body == b"one"

    compiled: list[str] = []
    original = cyclone.template.Template.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        compiled.append(kwargs.get("name", "?"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(cyclone.template.Template, "__init__", counting)
    write_templates(tmp_path, {"t.html": "two {% include 'inc.html' %}"})
    assert fetch(cached, "/t.html").body == b"one"
    assert fetch(cached, "/t.html").body == b"one"
    assert compiled == []
    assert fetch(reloading, "/t.html").body == b"two 1"
    assert fetch(reloading, "/t.html").body == b"two 1"
    assert compiled == ["t.html", "inc.html"] * 2


def test_compiled_template_cache_false_reloads_without_debug(serve: Any, tmp_path: Path) -> None:
    directory = write_templates(tmp_path, {"t.html": "one"})
    port = serve(page_app(template_path=directory, compiled_template_cache=False))
    assert fetch(port, "/t.html").body == b"one"
    write_templates(tmp_path, {"t.html": "two"})
    assert fetch(port, "/t.html").body == b"two"


# --- namespace and overrides -----------------------------------------------------------------


class NamespaceHandler(RequestHandler):
    def get_current_user(self) -> str:
        return "ann"

    def get(self) -> None:
        self.render("ns.html")


NAMESPACE = (
    "{{ handler.__class__.__name__ }}|{{ request.path }}|{{ current_user }}|{{ locale.code }}|"
    "{{ _('school') }}|{{ reverse_url('ns') }}|{{ static_url('s.css') }}|{% raw xsrf_form_html() %}"
)


def test_the_template_namespace(serve: Any, tmp_path: Path) -> None:
    (tmp_path / "s.css").write_text("p{}")
    app = Application(
        [cyclone.web.url(r"/ns", NamespaceHandler, name="ns")],
        template_loader=DictLoader({"ns.html": NAMESPACE}),
        static_path=str(tmp_path),
    )
    port = serve(app)
    response = fetch(port, "/ns")
    parts = response.text.split("|", 7)
    assert parts[:6] == ["NamespaceHandler", "/ns", "ann", "en_US", "school", "/ns"]
    assert re.fullmatch(r"/static/s\.css\?v=[0-9a-f]+", parts[6])
    token = re.fullmatch(r'<input type="hidden" name="_xsrf" value="([^"]+)"/>', parts[7])
    assert token is not None
    assert "_xsrf=" in response.headers["Set-Cookie"]


class CustomHandler(RequestHandler):
    def get_template_namespace(self) -> dict[str, Any]:
        namespace = super().get_template_namespace()
        namespace["site"] = "example"
        return namespace

    def get_template_path(self) -> str:
        return self.settings["other_templates"]

    def get(self) -> None:
        self.render("c.html", site="given")


def test_namespace_and_template_path_can_be_overridden(serve: Any, tmp_path: Path) -> None:
    write_templates(tmp_path, {"c.html": "{{ site }} {{ handler.get_template_path() }}"})
    app = Application(
        [(r"/", CustomHandler)], template_path="/nonexistent", other_templates=str(tmp_path)
    )
    assert fetch(serve(app), "/").text == f"given {tmp_path}"


HANDLER_MODULE = """
from cyclone.web import RequestHandler


class NextToMe(RequestHandler):
    def get(self):
        self.render("beside.html", where="beside")
"""


def test_without_template_path_templates_are_found_next_to_the_handler_source(
    serve: Any, tmp_path: Path
) -> None:
    source = tmp_path / "beside_handlers.py"
    source.write_text(HANDLER_MODULE)
    (tmp_path / "beside.html").write_text("found {{ where }}")
    spec = importlib.util.spec_from_file_location("beside_handlers", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    port = serve(Application([(r"/", module.NextToMe)]))
    assert fetch(port, "/").body == b"found beside"


class RenderTwiceHandler(RequestHandler):
    def get(self) -> None:
        self.render("t.html")
        self.render("t.html")


def test_render_after_the_response_finished_is_an_error(serve: Any) -> None:
    port = serve(
        Application([(r"/", RenderTwiceHandler)], template_loader=DictLoader({"t.html": "x"}))
    )
    with captured_events("cyclone.web") as events:
        assert fetch(port, "/").body == b"x"
        # the response can reach the client before the second render() is logged
        wait_until(
            lambda: any(
                "cannot render() after finish()" in str(e.get("log_failure")) for e in events
            )
        )


# --- UI modules and methods -----------------------------------------------------------------


class Entry(UIModule):
    def render(self, title: str) -> str:  # type: ignore[override]
        return f"<article>{cyclone.escape.xhtml_escape(title)}/{self.current_user}</article>"

    def javascript_files(self) -> list[str]:
        return ["entry.js", "https://cdn.example/lib.js"]

    def css_files(self) -> str:
        return "entry.css"

    def embedded_javascript(self) -> str:
        return "start();"

    def embedded_css(self) -> str:
        return ".entry{}"

    def html_head(self) -> str:
        return "<meta name=entry>"

    def html_body(self) -> str:
        return "<div id=end></div>"


class Counter(UIModule):
    def __init__(self, handler: Any) -> None:
        super().__init__(handler)
        self.uses = 0

    def render(self) -> str:  # type: ignore[override]
        self.uses += 1
        return str(self.uses)


def shout(handler: RequestHandler, text: str) -> str:
    return text.upper() + handler.request.path


def whisper(handler: RequestHandler, text: str) -> str:
    return text.lower()


class ModulePage(RequestHandler):
    def get_current_user(self) -> str:
        return "ann"

    def get(self, name: str) -> None:
        self.render(name)


MODULE_PAGES = {
    "entry.html": (
        "<html><head><title>t</title></head>"
        "<body>{% module Entry('a<b') %}{% module Entry('c') %}</body></html>"
    ),
    "methods.html": "{{ shout('hi') }} {{ whisper('HO') }}",
    "counter.html": "{% module Counter() %}{% module Counter() %}{{ modules.Counter() }}",
}
ENTRY_PAGE = (
    "<html><head><title>t</title>"
    '<link href="/static/entry.css?v=HASH" type="text/css" rel="stylesheet"/>\n'
    '<style type="text/css">\n.entry{}\n</style>\n'
    "<meta name=entry>\n"
    "</head><body><article>a&lt;b/ann</article><article>c/ann</article>"
    '<script src="/static/entry.js?v=HASH"></script>'
    '<script src="https://cdn.example/lib.js"></script>\n'
    "<script>\n//<![CDATA[\nstart();\n//]]>\n</script>\n"
    "<div id=end></div>\n"
    "</body></html>"
)


def module_app(static: Path, **settings: Any) -> Application:
    (static / "entry.js").write_text("function start(){}")
    (static / "entry.css").write_text(".entry{}")
    return Application(
        [(r"/(.+)", ModulePage)],
        template_loader=DictLoader(MODULE_PAGES),
        static_path=str(static),
        **settings,
    )


def without_versions(html: str) -> str:
    return re.sub(r"\?v=[0-9a-f]+", "?v=HASH", html)


def as_python_module(name: str, **members: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in members.items():
        setattr(module, key, value)
    return module


@pytest.mark.parametrize(
    "ui_modules",
    [
        {"Entry": Entry, "Counter": Counter},
        as_python_module("my_modules", Entry=Entry, Counter=Counter, helper=len),
        [{"Entry": Entry}, as_python_module("more_modules", Counter=Counter)],
    ],
    ids=["dict", "module", "list"],
)
def test_ui_modules_setting_and_resources_inserted_in_the_page(
    serve: Any, tmp_path: Path, ui_modules: Any
) -> None:
    port = serve(module_app(tmp_path, ui_modules=ui_modules))
    assert without_versions(fetch(port, "/entry.html").text) == ENTRY_PAGE
    # One module instance per request: each request counts from 1 again.
    assert fetch(port, "/counter.html").body == b"123"
    assert fetch(port, "/counter.html").body == b"123"


@pytest.mark.parametrize(
    "ui_methods",
    [
        {"shout": shout, "whisper": whisper},
        as_python_module("my_methods", shout=shout, whisper=whisper, Entry=Entry, _hidden=len),
        [{"shout": shout}, as_python_module("more_methods", whisper=whisper)],
    ],
    ids=["dict", "module", "list"],
)
def test_ui_methods_setting_binds_the_handler(serve: Any, tmp_path: Path, ui_methods: Any) -> None:
    port = serve(module_app(tmp_path, ui_methods=ui_methods))
    assert fetch(port, "/methods.html").body == b"HI/methods.html ho"


class CDNPage(ModulePage):
    """Overrides how resources become HTML."""

    def render_linked_js(self, js_files: Any) -> str:
        return "".join(f"<js {path}>" for path in js_files)

    def render_embed_js(self, js_embed: Any) -> bytes:
        return b"<inline " + b";".join(js_embed) + b">"

    def render_linked_css(self, css_files: Any) -> str:
        return "".join(f"<css {path}>" for path in css_files)

    def render_embed_css(self, css_embed: Any) -> bytes:
        return b"<style " + b";".join(css_embed) + b">"


def test_resource_rendering_methods_can_be_overridden(serve: Any) -> None:
    app = Application(
        [(r"/(.+)", CDNPage)],
        template_loader=DictLoader(MODULE_PAGES),
        ui_modules={"Entry": Entry},
    )
    html = fetch(serve(app), "/entry.html").text
    assert "<css entry.css>\n<style .entry{}>\n<meta name=entry>\n</head>" in html
    assert "<js entry.js><js https://cdn.example/lib.js>\n<inline start();>\n" in html


BUILTINS = {
    "builtins.html": (
        "<head></head><body>"
        "{% module linkify('see http://x.org/a?b=1&c=2') %}|"
        "{% module xsrf_form_html() %}|"
        "{% for c in ['hi', '<yo>'] %}{% module Template('comment.html', c=c) %}{% end %}"
        "</body>"
    ),
    "comment.html": (
        "{{ set_resources(javascript_files='comment.js', embedded_css='.c{}') }}"
        "<p>{{ c }}-{{ current_user }}</p>"
    ),
}


def test_builtin_linkify_xsrf_form_html_and_template_modules(serve: Any) -> None:
    app = Application(
        [(r"/(.+)", ModulePage)],
        template_loader=DictLoader(BUILTINS),
        static_url_prefix="/assets/",
        static_path="/nonexistent",
    )
    response = fetch(serve(app), "/builtins.html")
    html = response.text
    assert html.startswith('<head><style type="text/css">\n.c{}\n</style>\n</head><body>')
    assert '<a href="http://x.org/a?b=1&amp;c=2">http://x.org/a?b=1&amp;c=2</a>|' in html
    assert re.search(r'\|<input type="hidden" name="_xsrf" value="[^"]+"/>\|', html)
    assert "<p>hi-ann</p><p>&lt;yo&gt;-ann</p>" in html
    assert html.endswith('<script src="/assets/comment.js"></script>\n</body>')
    assert "_xsrf=" in response.headers["Set-Cookie"]


def test_the_xsrf_form_field_passes_the_xsrf_check(serve: Any) -> None:
    class Form(RequestHandler):
        def get(self) -> None:
            self.render("form.html")

        def post(self) -> None:
            self.write("accepted")

    app = Application(
        [(r"/", Form)],
        template_loader=DictLoader({"form.html": "{% module xsrf_form_html() %}"}),
        xsrf_cookies=True,
    )
    port = serve(app)
    page = fetch(port, "/")
    value = re.search(r'value="([^"]+)"', page.text)
    assert value is not None
    cookie = page.headers["Set-Cookie"].split(";")[0]
    posted = fetch(
        port,
        "/",
        method="POST",
        body=f"_xsrf={value.group(1)}",
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (posted.status, posted.body) == (200, b"accepted")
    assert fetch(port, "/", method="POST", body="", headers={"Cookie": cookie}).status == 403


def test_ui_modules_and_template_module_are_public_in_cyclone_web() -> None:
    assert cyclone.web.UIModule is UIModule
    assert cyclone.web.TemplateModule is TemplateModule


# --- the hot path ---------------------------------------------------------------------------


def test_a_handler_that_does_not_render_pays_nothing(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[set[str]] = []

    class Hello(RequestHandler):
        def get(self) -> None:
            self.write("Hello, world")

        def on_finish(self) -> None:
            seen.append(set(vars(self)))

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("called for a handler that does not render")

    monkeypatch.setattr(_rendering, "UIModuleSet", forbidden)
    monkeypatch.setattr(cyclone.locale, "parse_accept_language", forbidden)
    app = Application([(r"/", Hello)], template_path="/nonexistent", debug=True)
    port = serve(app)
    response = fetch(port, "/", headers={"Accept-Language": "pt-BR"})
    assert response.body == b"Hello, world"
    wait_until(lambda: seen)  # on_finish runs just after the response is sent
    assert not seen[0] & {"ui", "_ui_modules", "_tt_loaders", "_locale"}
    assert app.template_loaders == {}


# --- error pages rendered from templates ------------------------------------------------


class TemplatedErrors(RequestHandler):
    def get(self) -> None:
        raise cyclone.web.HTTPError(404)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.render("error.html", code=status_code, later=later)


class AsyncWriteError(TemplatedErrors):
    async def write_error(self, status_code: int, **kwargs: Any) -> None:
        hint = await later("try the index")
        self.finish(f"{status_code}: {hint}")


ERROR_TEMPLATES = {
    "error.html": "<h1>{{ code }}</h1><p>{{ later('nothing here') }}</p>",
    "broken.html": "{{ later(1) }}{{ 1 / 0 }}",
}


def test_an_error_page_may_render_a_template_that_waits(serve: Any) -> None:
    port = serve(
        Application([(r"/", TemplatedErrors)], template_loader=DictLoader(ERROR_TEMPLATES))
    )
    response = fetch(port, "/")
    assert response.status == 404
    assert response.body == b"<h1>404</h1><p>nothing here</p>"


def test_write_error_may_be_asynchronous(serve: Any) -> None:
    port = serve(
        Application([(r"/", AsyncWriteError)], template_loader=DictLoader(ERROR_TEMPLATES))
    )
    response = fetch(port, "/")
    assert (response.status, response.body) == (404, b"404: try the index")


class BrokenErrorPage(TemplatedErrors):
    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.render("broken.html", later=later)


def test_an_error_page_that_fails_after_waiting_falls_back_to_the_plain_page(
    serve: Any,
) -> None:
    port = serve(
        Application([(r"/", BrokenErrorPage)], template_loader=DictLoader(ERROR_TEMPLATES))
    )
    with captured_events("cyclone.web"):
        response = fetch(port, "/")
    assert response.status == 500
    assert b"500: Internal Server Error" in response.body
