"""``cyclone run --reload``: an edited handler is served within 2 s, no connection refused.

The new process serves the supervisor's socket before the old one lets go of it, so
a client that keeps connecting through the reload is always answered. Code that no
longer starts leaves the previous code serving. ``debug=True`` implies ``--reload``.
"""

from __future__ import annotations

import signal
import textwrap
import time
from pathlib import Path

from ops_support import CYCLONE_RUN, get

APP = textwrap.dedent(
    """
    import os

    import cyclone.web


    class Version(cyclone.web.RequestHandler):
        def get(self):
            self.write("VERSION " + str(os.getpid()))


    Application = cyclone.web.Application([(r"/", Version)]{settings})
    """
)


def _write_app(directory: Path, version: str, settings: str = "") -> None:
    (directory / "reloadapp.py").write_text(
        APP.replace("VERSION", version).replace("{settings}", settings)
    )


def _start(server, directory: Path, *options: str):
    proc = server([*CYCLONE_RUN, "-r", "reloadapp.Application", "-p", "0", *options], directory)
    url = proc.wait_for_line(r"serving reloadapp\.Application on (http://\S+)$")[1]
    proc.wait_for_line(r"cyclone run: 1 worker process, reloading on changes$")
    proc.wait_for_all(
        [r"reloading when one of \d+ files changes", r"worker \d+ standing by for the next reload"]
    )
    return proc, url


def _served_within(url: str, prefix: bytes, seconds: float) -> tuple[float, bytes]:
    """Poll with a new connection each time until the body starts with ``prefix``.

    A refused or failed connection fails the test: the socket never closes.
    """
    started = time.monotonic()
    while True:
        status, body = get(url, timeout=seconds)
        assert status == 200
        elapsed = time.monotonic() - started
        if body.startswith(prefix):
            return elapsed, body
        assert elapsed < seconds, f"still {body!r} after {elapsed:.2f}s"
        time.sleep(0.02)


def test_an_edited_handler_is_served_within_2_s_without_a_refused_connection(tmp_path, server):
    _write_app(tmp_path, "one")
    proc, url = _start(server, tmp_path, "--reload")
    assert get(url)[1].startswith(b"one ")

    _write_app(tmp_path, "two")
    elapsed, body = _served_within(url, b"two ", 2.0)
    assert elapsed < 2.0
    # Code that does not start: the previous code keeps serving.
    proc.wait_for_all([r"reloaded; worker\(s\) \d+ serving", r"standing by for the next reload"])
    (tmp_path / "reloadapp.py").write_text("this is not python\n")
    proc.wait_for_line(r"the changed code does not start \(exit status 1\)", timeout=30)
    assert get(url)[1] == body

    proc.proc.send_signal(signal.SIGTERM)
    assert proc.wait() == 0, proc.output()
    assert "Traceback" not in proc.output()


def test_debug_true_implies_reload_under_cyclone_run(tmp_path, server):
    _write_app(tmp_path, "debug-one", ", debug=True")
    proc, url = _start(server, tmp_path)
    assert get(url)[1].startswith(b"debug-one ")
    _write_app(tmp_path, "debug-two", ", debug=True")
    _served_within(url, b"debug-two ", 10.0)
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.wait() == 0, proc.output()
