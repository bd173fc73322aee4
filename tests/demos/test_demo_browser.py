"""The push demos' own pages in headless Chromium: the WebSocket chat, the SSE counter and
the long-polling clock run their JavaScript against the real server.

The test adds two routes to the demo's application: ``/_probe``, a page that loads the
demo's page in a same-origin iframe, acts on it and watches its DOM, and ``/_result``,
where the probe POSTs what it saw (``--dump-dom`` would return before the traffic).
Chromium is a subprocess killed by PID. Without ``chromium`` the test is skipped, except
under CI=true, where it fails.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from typing import Any

from browser import HEADLESS_FLAGS
from websockets.sync.client import connect

import cyclone.web
from demos.clock.app import Application as Clock
from demos.sse.app import Application as SSE
from demos.websocket.app import Application as WebSocketChat

PROBE = """<!doctype html>
<html><body><iframe id="demo" src="/" width="800" height="600"></iframe><script>
const frame = document.getElementById("demo");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
frame.onload = async () => {
  const doc = frame.contentDocument;
  const seen = {maxWidth: getComputedStyle(doc.body).maxWidth, value: null};
  try {
    await sleep(300);  // the page's own load handlers connect first
    (function (doc) { %(act)s })(doc);
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      seen.value = (function (doc) { %(watch)s })(doc);
      if (seen.value) break;
      await sleep(50);
    }
  } catch (e) {
    seen.error = String(e);
  }
  fetch("/_result", {method: "POST", body: JSON.stringify(seen)});
};
</script></body></html>
"""


class ProbePage(cyclone.web.RequestHandler):
    def initialize(self, page: str) -> None:
        self.page = page

    def get(self) -> None:
        self.write(self.page)


class ResultHandler(cyclone.web.RequestHandler):
    def initialize(self, received: dict[str, Any], done: threading.Event) -> None:
        self.received, self.done = received, done

    def post(self) -> None:
        self.received.update(json.loads(self.request.body))
        self.done.set()


class Probe:
    """The probe routes added to a demo's application, and what the probe reported."""

    def __init__(self, app: cyclone.web.Application, act: str, watch: str) -> None:
        self.received: dict[str, Any] = {}
        self.done = threading.Event()
        page = PROBE % {"act": act, "watch": watch}
        # Routes for the host the browser asks for, in front of the demo's own (same origin).
        demo_routes = app.handlers.rules[-1][1]
        app.add_handlers(
            r"127\.0\.0\.1",
            [
                (r"/_probe", ProbePage, {"page": page}),
                (r"/_result", ResultHandler, {"received": self.received, "done": self.done}),
                *demo_routes,
            ],
        )

    def run(self, chromium: str, port: int, profile: Any) -> dict[str, Any]:
        """Open the probe in Chromium; return what it saw (after checking the stylesheet)."""
        proc = subprocess.Popen(
            [chromium, *HEADLESS_FLAGS, f"--user-data-dir={profile}",
             f"http://127.0.0.1:{port}/_probe"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            reported = self.done.wait(45)
        finally:
            proc.kill()
            _, stderr = proc.communicate(timeout=10)
        assert reported, f"the probe never reported: {stderr.decode(errors='replace')[-2000:]}"
        seen = self.received
        assert "error" not in seen, seen
        assert seen["maxWidth"] == "768px", "demo.css (max-width: 48em) was not applied"
        return seen


def test_the_chat_page_in_a_browser(chromium, serve, tmp_path):
    app = WebSocketChat()
    probe = Probe(
        app,
        act="""doc.getElementById("name").value = "chromium";
               doc.getElementById("text").value = "hello from chromium";
               doc.getElementById("say").requestSubmit();""",
        watch="""const lines = Array.from(doc.querySelectorAll("#log li"), (li) => li.textContent);
                 return lines.includes("bob: hi chromium") ? lines : null;""",
    )
    port = serve(app)
    heard: list[Any] = []
    in_the_room = threading.Event()

    def bob() -> None:
        # A second chatter with another client library, in the room before the browser.
        with connect(f"ws://127.0.0.1:{port}/ws?name=bob", open_timeout=10) as ws:
            ws.recv(timeout=10)  # bob joined
            in_the_room.set()
            while not heard:
                message = json.loads(ws.recv(timeout=40))
                if message.get("text"):
                    heard.append(message)
                    ws.send("hi chromium")

    chatter = threading.Thread(target=bob, daemon=True)
    chatter.start()
    assert in_the_room.wait(10), "bob could not join"
    seen = probe.run(chromium, port, tmp_path / "profile")
    chatter.join(10)
    assert "chromium: hello from chromium" in seen["value"], seen
    assert heard == [{"name": "chromium", "text": "hello from chromium"}]


def test_the_sse_page_in_a_browser(chromium, serve, tmp_path):
    app = SSE(interval=0.1)
    probe = Probe(
        app,
        act="",
        watch="""const n = doc.getElementById("n").textContent;
                 const at = doc.getElementById("at").textContent;
                 return Number(n) >= 3 ? {n, at} : null;""",
    )
    seen = probe.run(chromium, serve(app), tmp_path / "profile")
    assert int(seen["value"]["n"]) >= 3
    assert re.fullmatch(r"\d\d:\d\d:\d\d", seen["value"]["at"])


def test_the_clock_page_in_a_browser(chromium, serve, tmp_path):
    app = Clock(interval=0.1)
    probe = Probe(
        app,
        act="",
        watch="""const t = doc.getElementById("time").textContent;
                 return /^\\d\\d:\\d\\d:\\d\\d$/.test(t) ? t : null;""",
    )
    seen = probe.run(chromium, serve(app), tmp_path / "profile")
    assert re.fullmatch(r"\d\d:\d\d:\d\d", seen["value"])
    assert app.settings.clock.ticks >= 1
