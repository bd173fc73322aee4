"""Large static files are streamed in chunks, paced by the client, and never held whole.

The handler below records every chunk ``get_content`` hands out. A client that
stops reading must stop the reading of the file too (back-pressure through
``flush()``), and a client that goes away must end it.
"""

import hashlib
import http.client
import os
import socket
import threading

import pytest
from client import TIMEOUT, read_until
from waiting import wait_until

from cyclone._static import StaticFileHandler
from cyclone.web import Application

SIZE = 16 * 1024 * 1024
CHUNK = StaticFileHandler.CHUNK_SIZE


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("bigroot")
    data = os.urandom(SIZE)
    (root / "big.bin").write_bytes(data)
    return root, data


def _recording_server(serve, root):
    record = {"chunks": [], "closed": threading.Event()}

    class RecordingStaticHandler(StaticFileHandler):
        def get(self, path, include_body=True):
            # A fixed kernel send buffer (no autotuning) leaves the process as the
            # only place that could hold read-ahead data.
            handle = self.request.connection.transport.getHandle()
            handle.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
            return super().get(path, include_body)

        @classmethod
        def get_content(cls, abspath, start=None, end=None):
            try:
                for chunk in super().get_content(abspath, start, end):
                    record["chunks"].append(len(chunk))
                    yield chunk
            finally:
                record["closed"].set()

        @classmethod
        def get_content_version(cls, abspath):
            return "fixed"  # hashing would read the file through get_content too

    app = Application([(r"/static/(.*)", RecordingStaticHandler, {"path": str(root)})])
    return serve(app), record


def _slow_client(port, target=b"/static/big.bin"):
    """A connected socket with a small receive window that has sent its request."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return sock


def _marker_requests(port, count=3):
    """Requests on other connections, each answered: a positive signal that the
    server's reactor has turned (and resumed any producer it would) since."""
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        conn.request("GET", "/static/no-such-file")
        resp = conn.getresponse()
        resp.read()
        conn.close()
        assert resp.status == 404


def _read_exactly(sock, n, already=b""):
    parts, got = [already], len(already)
    while got < n:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def test_big_file_arrives_whole_in_bounded_chunks(serve, big_file):
    root, data = big_file
    port, record = _recording_server(serve, root)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    conn.request("GET", "/static/big.bin")
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == 200
    assert resp.getheader("Content-Length") == str(SIZE)
    assert resp.getheader("Transfer-Encoding") is None
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    assert max(record["chunks"]) <= CHUNK
    assert len(record["chunks"]) == SIZE // CHUNK
    assert record["closed"].wait(TIMEOUT)


def test_a_client_that_stops_reading_stops_the_file_reads(serve, big_file):
    root, data = big_file
    port, record = _recording_server(serve, root)
    sock = _slow_client(port)
    with sock:
        wait_until(lambda: record["chunks"])
        # Without back-pressure the whole file would be read (into memory) at once;
        # with it, reading stops once the socket buffers and one or two chunks are full.
        _marker_requests(port)
        read_ahead = sum(record["chunks"])
        assert read_ahead < 1024 * 1024
        # The chunk being sent plus what the transport buffers before it pauses
        # the handler (64 KiB): never more than two chunks.
        assert read_ahead <= 2 * CHUNK
        head = read_until(sock, b"\r\n\r\n")
        header, _, rest = head.partition(b"\r\n\r\n")
        assert header.startswith(b"HTTP/1.1 200")
        body = _read_exactly(sock, SIZE, rest)
    assert len(body) == SIZE
    assert body == data
    assert sum(record["chunks"]) == SIZE


def test_a_client_that_goes_away_ends_the_file_reads(serve, big_file):
    root, _ = big_file
    port, record = _recording_server(serve, root)
    sock = _slow_client(port)
    wait_until(lambda: record["chunks"])
    sock.recv(1000)
    sock.close()
    assert record["closed"].wait(TIMEOUT)
    assert sum(record["chunks"]) < 1024 * 1024


def test_a_big_range_is_streamed_too(serve, big_file):
    root, data = big_file
    port, record = _recording_server(serve, root)
    start, end = 100_001, 3_000_000
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    conn.request("GET", "/static/big.bin", headers={"Range": f"bytes={start}-{end}"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == 206
    assert resp.getheader("Content-Range") == f"bytes {start}-{end}/{SIZE}"
    assert body == data[start : end + 1]
    assert max(record["chunks"]) <= CHUNK
    assert sum(record["chunks"]) == end + 1 - start


def test_head_of_a_big_file_reads_nothing(serve, big_file):
    root, _ = big_file
    port, record = _recording_server(serve, root)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    conn.request("HEAD", "/static/big.bin")
    resp = conn.getresponse()
    assert resp.read() == b""
    conn.close()
    assert resp.status == 200
    assert resp.getheader("Content-Length") == str(SIZE)
    assert record["chunks"] == []


def test_default_etag_hashes_the_content(serve, big_file):
    root, data = big_file
    StaticFileHandler.reset()
    port = serve(Application([(r"/static/(.*)", StaticFileHandler, {"path": str(root)})]))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    conn.request("HEAD", "/static/big.bin")
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.getheader("Etag") == '"%s"' % hashlib.sha256(data).hexdigest()
