"""services= in the Application: built at construction, started and stopped with the server.

The backend is cyclone-ext-memory, a throwaway third-party distribution installed
with real metadata (see thirdparty/), found through its ``cyclone.storage`` entry point.
"""

import http.client
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from servers import free_port, server_process
from thirdparty.install import install, installed
from twisted.logger import formatEvent, globalLogPublisher
from waiting import wait_until

from cyclone.services import (
    ServiceConfigError,
    ServiceStartError,
    ServiceStopError,
    mask_url,
)
from cyclone.testing import call, listen_tcp
from cyclone.web import Application, RequestHandler

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def memory(tmp_path):
    """The cyclone_ext_memory module, installed for this test; its event list starts empty."""
    with installed(tmp_path / "site", "cyclone-ext-memory", "cyclone-ext-badcontract"):
        import cyclone_ext_memory

        yield cyclone_ext_memory


class KeyValueHandler(RequestHandler):
    async def get(self, key):
        value = await self.settings.store.get(key)
        if value is None:
            self.send_error(404)
            return
        self.write(value)

    async def put(self, key):
        await self.settings.store.set(key, self.request.body.decode())
        self.set_status(204)


def _request(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- URLs and options ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "postgresql://user:secret@db.example:5432/app",
            "postgresql://user:***@db.example:5432/app",
        ),
        ("redis://:p@ss:w0rd@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        (
            "smtps://mailer@smtp.example/?password=x&timeout=5",
            "smtps://mailer@smtp.example/?password=***&timeout=5",
        ),
        ("sqlite:///var/app.db?timeout=5", "sqlite:///var/app.db?timeout=5"),
    ],
)
def test_mask_url_hides_passwords(url, masked):
    assert mask_url(url) == masked


def test_a_service_is_built_at_construction_with_converted_options(memory):
    app = Application(
        [],
        services={
            "store": "memory://kv?max_keys=2&start_delay=0.01",
            "other": {"url": "memory://other", "max_keys": 8, "fail_start": "0"},
        },
    )
    store = app.settings.store
    assert isinstance(store, memory.MemoryStore)
    assert app.services["store"] is store
    assert list(app.services) == ["store", "other"]
    # The factory gets the URL without the options it declared, and typed values.
    assert store.url == "memory://kv"
    assert (store.max_keys, store.start_delay) == (2, 0.01)
    other = app.settings.other
    assert (other.url, other.max_keys, other.fail_start) == ("memory://other", 8, False)
    assert not store.running and memory.EVENTS == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("memory://kv?pool_max=8", "unknown option 'pool_max'; memory accepts: max_keys, "),
        ({"url": "memory://kv", "pool_min": 1}, "unknown option 'pool_min'"),
        ("memory://kv?max_keys=abc", "bad value 'abc' for option 'max_keys': ValueError"),
        ("memory://kv?fail_start=yes", "bad value 'yes' for option 'fail_start'"),
        ("memory://kv?max_keys=1&max_keys=2", "option 'max_keys' is given twice in the URL"),
        ({"url": "memory://kv?max_keys=1", "max_keys": 2}, "given in both URL and dict"),
        ("memory://kv?max_keys", "malformed URL"),
        ("memory:kv", "malformed URL: expected scheme://"),
        ("just words", "malformed URL"),
        ("nosuch://host/x", "unknown scheme 'nosuch' (installed: "),
        ({"max_keys": 2}, "a dict spec needs a 'url' string"),
        (42, "must be a URL string or a dict with a 'url' key, got int"),
        ("nostart://x", "which is not a service: missing method start()"),
        ("nooptions://x", "missing attribute 'options'"),
        (
            "nosend://x",
            "the 'nosend' factory returned Silent, which is not a service: missing method send()",
        ),
    ],
)
def test_a_bad_service_spec_fails_at_construction_naming_key_and_url(memory, spec, expected):
    with pytest.raises(ServiceConfigError) as info:
        Application([], services={"store": spec})
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert expected in message
    assert message.startswith("services['store']")


def test_a_mail_scheme_resolves_in_cyclone_mail(memory):
    app = Application([], services={"mail": "outbox://127.0.0.1"})
    call(app.start_services)
    call(app.settings.mail.send, "a message")
    assert app.settings.mail.sent == ["a message"]
    call(app.stop_services)


def test_a_bad_url_error_masks_the_password(memory):
    with pytest.raises(ServiceConfigError) as info:
        Application([], services={"db": "memory://admin:hunter2@host:port/db"})
    message = str(info.value)
    assert "services['db'] (memory://admin:***@host:port/db): malformed URL" in message
    assert "hunter2" not in message


def test_service_names_must_be_identifiers_and_not_settings(memory):
    with pytest.raises(ServiceConfigError, match="the name 'my-db' must be an identifier"):
        Application([], services={"my-db": "memory://x"})
    with pytest.raises(ServiceConfigError, match=r"'debug'.*already used by a setting"):
        Application([], debug=True, services={"debug": "memory://x"})
    with pytest.raises(ServiceConfigError, match="services= must map names to URLs"):
        Application([], services=["memory://x"])


# -- life cycle ------------------------------------------------------------------------


