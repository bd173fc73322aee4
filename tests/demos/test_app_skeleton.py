"""demos/README.md's "Starting a project": ``cyclone app -p NAME`` makes a project that
``cyclone run`` serves as it says."""

from __future__ import annotations

import signal
import subprocess
import urllib.request

from demo_support import CYCLONE
from servers import free_port


def test_a_new_project_runs(tmp_path, demo_process):
    made = subprocess.run(
        [*CYCLONE, "app", "-p", "foobar", "-t", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    project = tmp_path / "foobar"
    assert (project / "foobar/web.py").exists() and (project / "foobar.conf").exists()
    port = free_port()
    # The command of the project's README, from the project's directory.
    server = demo_process(
        [*CYCLONE, "run", "-r", "foobar.web.Application", "-c", "foobar.conf", "-p", str(port)],
        port,
        cwd=project,
    )
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
        assert r.status == 200 and "Welcome to foobar" in r.read().decode()
    # Its pt_BR catalogue, and its SQLite service (the visit counter), work out of the box.
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/", headers={"Accept-Language": "pt-BR"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        page = r.read().decode()
    assert "Bem-vindo ao foobar" in page and "vista 2 vezes" in page, page
    assert server.stop(signal.SIGINT) == 0, server.output()
