"""docs/coming-from-tornado.md and docs/porting-cyclone1.md say what the code does.

- Every name a page lists as the same as Tornado's exists in Tornado (the version of the
  dev dependencies) and in cyclone; every Tornado name it lists as not in cyclone exists
  in Tornado and is missing from cyclone.
- Every 1.x module path of the porting page imports when it is kept, is gone when it is
  removed, and, when an extension provides it, imports with the extension and names the
  extra to install without it (checked in a subprocess that hides the extension).
- Every 1.x name listed as kept exists; every one listed as removed does not.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
TORNADO = DOCS / "coming-from-tornado.md"
PORTING = DOCS / "porting-cyclone1.md"
MISSING = object()


def _section(page: Path, heading: str) -> list[str]:
    lines = page.read_text(encoding="utf-8").splitlines()
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def _name_lists(page: Path, heading: str) -> list[tuple[str, list[str]]]:
    """The bullets "- `owner`: `a`, `b`, ..." of a section (continued on indented lines)."""
    bullets: list[str] = []
    for line in _section(page, heading):
        if line.startswith("- `"):
            bullets.append(line)
        elif line.startswith("  ") and bullets:
            bullets[-1] += " " + line.strip()
    found = []
    for bullet in bullets:
        owner, _, rest = bullet[2:].partition(":")
        names = re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", rest)
        found.append((owner.strip("`"), names))
    assert found, f"{page.name}: no name lists under {heading!r}"
    return found


def _table_first_column(page: Path, heading: str) -> list[str]:
    rows = [line for line in _section(page, heading) if line.startswith("| `")]
    assert rows, f"{page.name}: no table under {heading!r}"
    return [re.match(r"\| `([^`]+)`", row).group(1) for row in rows]


def _resolve(dotted: str) -> Any:
    """The object a dotted path names, or MISSING (the longest importable prefix, then
    attributes)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, MISSING)
            if obj is MISSING:
                return MISSING
        return obj
    return MISSING


# -- Coming from Tornado --------------------------------------------------------------

SAME_AS_TORNADO = [
    (owner, name)
    for owner, names in _name_lists(TORNADO, "## Same names as Tornado")
    for name in names
]


def test_the_tornado_page_lists_names() -> None:
    owners = {owner for owner, _ in SAME_AS_TORNADO}
    assert {"cyclone.web", "cyclone.web.RequestHandler", "cyclone.escape"} <= owners
    assert len(SAME_AS_TORNADO) > 100


@pytest.mark.parametrize(
    ("owner", "name"), SAME_AS_TORNADO, ids=[f"{o}.{n}" for o, n in SAME_AS_TORNADO]
)
def test_same_as_tornado(owner: str, name: str) -> None:
    assert owner.startswith("cyclone."), owner
    tornado_owner = "tornado." + owner.removeprefix("cyclone.")
    assert _resolve(f"{tornado_owner}.{name}") is not MISSING, (
        f"the page says {owner}.{name} is Tornado's, but {tornado_owner}.{name} does not exist"
    )
    assert _resolve(f"{owner}.{name}") is not MISSING, (
        f"the page says {owner}.{name} is the same as Tornado's, but cyclone has no such name"
    )


NOT_IN_CYCLONE = _table_first_column(TORNADO, "## Not in cyclone")


@pytest.mark.parametrize("dotted", NOT_IN_CYCLONE)
def test_not_in_cyclone(dotted: str) -> None:
    assert dotted.startswith("tornado."), dotted
    assert _resolve(dotted) is not MISSING, f"{dotted} is not a Tornado name"
    ours = "cyclone." + dotted.removeprefix("tornado.")
    assert _resolve(ours) is MISSING, (
        f"{ours} exists now: move it to 'Same names as Tornado' in {TORNADO.name}"
    )


# -- Porting from cyclone 1.x ---------------------------------------------------------


def _module_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in _section(PORTING, "## Module paths"):
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows.append((cells[0].strip("`"), cells[1], cells[2]))
    return rows


MODULE_ROWS = _module_rows()
EXTENSION_ROWS = [
    (module, re.search(r"`(cyclone_ext_\w+)`", status).group(1), extra.strip("`"))
    for module, status, extra in MODULE_ROWS
    if status.startswith("re-exports")
]


