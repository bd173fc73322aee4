"""Headless Chromium as the client: EventSource (the reference SSE client) and WebSocket.

The page opens the streams, gathers what it receives and POSTs it back to the test
server (``--dump-dom`` would return before the traffic ends). Chromium runs as a
subprocess and is killed by PID. Without ``chromium`` the test is skipped, except
under CI=true, where it fails (.ci/run installs it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading

from browser import HEADLESS_FLAGS

from cyclone.web import Application, RequestHandler
from cyclone_ext_realtime import Hub, HubMixin, SSEHandler, WebSocketHandler

PAGE = """<!doctype html>
<html><body><script>
const results = {sse: [], reconnect: null, errors: [], ws: []};
function report() {
  fetch("/result", {method: "POST", body: JSON.stringify(results)});
}
const source = new EventSource("/events");
source.onmessage = (e) => results.sse.push({type: e.type, data: e.data, id: e.lastEventId});
source.addEventListener("named", (e) =>
  results.sse.push({type: e.type, data: e.data, id: e.lastEventId}));
source.addEventListener("resumed", (e) => {
  results.reconnect = {data: e.data, id: e.lastEventId};
  source.close();
  const ws = new WebSocket("ws://" + location.host + "/ws");
  ws.onopen = () => ws.send("from the browser");
  ws.onmessage = (m) => {
    results.ws.push(m.data);
    if (results.ws.length === 2) { ws.close(); report(); }
  };
  ws.onerror = () => { results.errors.push("websocket error"); report(); };
});
</script></body></html>
"""


class Page(RequestHandler):
    def get(self):
        self.write(PAGE)


class Events(SSEHandler):
    """First connection: three events, then the stream ends; the browser comes back."""

    def on_open(self):
        if self.last_event_id is None:
            self.send_event("line one\nline two\r\nline three", id="1")
            self.send_event({"json": ["é", 2]}, event="named", id="2")
            self.send_event("last before the drop", id="42", retry=50)
            self.finish()
        else:
            self.send_event(self.last_event_id, event="resumed", id="43")


class Echo(HubMixin, WebSocketHandler):
    def open(self):
        self.subscribe("browser-room")
        return self.publish("browser-room", "welcome")

    def on_message(self, message):
        return self.publish("browser-room", message.upper())


class Result(RequestHandler):
    def initialize(self, received):
        self.received = received

    def post(self):
        self.received["result"] = json.loads(self.request.body)
        self.received["done"].set()


def test_chromium_reads_events_resumes_with_last_event_id_and_talks_websocket(serve, chromium):
    received: dict = {"done": threading.Event()}
    app = Application(
        [
            (r"/", Page),
            (r"/events", Events),
            (r"/ws", Echo),
            (r"/result", Result, {"received": received}),
        ],
        hub=Hub(),
        compress_response=True,  # the event stream must still arrive uncompressed
        sse_heartbeat_interval=0,
    )
    port = serve(app)
    with tempfile.TemporaryDirectory() as profile:
        browser = subprocess.Popen(
            [
                chromium,
                *HEADLESS_FLAGS,
                f"--user-data-dir={profile}",
                f"http://127.0.0.1:{port}/",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            assert received["done"].wait(30), "the page never posted its results"
        finally:
            os.killpg(browser.pid, signal.SIGKILL)
            browser.wait(10)
    result = received["result"]
    assert result["sse"] == [
        {"type": "message", "data": "line one\nline two\nline three", "id": "1"},
        {"type": "named", "data": '{"json":["\\u00e9",2]}', "id": "2"},
        {"type": "message", "data": "last before the drop", "id": "42"},
    ]
    assert result["reconnect"] == {"data": "42", "id": "43"}
    assert result["errors"] == []
    assert result["ws"] == ["welcome", "FROM THE BROWSER"]
