"""The set installs the way users install it: wheels built by ``uv build``, then plain
``pip install 'cyclone[all]'`` into a fresh venv, and a real app served from there.

The wheels of every distribution go into one directory (``--find-links``); third-party
dependencies (Twisted, …) come from PyPI. PyPI also has an old cyclone 1.x, so every
requirement names the 2.0 pre-release, as a user's would.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import textwrap
import urllib.request
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
VERSION = "2.0.0.dev0"
DISTRIBUTIONS = (
    "cyclone",
    "cyclone_ext_sql",
    "cyclone_ext_realtime",
    "cyclone_ext_redis",
    "cyclone_ext_rpc",
    "cyclone_ext_mail",
)
REQUIREMENT = f"cyclone[all]>={VERSION}"

# Served from the fresh venv: a query through an sqlite:// service, a WebSocket echo.
APP = textwrap.dedent(
    """
    import sys

    from twisted.internet import reactor

    import cyclone.web
    import cyclone.websocket


    class QueryHandler(cyclone.web.RequestHandler):
        async def get(self):
            rows = await self.settings.db.runQuery("SELECT name FROM items ORDER BY id")
            self.write({"names": [name for (name,) in rows]})


    class EchoHandler(cyclone.websocket.WebSocketHandler):
        def on_message(self, message):
            self.write_message("echo: " + message)


    app = cyclone.web.Application(
        [(r"/items", QueryHandler), (r"/echo", EchoHandler)],
        services={"db": "sqlite:///" + sys.argv[1]},
    )
    port = reactor.listenTCP(0, app, interface="127.0.0.1")
    print(port.getHost().port, flush=True)
    reactor.run()
    """
)


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    return uv


def _clean_env() -> dict[str, str]:
    """The environment without this test run's venv, so the fresh venv stands alone."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def build_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``uv build --all-packages``: an sdist and a wheel of every distribution.

    Built once per session by the ``wheelhouse`` fixture of tests/core/conftest.py.
    """
    out = tmp_path_factory.mktemp("dist")
    _run(_uv(), "build", "--all-packages", "--quiet", "-o", out, cwd=ROOT)
    for name in DISTRIBUTIONS:
        assert (out / f"{name}-{VERSION}-py3-none-any.whl").is_file(), sorted(out.iterdir())
        assert (out / f"{name}-{VERSION}.tar.gz").is_file(), sorted(out.iterdir())
    return out


def _make_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def _pip_install(python: Path, wheelhouse: Path, requirement: str, cwd: Path) -> None:
    _run(python, "-m", "pip", "install", "--find-links", wheelhouse, requirement, cwd=cwd)


VERSIONS = textwrap.dedent(
    """
    import importlib.metadata, json, sys

    found = {}
    for name in sys.argv[1:]:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    print(json.dumps(found))
    """
)


def _versions(python: Path, cwd: Path) -> dict[str, str]:
    """The installed version of each distribution of the set (absent ones left out)."""
    return json.loads(_run(python, "-c", VERSIONS, *DISTRIBUTIONS, cwd=cwd).stdout)


@pytest.fixture
def served_app(wheelhouse: Path, tmp_path: Path) -> Iterator[int]:
    """A fresh venv with ``cyclone[all]`` from the wheels, serving APP; yields its port."""
    python = _make_venv(tmp_path / "venv")
    _pip_install(python, wheelhouse, REQUIREMENT, cwd=tmp_path)
    # Our wheels, not PyPI's cyclone 1.x, and every distribution of the set.
    assert _versions(python, tmp_path) == dict.fromkeys(DISTRIBUTIONS, VERSION)
    _run(python, "-c", "import psycopg2, pymysql", cwd=tmp_path)  # [all]'s drivers, from wheels
    _run(tmp_path / "venv" / "bin" / "cyclone", "plugins", "--check", cwd=tmp_path)

    database = tmp_path / "app.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO items (name) VALUES (?)", [("alpha",), ("beta",)])
    db.close()
    (tmp_path / "app.py").write_text(APP)
    process = subprocess.Popen(
        [str(python), "app.py", str(database)],
        cwd=tmp_path,  # not the repository: nothing of the source tree is importable
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            pytest.fail(f"the app did not start:\n{process.stderr.read()}")
        yield int(line)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_install_all_and_serve(served_app: int) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{served_app}/items", timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"names": ["alpha", "beta"]}

    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{served_app}/echo", open_timeout=10) as ws:
        ws.send("hello")
        assert ws.recv(timeout=10) == "echo: hello"


# Every 1.x import path in a venv with the core alone: each names the extra to install.
CORE_ONLY = {
    "cyclone.sqlite": "sql",
    "cyclone.websocket": "realtime",
    "cyclone.sse": "realtime",
    "cyclone.redis": "redis",
    "cyclone.mail": "mail",
    "cyclone.jsonrpc": "rpc",
    "cyclone.xmlrpc": "rpc",
}

PROBE = textwrap.dedent(
    """
    import importlib, json, sys

    found = {}
    for module in sys.argv[1:]:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            found[module] = str(exc)
        else:
            found[module] = None
    print(json.dumps(found))
    """
)


def test_core_alone_names_the_extras(wheelhouse: Path, tmp_path: Path) -> None:
    python = _make_venv(tmp_path / "venv")
    _pip_install(python, wheelhouse, f"cyclone>={VERSION}", cwd=tmp_path)
    assert _versions(python, tmp_path) == {"cyclone": VERSION}
    _run(python, "-c", "import cyclone.web", cwd=tmp_path)

    result = _run(python, "-c", PROBE, *CORE_ONLY, cwd=tmp_path)
    messages = json.loads(result.stdout)
    for module, extra in CORE_ONLY.items():
        message = messages[module]
        assert message is not None, f"{module} imported without its extension"
        assert message.startswith(f"{module} is provided by "), message
        assert f"pip install 'cyclone[{extra}]'" in message, message

    # A service URL of an extension that is not installed names its extra too.
    probe = (
        "from cyclone.web import Application\n"
        "try:\n"
        "    Application([], services={'cache': 'redis://:hunter2@127.0.0.1:6379/0'})\n"
        "except Exception as e:\n"
        "    print(e)\n"
    )
    message = _run(python, "-c", probe, cwd=tmp_path).stdout
    assert message.startswith("services['cache'] (redis://:***@127.0.0.1:6379/0): "), message
    assert "unknown scheme 'redis'" in message, message
    assert "pip install 'cyclone[redis]'" in message, message
    assert "hunter2" not in message
