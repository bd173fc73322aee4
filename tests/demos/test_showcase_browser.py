"""The showcase in a real browser: headless Chromium screenshots on a desktop and a phone.

Skipped when Chromium is not installed, unless ``CI=true`` (then it fails: CI
must have the browser). The server's access log must show no 404 (a missing
favicon, stylesheet or script) and no error for anything the browser fetched.
"""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import pytest
from browser import HEADLESS_FLAGS

from demos.showcase.app import Application

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
PAGES = ("/", "/guestbook", "/upload", "/login")


@pytest.fixture
def showcase(serve, tmp_path):
    """``(base_url, access)``: the showcase, and the (status, method, uri) of every request."""
    access: list[tuple[int, str, str]] = []

    def log_request(handler) -> None:
        access.append((handler.get_status(), handler.request.method, handler.request.uri))

    app = Application(db_path=str(tmp_path / "showcase.sqlite3"), log_function=log_request)
    return f"http://127.0.0.1:{serve(app)}", access


def browse(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            chromium,
            *HEADLESS_FLAGS,
            "--force-device-scale-factor=1",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_screenshots(chromium, showcase, tmp_path, size):
    base_url, access = showcase
    width, height = SIZES[size]
    for page in PAGES:
        shot = tmp_path / f"{size}-{page.strip('/') or 'index'}.png"
        result = browse(
            chromium,
            tmp_path / "profile",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            base_url + page,
        )
        assert shot.exists(), f"no screenshot of {page}: {result.stderr[-2000:]}"
        assert png_size(shot) == (width, height), page
    fetched = {uri.split("?")[0] for _, _, uri in access}
    assert set(PAGES) <= fetched
    assert {"/static/demo.css", "/static/showcase.js"} <= fetched
    failed = [entry for entry in access if entry[0] >= 400]
    assert not failed, f"the browser's visit caused errors: {failed}"


def test_rendered_front_page(chromium, showcase, tmp_path):
    base_url, access = showcase
    result = browse(chromium, tmp_path / "profile", "--dump-dom", base_url + "/")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "13 pages to try:" in dom
    assert 'href="http://127.0.0.1:8889/"' in dom  # the chat demo
    # showcase.js ran: the clock paragraph holds the browser's time.
    assert re.search(r'id="clock"[^>]*>Your browser says it is [^%<]+\.</p>', dom)
    assert not [entry for entry in access if entry[0] >= 400], access
