"""The locale demo in its own process (translations are process-wide): gettext in code and
templates, chosen by Accept-Language or ``?lang=``; the committed catalogues are current."""

from __future__ import annotations

import gettext
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
from demo_support import CYCLONE, ROOT, DemoProcess
from servers import free_port

TRANSLATIONS = ROOT / "demos/locale/translations"


def get(url: str, language: str | None = None) -> str:
    headers = {"Accept-Language": language} if language else {}
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.read().decode()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    # One server for the module: a process start costs more than the requests.
    tmp = tmp_path_factory.mktemp("locale")
    port = free_port()
    server = DemoProcess(
        [*CYCLONE, "run", "-q", "-r", "demos.locale.app.Application", "-p", str(port)],
        tmp,
        tmp / "server.log",
    )
    try:
        server.wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_templates_follow_accept_language(base):
    page = get(base + "/?n=1", "pt-BR,pt;q=0.9,en;q=0.5")
    assert "<h1>Bem-vindo</h1>" in page and "Esta página fala a sua língua." in page
    assert '<p id="count">1 mensagem nova</p>' in page and ">Publicar</button>" in page
    assert '<html lang="pt-BR">' in page and "/static/demo.css" in page
    page = get(base + "/?n=2", "es-ES,es;q=0.8")
    assert "<h1>Bienvenido</h1>" in page and '<p id="count">2 mensajes nuevos</p>' in page
    page = get(base + "/?n=2", "fr-FR")
    assert "<h1>Welcome</h1>" in page and '<p id="count">2 new messages</p>' in page


def test_lang_argument_wins_over_the_browser(base):
    assert "Bienvenido" in get(base + "/?lang=es_ES", "pt-BR")
    assert "<h1>Welcome</h1>" in get(base + "/?lang=en_US", "pt-BR")


def test_handlers_translate_in_code_with_plurals_by_language(base):
    # Portuguese counts 0 as singular ("plural=(n > 1)"), Spanish does not ("n != 1").
    assert json.loads(get(base + "/api/inbox?n=0", "pt-BR")) == {
        "locale": "pt_BR",
        "title": "Caixa de entrada",
        "summary": "0 mensagem nova",
        "action": "Publicar",
    }
    assert json.loads(get(base + "/api/inbox?n=0", "es-ES"))["summary"] == "0 mensajes nuevos"
    assert json.loads(get(base + "/api/inbox?n=5"))["summary"] == "5 new messages"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not here")
def test_the_committed_catalogues_are_compiled_from_the_po_files(tmp_path):
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/demo.po")):
        fresh = tmp_path / f"{po.parent.parent.name}.mo"
        subprocess.run(["msgfmt", "-o", str(fresh), str(po)], check=True, timeout=30)
        with open(po.with_suffix(".mo"), "rb") as a, open(fresh, "rb") as b:
            committed, compiled = gettext.GNUTranslations(a), gettext.GNUTranslations(b)
        assert committed._catalog == compiled._catalog, f"run demos/locale/compile.sh ({po})"
    assert {p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/demo.mo")} == {
        "pt_BR",
        "es_ES",
    }


def test_compile_script_runs(tmp_path):
    if shutil.which("msgfmt") is None:
        pytest.skip("GNU gettext's msgfmt is not here")
    copy = tmp_path / "locale"
    shutil.copytree(ROOT / "demos/locale", copy, ignore=shutil.ignore_patterns("*.mo"))
    subprocess.run(["sh", str(copy / "compile.sh")], check=True, capture_output=True, timeout=30)
    assert len(list(Path(copy).glob("translations/*/LC_MESSAGES/demo.mo"))) == 2
