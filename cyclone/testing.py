"""Helpers for testing cyclone applications over real sockets.

Strategy: the Twisted reactor runs in a background thread for the whole test
session; tests talk to servers on 127.0.0.1 with ordinary blocking clients
(``http.client``, ``urllib``, ``curl``, raw sockets) from the main thread, and
hand work to the reactor with :func:`call`. Nothing is simulated: requests
cross a real TCP (or UNIX, or TLS) connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread

__all__ = ["ReactorThread", "call", "listen_tcp"]

T = TypeVar("T")

_thread: threading.Thread | None = None


class ReactorThread:
    """Start the global reactor in a daemon thread (once); stop it at the end."""

    @staticmethod
    def start() -> None:
        global _thread
        if _thread is not None:
            return
        if reactor.running:  # type: ignore[attr-defined]
            raise RuntimeError("the reactor is already running in this process")
        _thread = threading.Thread(
            target=reactor.run,  # type: ignore[attr-defined]
            kwargs={"installSignalHandlers": False},
            name="cyclone-reactor",
            daemon=True,
        )
        _thread.start()

    @staticmethod
    def stop(timeout: float = 15.0) -> None:
        global _thread
        if _thread is None:
            return
        reactor.callFromThread(reactor.stop)  # type: ignore[attr-defined]
        _thread.join(timeout)
        _thread = None


def call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``func`` in the reactor thread and return its result.

    When ``func`` returns a Deferred (or a coroutine), wait for it: its result is
    returned and its failure raised.
    """
    import inspect

    from twisted.internet import defer

    def run() -> Any:
        result = func(*args, **kwargs)
        if inspect.iscoroutine(result):
            return defer.ensureDeferred(result)
        return result

    return blockingCallFromThread(reactor, run)


def listen_tcp(factory: Any, interface: str = "127.0.0.1") -> Any:
    """Listen on a free port of ``interface``; returns the Twisted port (``.getHost().port``)."""
    return call(reactor.listenTCP, 0, factory, interface=interface)  # type: ignore[attr-defined]
