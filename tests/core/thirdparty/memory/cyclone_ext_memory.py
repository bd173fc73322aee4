"""cyclone-ext-memory: a third-party extension written only against cyclone's public API.

``memory://NAME?max_keys=N&start_delay=S&fail_start=1&fail_stop=1&journal=PATH`` is a key-value
store held in memory. Every start and stop is recorded in ``EVENTS`` (and appended
to the ``journal`` file when given), so tests can see the order of the life cycle.
"""

from __future__ import annotations

import base64

from twisted.internet import defer, reactor, task

import cyclone.web

EVENTS: list[tuple[str, str]] = []


def _flag(value: str) -> bool:
    if value not in ("0", "1"):
        raise ValueError("expected 0 or 1")
    return value == "1"


class MemoryStore:
    """The service: ``get``/``set`` return Deferreds, like a networked store would."""

    def __init__(
        self, url, max_keys=100, start_delay=0.0, fail_start=False, fail_stop=False, journal=None
    ):
        self.url = url
        self.name = url.partition("://")[2]
        self.max_keys = max_keys
        self.start_delay = start_delay
        self.fail_start = fail_start
        self.fail_stop = fail_stop
        self.journal = journal
        self.running = False
        self.data = {}

    def _record(self, event):
        EVENTS.append((event, self.name))
        if self.journal:
            with open(self.journal, "a") as f:
                f.write(f"{event} {self.name}\n")

    def start(self):
        self._record("starting")
        d = task.deferLater(reactor, self.start_delay, lambda: None)

        def started(_):
            if self.fail_start:
                raise ConnectionRefusedError(f"cannot reach {self.name}")
            self.running = True
            self._record("started")

        return d.addCallback(started)

    def stop(self):
        self._record("stopping")
        d = task.deferLater(reactor, self.start_delay, lambda: None)

        def stopped(_):
            self.running = False
            if self.fail_stop:
                raise OSError(f"{self.name} left a lock file behind")
            self.data.clear()
            self._record("stopped")

        return d.addCallback(stopped)

    def get(self, key):
        if not self.running:
            return defer.fail(RuntimeError("store is not running"))
        return defer.succeed(self.data.get(key))

    def set(self, key, value):
        if not self.running:
            return defer.fail(RuntimeError("store is not running"))
        if key not in self.data and len(self.data) >= self.max_keys:
            return defer.fail(KeyError("store is full"))
        self.data[key] = value
        return defer.succeed(None)


def memory(url, **options):
    """The ``cyclone.storage`` entry point: ``memory(url, **options) -> MemoryStore``."""
    return MemoryStore(url, **options)


memory.options = {
    "max_keys": int,
    "start_delay": float,
    "fail_start": _flag,
    "fail_stop": _flag,
    "journal": str,
}


class TokenScheme:
    """``Authorization: Token <secret>``."""

    name = "Token"

    def parse(self, header_value):
        scheme, _, token = header_value.partition(" ")
        if scheme.lower() != "token" or not token:
            return None
        return token.strip()

    def challenge(self, realm, **params):
        return f'Token realm="{realm}"'


token = TokenScheme()


class EchoHandler(cyclone.web.RequestHandler):
    """The ``cyclone.rpc`` entry point: one procedure, ``echo``, whose reply is base64."""

    protocol = "echo"

    def get_procedure(self, name):
        return getattr(self, f"echo_{name}", None)

    def echo_echo(self, body):
        return base64.b64encode(body)

    def post(self):
        self.write(self.get_procedure("echo")(self.request.body))


class LinesHandler(cyclone.web.RequestHandler):
    """The ``cyclone.realtime`` entry point: a push transport of text lines, one chunk each.

    ``push(line)`` sends one line; ``end()`` ends the stream. ``on_close`` runs once.
    It has no ``on_hub_message`` (an optional member of the contract).
    """

    transport = "lines"
    SUPPORTED_METHODS = ("GET",)
    closed = False

    @cyclone.web.asynchronous
    def get(self, *args):
        self.on_open()

    def on_open(self):
        """The stream is open; override it."""

    def push(self, line):
        self.write(line + "\n")
        return self.flush()

    def end(self):
        self._close()
        self.finish()

    def on_connection_close(self):
        self._close()

    def _close(self):
        if not self.closed:
            self.closed = True
            self.on_close()

    def on_close(self):
        """The stream ended; override it."""


class Outbox:
    """The ``cyclone.mail`` service: keeps every message it is asked to send."""

    def __init__(self, url):
        self.url = url
        self.sent = []

    def start(self):
        return None

    def stop(self):
        return None

    def send(self, message):
        self.sent.append(message)
        return defer.succeed(None)


def outbox(url, **options):
    """The ``cyclone.mail`` entry point: ``outbox(url) -> Outbox``."""
    return Outbox(url)


outbox.options = {}