def test_the_porting_page_lists_every_compat_module() -> None:
    """Every thin 1.x module in cyclone/ has its row (the design's seven, at least)."""
    listed = {module for module, _, _ in MODULE_ROWS}
    compat = {"cyclone.redis", "cyclone.sqlite", "cyclone.mail", "cyclone.jsonrpc",
              "cyclone.xmlrpc", "cyclone.websocket", "cyclone.sse"}
    assert compat <= listed, compat - listed
    assert {m for m, _, _ in EXTENSION_ROWS} == compat


@pytest.mark.parametrize(
    ("module", "status", "extra"), MODULE_ROWS, ids=[r[0] for r in MODULE_ROWS]
)
def test_module_path(module: str, status: str, extra: str) -> None:
    if status == "removed":
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(module)
        return
    importlib.import_module(module)  # kept, or its extension is installed (dev group)
    if status.startswith("re-exports"):
        package = re.search(r"`(cyclone_ext_\w+)`", status).group(1)
        assert re.fullmatch(r"`cyclone\[\w+\]`", extra), extra
        module_obj = sys.modules[module]
        exported = getattr(module_obj, "__all__", [])
        ext = importlib.import_module(package)
        assert exported and all(getattr(module_obj, n) is getattr(ext, n) for n in exported), (
            f"{module} does not re-export {package}'s names"
        )
    else:
        assert status == "kept" and extra == "core", (module, status, extra)


_HIDE_AND_IMPORT = textwrap.dedent(
    """
    import importlib, json, sys

    rows = json.loads(sys.argv[1])

    class Hide:
        hidden = None

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == self.hidden:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    hide = Hide()
    sys.meta_path.insert(0, hide)
    out = {}
    for module, package in rows:
        hide.hidden = package
        for name in [n for n in sys.modules if n.split(".")[0] in (package, module)]:
            del sys.modules[name]
        sys.modules.pop(module, None)
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:
            out[module] = str(e)
        else:
            out[module] = None
    print(json.dumps(out))
    """
)


def test_without_the_extension_the_module_names_the_extra() -> None:
    rows = [(module, package) for module, package, _ in EXTENSION_ROWS]
    done = subprocess.run(
        [sys.executable, "-c", _HIDE_AND_IMPORT, json.dumps(rows)],
        capture_output=True, text=True, timeout=60, check=True,
    )
    messages = json.loads(done.stdout.strip().splitlines()[-1])
    for module, _package, extra in EXTENSION_ROWS:
        message = messages[module]
        assert message is not None, f"{module} imported with its extension hidden"
        assert f"pip install '{extra}'" in message, (module, message)
        assert module in message, (module, message)


KEPT_1X = [
    (owner, name)
    for owner, names in _name_lists(PORTING, "## Names that keep working")
    for name in names
]


@pytest.mark.parametrize(("owner", "name"), KEPT_1X, ids=[f"{o}.{n}" for o, n in KEPT_1X])
def test_kept_1x_name(owner: str, name: str) -> None:
    assert _resolve(f"{owner}.{name}") is not MISSING, (
        f"{PORTING.name} says {owner}.{name} keeps working, but it does not exist"
    )


REMOVED_1X = _table_first_column(PORTING, "## Removed or renamed names")


@pytest.mark.parametrize("dotted", REMOVED_1X)
def test_removed_1x_name(dotted: str) -> None:
    assert dotted.startswith("cyclone."), dotted
    assert _resolve(dotted) is MISSING, (
        f"{dotted} exists: move it to 'Names that keep working' in {PORTING.name}"
    )


@pytest.mark.parametrize("version", [1, 2])
def test_signed_values_cross_between_tornado_and_cyclone(version: int) -> None:
    """coming-from-tornado.md: a cookie signed by one framework decodes in the other."""
    import tornado.web

    import cyclone.web

    signed = tornado.web.create_signed_value("s3cret", "user", "bob", version=version)
    assert cyclone.web.decode_signed_value("s3cret", "user", signed) == b"bob"
    ours = cyclone.web.create_signed_value("s3cret", "user", "bob")
    assert tornado.web.decode_signed_value("s3cret", "user", ours) == b"bob"
    assert cyclone.web.decode_signed_value("other", "user", signed) is None
