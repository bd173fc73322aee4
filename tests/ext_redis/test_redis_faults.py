"""Faults done for real to private redis-server processes: down, killed, restarted, stalled.

Every test owns its server (a free loopback port, stopped by PID afterwards),
so ``CLIENT KILL TYPE normal``, ``SHUTDOWN``, ``CLIENT PAUSE`` and ``kill
-STOP`` disturb nobody else.
"""

from __future__ import annotations

import http.client
import json
import time

import pytest
from redis_servers import free_port, run
from twisted.internet import defer, reactor, task
from waiting import wait_until

from cyclone.testing import call
from cyclone.web import Application, RequestHandler
from cyclone_ext_redis import RedisUnavailable


class KeyHandler(RequestHandler):
    async def get(self, key: str) -> None:
        self.write({"value": await self.settings.cache.get(key)})

    async def put(self, key: str) -> None:
        await self.settings.cache.set(key, self.request.body.decode())
        self.write({"ok": True})


def fetch(port: int, path: str, method: str = "GET", body: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, response.reason, response.read()
    finally:
        conn.close()


def timed(func):
    """``(seconds, result or exception)`` of ``run(func)``."""
    start = time.monotonic()
    try:
        result = run(func)
    except Exception as exc:
        result = exc
    return time.monotonic() - start, result


def test_the_application_starts_while_redis_is_down_and_answers_503(servers, serve):
    port = free_port()
    app = Application(
        [(r"/k/(\w+)", KeyHandler)],
        services={"cache": f"redis://:pw@127.0.0.1:{port}/0?connect_timeout=1"},
    )
    http_port = serve(app)
    start = time.monotonic()
    status, reason, body = fetch(http_port, "/k/a")
    assert time.monotonic() - start < 1.5
    assert (status, reason) == (503, "Redis Unavailable")
    assert b"pw" not in body
    for _ in range(3):  # still down: each fails fast, nothing hangs
        start = time.monotonic()
        assert fetch(http_port, "/k/a")[0] == 503
        assert time.monotonic() - start < 1.5

    servers("--requirepass", "pw", port=port)  # Redis comes up: service resumes by itself
    wait_until(lambda: fetch(http_port, "/k/a")[0] == 200, timeout=5)
    assert fetch(http_port, "/k/a", "PUT", "hello")[0] == 200
    assert json.loads(fetch(http_port, "/k/a")[2]) == {"value": "hello"}


def test_connections_killed_three_times_under_load_lose_no_request(servers, open_pool):
    server = servers()
    server.cli("SET", "load", "42")
    pool = open_pool(f"redis://127.0.0.1:{server.port}/0?pool_size=4&connect_timeout=2")
    counts = {"ok": 0, "failed": 0, "errors": []}
    running = {"on": True}

    async def worker():
        while running["on"]:
            try:
                assert await pool.get("load") == "42"
                counts["ok"] += 1
            except Exception as exc:
                counts["failed"] += 1
                counts["errors"].append(repr(exc))
            await task.deferLater(reactor, 0.001, lambda: None)

    def start_load():
        return [defer.ensureDeferred(worker()) for _ in range(20)]

    workers = call(start_load)
    try:
        for _ in range(3):
            wait_until(lambda: counts["ok"] > 200, timeout=5)
            before = counts["ok"]
            killed = int(server.cli("CLIENT", "KILL", "TYPE", "normal"))
            assert killed >= 4
            wait_until(lambda b=before: counts["ok"] > b + 300, timeout=5)
    finally:
        running["on"] = False
        call(lambda: defer.gatherResults(workers))
    assert counts["failed"] == 0, counts["errors"][:5]
    assert counts["ok"] > 900


def test_a_write_in_flight_when_its_connection_dies_fails_and_is_not_replayed(servers, open_pool):
    server = servers()
    pool = open_pool(f"redis://127.0.0.1:{server.port}/0?pool_size=1&command_timeout=10")
    run(pool.ping)
    server.cli("CLIENT", "PAUSE", "5000", "WRITE")  # the SET waits inside the server
    pending = {}

    def send():
        pending["d"] = pool.set("written", "once")

    call(send)
    wait_until(lambda: "blocked_clients:1" in server.cli("INFO", "clients"), timeout=5)
    server.cli("CLIENT", "KILL", "TYPE", "normal")
    server.cli("CLIENT", "UNPAUSE")
    with pytest.raises(RedisUnavailable) as info:
        run(lambda: pending["d"])
    assert info.value.maybe_ran and "not replayed" in str(info.value)
    time.sleep(0.3)
    assert server.cli("EXISTS", "written") == "0"  # never re-sent on the new connection
    assert run(lambda: pool.set("after", "1")) == "OK"


def test_shutdown_fails_fast_then_restart_heals(servers, open_pool):
    server = servers()
    port = server.port
    pool = open_pool(f"redis://127.0.0.1:{port}/0?connect_timeout=2&reconnect_delay=0.5")
    assert run(lambda: pool.set("k", "v")) == "OK"
    try:
        server.cli("SHUTDOWN", "NOSAVE")
    except Exception:
        pass  # the server closes this connection as it goes
    server.process.wait(10)
    wait_until(lambda: not call(lambda: pool.available), timeout=5)
    for _ in range(5):
        seconds, result = timed(lambda: pool.get("k"))
        assert isinstance(result, RedisUnavailable) and not result.maybe_ran, result
        assert seconds < 2.5
    restarted = servers(port=port)
    restarted.cli("SET", "k", "back")
    wait_until(lambda: timed(lambda: pool.get("k"))[1] == "back", timeout=5)


def test_client_pause_and_sigstop_are_bounded_by_command_timeout(servers, open_pool):
    server = servers()
    url = f"redis://127.0.0.1:{server.port}/0?pool_size=2&connect_timeout=1&command_timeout=0.5"
    pool = open_pool(url)
    run(pool.ping)
    server.cli("CLIENT", "PAUSE", "3000", "ALL")
    seconds, result = timed(lambda: pool.get("k"))
    assert isinstance(result, RedisUnavailable) and result.maybe_ran, result
    assert 0.4 < seconds < 1.5
    server.cli("CLIENT", "UNPAUSE")
    wait_until(lambda: timed(lambda: pool.ping())[1] == "PONG", timeout=5)

    server.pause()  # kill -STOP: the kernel still accepts connections, nobody answers
    try:
        for _ in range(3):
            seconds, result = timed(lambda: pool.get("k"))
            assert isinstance(result, RedisUnavailable), result
            assert seconds < 1.6
    finally:
        server.resume()
    wait_until(lambda: timed(lambda: pool.ping())[1] == "PONG", timeout=5)


def test_idle_connections_closed_by_the_server_are_replaced(servers, open_pool):
    server = servers("--timeout", "1")
    pool = open_pool(f"redis://127.0.0.1:{server.port}/0?pool_size=2")
    assert run(pool.ping) == "PONG"
    first = server.cli("CLIENT", "LIST")
    wait_until(lambda: server.cli("CLIENT", "LIST") != first, timeout=5)  # closed, reconnected
    for _ in range(20):
        assert run(pool.ping) == "PONG"
