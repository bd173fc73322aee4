"""Test helpers for the realtime extension: a raw-socket WebSocket client that crafts frames.

``RawClient`` does the opening handshake by hand and then writes frames byte
by byte as a test wants them (masked or not, RSV bits, any opcode, split
anywhere), so that the server's answers to broken peers can be checked.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
from typing import Any

from cyclone_ext_realtime.websocket import WebSocketHandler


def frame(
    opcode: int,
    payload: bytes = b"",
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
    length: int | None = None,
) -> bytes:
    """One WebSocket frame; ``rsv`` is the three RSV bits as 0..7."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class RawClient:
    """A blocking WebSocket client over a plain socket, for crafting frames."""

    def __init__(
        self,
        port: int,
        path: str = "/",
        headers: dict[str, str] | None = None,
        early: bytes = b"",
    ) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        # ``early`` frames leave in the same write as the request, before any answer.
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + early)
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buffer += chunk
        self.head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.status = int(self.head.split(b" ", 2)[1]) if self.head else 0

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def read_frame(self) -> tuple[int, bytes, bool]:
        """(opcode, payload, fin) of the next frame from the server (never masked)."""
        b0, b1 = self._read(2)
        assert not b1 & 0x80, "the server masked a frame"
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._read(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._read(8))
        return b0 & 0x0F, self._read(n), bool(b0 & 0x80)

    def read_close(self) -> int | None:
        """Skip to the server's close frame and return its code (None if it had none)."""
        while True:
            opcode, payload, _ = self.read_frame()
            if opcode == 8:
                return struct.unpack("!H", payload[:2])[0] if payload else None

    def closed_by_server(self, timeout: float = 5) -> bool:
        """True once the server has closed TCP (EOF or reset) within ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except TimeoutError:
            return False
        except OSError:
            pass
        return True

    def close(self) -> None:
        self.sock.close()


class EchoHandler(WebSocketHandler):
    """Echoes every message with its type; compression when the URL spec asks for it."""

    def initialize(self, compression: dict[str, Any] | None = None) -> None:
        self.compression = compression

    def get_compression_options(self) -> dict[str, Any] | None:
        return self.compression

    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))
