"""The direct-socket write: the one place that reads Twisted's private transport fields.

Why: Twisted's ``transport.write`` only buffers; the bytes leave on the next turn
of the reactor (one more poll, two epoll changes and a dispatch per response).
On a plain TCP or UNIX socket whose write buffer is empty, the kernel usually
takes a whole response at once, so :func:`writer_for` returns a writer that
tries ``socket.send`` first and hands what the kernel did not take (or any
error, which Twisted then reports itself) to ``transport.write``.

Whether the buffer is empty is only visible through private fields of
``twisted.internet.abstract.FileDescriptor`` (``_writeDisconnected``,
``_tempDataLen``, ``dataBuffer``, ``offset``). They are feature-tested here, once
per transport class, at its first use: when one is missing or of an unexpected type (a
Twisted release that renamed it, a TLS or other wrapping transport, a test
double), the writer is plain ``transport.write``. Setting the environment
variable ``CYCLONE_FASTWRITE=0`` (or :data:`enabled` to False) turns the direct
write off everywhere. Measured with ``bench/run.py --only cyclone2``: see the
note of issue 10 and ``docs/benchmarks.md``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from twisted.internet import tcp

__all__ = ["enabled", "has_direct_path", "writer_for"]

#: False: every transport gets plain ``transport.write``.
enabled: bool = os.environ.get("CYCLONE_FASTWRITE", "1").strip().lower() not in (
    "0",
    "false",
    "no",
    "off",
)

# The private fields read below, with the types Twisted gives them.
_FIELDS: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("_writeDisconnected", (bool, int)),
    ("_tempDataLen", int),
    ("dataBuffer", (bytes, bytearray, memoryview)),
    ("offset", int),
    ("connected", (bool, int)),
    ("disconnecting", (bool, int)),
)


# Transport classes found to have every field, with the field list they were
# checked against: the fields are set by the class's __init__, so one check per
# class is enough (and a changed list is checked afresh).
_checked: dict[type, tuple[tuple[str, type | tuple[type, ...]], ...]] = {}


def has_direct_path(transport: Any) -> bool:
    """True when ``transport`` is a Twisted socket transport with the fields we read."""
    if not enabled:
        return False
    cls = type(transport)
    fields = _FIELDS
    if _checked.get(cls) is fields:
        return True
    if not isinstance(transport, tcp.Connection):
        return False
    for name, kind in fields:
        if not isinstance(getattr(transport, name, None), kind):
            return False
    sock = getattr(transport, "socket", None)
    if not callable(getattr(sock, "send", None)):
        return False
    _checked[cls] = fields
    return True


def writer_for(transport: Any) -> Callable[[bytes], None]:
    """A ``write(data)`` for ``transport``: direct to its socket when that is safe.

    The returned closure holds ``transport``: drop it when the connection ends,
    so the protocol and its transport are not kept in a reference cycle.
    """
    if not has_direct_path(transport):
        return transport.write  # type: ignore[no-any-return]
    sock = transport.socket
    send = sock.send
    buffered_write = transport.write

    def write(data: bytes) -> None:
        t = transport
        if (
            t.connected
            and not t.disconnecting
            and not t._writeDisconnected
            and not t._tempDataLen
            and len(t.dataBuffer) == t.offset
        ):
            # Nothing queued before these bytes: the kernel may take them now.
            try:
                sent = send(data)
            except OSError:
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        buffered_write(data)

    return write
