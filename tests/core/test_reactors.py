"""``cyclone run --reactor``: cyclone's epoll reactor (default), Twisted's, asyncio, uvloop."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import pytest
from client import fetch
from servers import accepts_connections, free_port, server_process
from waiting import wait_until

APP = textwrap.dedent(
    """
    import asyncio

    from twisted.internet import reactor
    import cyclone.web


    class Which(cyclone.web.RequestHandler):
        async def get(self):
            loop = getattr(reactor, "_asyncioEventloop", None)
            self.write(type(reactor).__name__ + " " + type(loop).__module__)


    Application = cyclone.web.Application([(r"/", Which)])
    """
)


def _serve(tmp_path, reactor: str | None, app: str = APP) -> str:
    """Serve ``app`` with ``cyclone run --reactor reactor`` (no option: None); GET /."""
    (tmp_path / "which_app.py").write_text(app)
    port = free_port()
    command = [sys.executable, "-m", "cyclone", "run", "-r", "which_app.Application"]
    option = [] if reactor is None else ["--reactor", reactor]
    with server_process(
        [*command, "-p", str(port), *option],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as proc:
        wait_until(lambda: accepts_connections(port) or proc.poll() is not None, timeout=15)
        assert proc.poll() is None, proc.stdout.read().decode()
        return fetch(port, "/").text


def test_the_asyncio_reactor_serves(tmp_path):
    assert _serve(tmp_path, "asyncio").startswith("AsyncioSelectorReactor asyncio")


@pytest.mark.skipif(importlib.util.find_spec("uvloop") is None, reason="uvloop is not installed")
def test_the_uvloop_reactor_serves(tmp_path):
    assert _serve(tmp_path, "uvloop") == "AsyncioSelectorReactor uvloop"


def test_without_uvloop_the_option_says_what_to_install(tmp_path):
    (tmp_path / "which_app.py").write_text(APP)
    # The app's directory comes first on sys.path: this module hides an installed uvloop.
    (tmp_path / "uvloop.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'uvloop'\", name='uvloop')\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cyclone",
            "run",
            "-r",
            "which_app.Application",
            "--reactor",
            "uvloop",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "pip install uvloop" in proc.stderr


WHICH = textwrap.dedent(
    """
    from twisted.internet import reactor
    import cyclone.web


    class Which(cyclone.web.RequestHandler):
        def get(self):
            self.write(type(reactor).__module__)


    Application = cyclone.web.Application([(r"/", Which)])
    """
)


@pytest.mark.parametrize(
    ("reactor", "module"),
    [(None, "cyclone.epollreactor"), ("epoll", "twisted.internet.epollreactor")],
)
def test_cyclone_run_picks_the_reactor(tmp_path, reactor, module):
    # The default is cyclone.epollreactor; --reactor epoll is Twisted's own.
    assert _serve(tmp_path, reactor, WHICH) == module