def test_services_start_in_order_and_stop_in_reverse(memory):
    app = Application(
        [],
        services={
            "a": "memory://a?start_delay=0.03",
            "b": "memory://b",
            "c": "memory://c?start_delay=0.01",
        },
    )
    call(app.start_services)
    assert memory.EVENTS == [
        ("starting", "a"),
        ("started", "a"),
        ("starting", "b"),
        ("started", "b"),
        ("starting", "c"),
        ("started", "c"),
    ]
    assert app.services.started == ["a", "b", "c"]
    call(app.start_services)
    assert len(memory.EVENTS) == 6  # starting again is a no-op

    del memory.EVENTS[:]
    call(app.stop_services)
    assert memory.EVENTS == [
        ("stopping", "c"),
        ("stopped", "c"),
        ("stopping", "b"),
        ("stopped", "b"),
        ("stopping", "a"),
        ("stopped", "a"),
    ]
    call(app.stop_services)
    assert len(memory.EVENTS) == 6
    assert not any(s.running for s in app.services.values())


def test_a_failing_start_names_the_service_and_stops_the_started_ones(memory):
    app = Application(
        [],
        services={"a": "memory://a", "b": "memory://b?fail_start=1", "c": "memory://c"},
    )
    with pytest.raises(ServiceStartError) as info:
        call(app.start_services)
    error = info.value
    assert str(error) == (
        "service 'b' (memory://b?fail_start=1) failed to start: "
        "ConnectionRefusedError: cannot reach b"
    )
    assert isinstance(error.__cause__, ConnectionRefusedError)
    assert memory.EVENTS == [
        ("starting", "a"),
        ("started", "a"),
        ("starting", "b"),
        ("stopping", "a"),
        ("stopped", "a"),
    ]
    assert app.services.started == []


def test_every_service_is_stopped_even_when_one_fails_to_stop(memory):
    app = Application([], services={"a": "memory://a", "b": "memory://b?fail_stop=1"})
    call(app.start_services)
    with pytest.raises(ServiceStopError) as info:
        call(app.stop_services)
    assert "service 'b' failed to stop: OSError: b left a lock file behind" in str(info.value)
    assert list(info.value.errors) == ["b"]
    assert ("stopped", "a") in memory.EVENTS
    assert app.services.started == []


def test_a_handler_uses_the_service_started_and_stopped_with_the_server(memory):
    app = Application(
        [(r"/kv/(\w+)", KeyValueHandler)], services={"store": "memory://kv?max_keys=1"}
    )
    store = app.settings.store
    port = listen_tcp(app)
    try:
        wait_until(lambda: store.running, timeout=5)
        number = port.getHost().port
        assert _request(number, "PUT", "/kv/greeting", b"hello") == (204, b"")
        assert _request(number, "GET", "/kv/greeting") == (200, b"hello")
        assert _request(number, "PUT", "/kv/second", b"x")[0] == 500  # max_keys=1
        assert _request(number, "GET", "/kv/missing")[0] == 404
    finally:
        call(port.stopListening)
    wait_until(lambda: ("stopped", "kv") in memory.EVENTS, timeout=5)
    assert not store.running
    assert memory.EVENTS == [
        ("starting", "kv"),
        ("started", "kv"),
        ("stopping", "kv"),
        ("stopped", "kv"),
    ]


def test_a_failing_start_at_listen_is_logged_as_critical(memory):
    app = Application([], services={"db": "memory://u:pw@db?fail_start=1"})
    events = []
    globalLogPublisher.addObserver(events.append)
    port = listen_tcp(app)
    try:
        wait_until(
            lambda: any(e.get("log_namespace") == "cyclone.services" for e in events), timeout=5
        )
    finally:
        globalLogPublisher.removeObserver(events.append)
        call(port.stopListening)
    [event] = [e for e in events if e.get("log_namespace") == "cyclone.services"]
    assert event["log_level"].name == "critical"
    text = formatEvent(event)
    assert "services failed to start" in text
    assert "service 'db' (memory://u:***@db?fail_start=1) failed to start" in text


def test_cyclone_run_stops_services_before_the_reactor_exits(tmp_path):
    site = install(tmp_path / "site", "cyclone-ext-memory")
    journal = tmp_path / "journal"
    (tmp_path / "kvapp.py").write_text(
        "import os\n"
        "import cyclone.web\n"
        "class Get(cyclone.web.RequestHandler):\n"
        "    async def get(self):\n"
        "        await self.settings.store.set('k', 'v')\n"
        "        self.write(await self.settings.store.get('k'))\n"
        "def Application():\n"
        "    url = 'memory://kv?start_delay=0.3&journal=' + os.environ['KV_JOURNAL']\n"
        "    return cyclone.web.Application([(r'/', Get)], services={'store': url})\n"
    )
    port = free_port()
    env = dict(os.environ, KV_JOURNAL=str(journal))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    with server_process(
        [sys.executable, "-m", "cyclone", "run", "-q", "-r", "kvapp.Application", "-p", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as proc:
        wait_until(
            lambda: proc.poll() is not None or _request(port, "GET", "/") == (200, b"v"),
            timeout=20,
            retry_on=(OSError,),  # not listening yet
        )
        assert proc.poll() is None, proc.stdout.read()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0, out
    # stop() takes 0.3 s: the reactor waited for it before exiting.
    assert journal.read_text().splitlines() == [
        "starting kv",
        "started kv",
        "stopping kv",
        "stopped kv",
    ]
