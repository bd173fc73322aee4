"""A client that stops reading responses is dropped after write_timeout."""

import socket
import threading

from twisted.internet import reactor, task
from waiting import wait_until

import cyclone.web

CHUNK = b"x" * 65536


class FirehoseHandler(cyclone.web.RequestHandler):
    closed = threading.Event()
    chunks = 0

    async def get(self):
        connection = self.request.connection
        while not connection.closed:
            self.write(CHUNK)
            await self.flush()
            type(self).chunks += 1
            if type(self).chunks > 10_000:  # bounded: the test fails rather than spinning
                break

    def on_connection_close(self):
        type(self).closed.set()


class SlowHandler(cyclone.web.RequestHandler):
    async def get(self):
        for _ in range(20):
            self.write(CHUNK)
            await self.flush()
        await task.deferLater(reactor, 0.05, lambda: None)
        self.finish()


def stalled_client(port: int, path: str) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def test_a_client_that_stops_reading_is_dropped(serve):
    FirehoseHandler.closed.clear()
    FirehoseHandler.chunks = 0
    app = cyclone.web.Application([(r"/", FirehoseHandler)], write_timeout=0.5)
    port = serve(app)
    sock = stalled_client(port, "/")
    try:
        assert FirehoseHandler.closed.wait(10), "the stalled client was never dropped"
        assert FirehoseHandler.chunks < 10_000
        wait_until(lambda: not app.connections)
    finally:
        sock.close()


def test_a_slow_but_reading_client_is_served_completely(serve):
    app = cyclone.web.Application([(r"/", SlowHandler)], write_timeout=0.5)
    port = serve(app)
    sock = stalled_client(port, "/")
    received = b""
    try:
        sock.settimeout(5)
        while not received.endswith(b"0\r\n\r\n"):
            data = sock.recv(65536)
            assert data, "connection closed early"
            received += data
    finally:
        sock.close()
    assert received.startswith(b"HTTP/1.1 200 OK")
    body = received.split(b"\r\n\r\n", 1)[1]
    assert body.count(b"x") == 20 * len(CHUNK)
