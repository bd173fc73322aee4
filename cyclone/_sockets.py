"""Listening sockets made by one process and served by others (``cyclone run -w``/``--reload``).

The supervisor opens each socket itself (so it can reserve port 0's pick, bind a
privileged port, and keep the socket open while the processes that serve it come and
go); a worker receives the descriptor and adopts it into its reactor. With
``SO_REUSEPORT`` every worker slot gets its own socket on the same address, and the
kernel spreads new connections over them; without it (or on a UNIX socket) all
workers share one.
"""

from __future__ import annotations

import socket
from typing import Any

from cyclone._options import Listener
from cyclone._serve import ServeError, _listen_reason, _where, tls_options

__all__ = ["adopt", "check_tls", "open_socket", "reuseport_available"]


def reuseport_available() -> bool:
    """Whether this system balances connections over sockets sharing a port."""
    return hasattr(socket, "SO_REUSEPORT") and socket.SO_REUSEPORT > 0


def open_socket(
    listener: Listener, port: int | None = None, reuseport: bool = False
) -> socket.socket:
    """A bound, listening, non-blocking socket for ``listener`` (``port`` overrides its port).

    Failures are :class:`ServeError` with the same one-line reasons as a single process.
    """
    number = listener.port if port is None else port
    if listener.unix:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address: Any = listener.unix
    else:
        if not 0 <= number <= 65535:
            raise ServeError(f"the port must be between 0 and 65535, not {number}")
        family = socket.AF_INET6 if ":" in listener.interface else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        address = (listener.interface, number)
    try:
        sock.bind(address)
        sock.listen(socket.SOMAXCONN)
    except OSError as e:
        sock.close()
        where = _where(number, listener.interface, listener.unix)
        raise ServeError(f"cannot listen on {where}: {_listen_reason(e)}") from None
    sock.setblocking(False)
    return sock


def check_tls(listener: Listener) -> None:
    """Raise :class:`ServeError` when the listener's certificate and key cannot be used."""
    if listener.tls:
        assert listener.cert is not None and listener.key is not None
        tls_options(listener.cert, listener.key)


def _shared_unix_port(reactor: Any, fd: int, factory: Any) -> Any:
    from twisted.internet import tcp, unix

    class SharedUNIXPort(unix.Port):
        """An adopted UNIX socket that other processes still serve: closing leaves the path."""

        def connectionLost(self, reason: Any) -> None:
            tcp.Port.connectionLost(self, reason)

    # Twisted has no public way to adopt a UNIX port without it unlinking the path
    # when this process stops listening (the next process serves that path).
    port = SharedUNIXPort._fromListeningDescriptor(reactor, fd, factory)
    port.startListening()
    return port


def adopt(reactor: Any, fd: int, listener: Listener, app: Any) -> Any:
    """Serve ``app`` on the listening socket ``fd`` (TLS when the listener says so)."""
    factory = app
    if listener.tls:
        from twisted.protocols.tls import TLSMemoryBIOFactory

        assert listener.cert is not None and listener.key is not None
        factory = TLSMemoryBIOFactory(tls_options(listener.cert, listener.key), False, app)
    if listener.unix:
        return _shared_unix_port(reactor, fd, factory)
    family = socket.AF_INET6 if ":" in listener.interface else socket.AF_INET
    return reactor.adoptStreamPort(fd, family, factory)
