"""The documentation site builds with ``mkdocs build --strict`` and has its API reference.

CI runs the test suite, so this is where CI builds the docs strictly: a broken link, a
docs page missing from the navigation, a nav entry without its page, or a module that
mkdocstrings cannot load fails the build, and so this test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BUILD_TIMEOUT = 240.0

# The 1.x compatibility face (re-exports of an extension) and the machinery that is not
# an API: their names are documented on the extension's page and in docs/porting-cyclone1.md.
NOT_API = {
    "__init__", "__main__", "pytest_plugin",
    "jsonrpc", "mail", "redis", "sqlite", "sse", "websocket", "xmlrpc",
}


def _public_modules() -> list[str]:
    core = [
        f"cyclone.{p.stem}"
        for p in sorted((ROOT / "cyclone").glob("*.py"))
        if not p.stem.startswith("_") and p.stem not in NOT_API
    ]
    extensions = [
        p.parent.name
        for p in sorted(ROOT.glob("cyclone_ext_*/cyclone_ext_*/__init__.py"))
    ]
    return core + extensions


MODULES = _public_modules()


def _nav_text() -> str:
    return (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize("module", MODULES)
def test_each_public_module_has_an_api_page_in_the_nav(module: str) -> None:
    page = DOCS / "api" / f"{module}.md"
    assert page.exists(), (
        f"{module} has no API page: create {page.relative_to(ROOT)} holding "
        f"'# {module}' and '::: {module}', and list it under 'API reference' in mkdocs.yml"
    )
    assert f"::: {module}" in page.read_text(encoding="utf-8").splitlines(), page
    assert re.search(rf":\s*api/{re.escape(module)}\.md\s*$", _nav_text(), re.M), (
        f"mkdocs.yml lists no api/{module}.md under 'API reference'"
    )


def test_every_docs_page_is_in_the_nav() -> None:
    nav = _nav_text()
    missing = [
        str(p.relative_to(DOCS))
        for p in sorted(DOCS.rglob("*.md"))
        if not re.search(rf":\s*{re.escape(str(p.relative_to(DOCS)))}\s*$", nav, re.M)
    ]
    assert not missing, f"docs pages missing from the nav in mkdocs.yml: {missing}"


@pytest.mark.timeout(BUILD_TIMEOUT + 30)
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
             "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"mkdocs build still running after {BUILD_TIMEOUT}s") from e
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"

    for page in sorted(DOCS.rglob("*.md")):
        rel = page.relative_to(DOCS).with_suffix("")
        if rel.name in ("index", "README"):
            html = site / rel.parent / "index.html"
        else:
            html = site / rel / "index.html"
        assert html.exists(), f"{page.relative_to(ROOT)} has no page in the site ({html})"
    assert (site / "search" / "search_index.json").exists(), "the search index is missing"

    for module in MODULES:
        html = (site / "api" / module / "index.html").read_text(encoding="utf-8")
        # mkdocstrings renders each documented object under a "doc-heading".
        headings = html.count('class="doc doc-heading')
        assert headings >= 2, f"the API page of {module} documents {headings} objects"
    web = (site / "api" / "cyclone.web" / "index.html").read_text(encoding="utf-8")
    for name in ("RequestHandler", "Application", "HTTPError"):
        assert f'id="cyclone.web.{name}"' in web, f"cyclone.web.{name} is not on its API page"
