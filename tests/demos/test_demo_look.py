"""Every demo that serves HTML links the one shared stylesheet, and serves it."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from demos.bottle.app import Application as Bottle
from demos.chat.app import Application as Chat
from demos.clock.app import Application as Clock
from demos.dbapi.app import Application as Notes
from demos.email.app import Application as Email
from demos.github_auth.app import Application as GitHub
from demos.helloworld.app import Application as HelloWorld
from demos.httpauth.app import Application as HTTPAuth
from demos.redis.app import Application as Redis
from demos.sse.app import Application as SSE
from demos.ssl.app import HTTPApplication, HTTPSApplication
from demos.template.app import Application as Template
from demos.upload.app import Application as Upload
from demos.websocket.app import Application as WebSocket

STYLESHEET = (Path(__file__).resolve().parents[2] / "demos/static/demo.css").read_bytes()

PAGES = {
    "helloworld": (HelloWorld, "/"),
    "bottle": (Bottle, "/"),
    "clock": (Clock, "/"),
    "upload": (Upload, "/"),
    "ssl-http": (HTTPApplication, "/"),
    "ssl-https": (HTTPSApplication, "/"),
    "httpauth": (HTTPAuth, "/"),
    "websocket": (WebSocket, "/"),
    "sse": (SSE, "/"),
    "github_auth": (GitHub, "/"),
    "template": (Template, "/"),
    "chat": (Chat, "/"),
    "chat-stats": (Chat, "/stats"),
    "redis": (Redis, "/"),
    "email": (Email, "/"),
}


@pytest.mark.parametrize("name", PAGES)
def test_the_page_uses_the_shared_stylesheet(serve, name):
    factory, path = PAGES[name]
    base = f"http://127.0.0.1:{serve(factory())}"
    with urllib.request.urlopen(base + path, timeout=10) as r:
        page = r.read().decode()
    assert '<link rel="stylesheet" href="/static/demo.css' in page
    with urllib.request.urlopen(base + "/static/demo.css", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/css") and r.read() == STYLESHEET


def test_the_notes_board_uses_it_too(serve, tmp_path):
    base = f"http://127.0.0.1:{serve(Notes(f'sqlite:///{tmp_path}/n.sqlite3'))}"
    with urllib.request.urlopen(base + "/", timeout=10) as r:
        assert '<link rel="stylesheet" href="/static/demo.css">' in r.read().decode()
