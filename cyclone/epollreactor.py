"""Twisted's epoll reactor with a leaner dispatch of ready sockets: ``cyclone run``'s default.

Why: for every ready socket, Twisted's ``EPollReactor.doPoll`` calls
``log.callWithLogger``, which pushes the socket's log prefix as the legacy
logging context (the ``system`` of a ``twisted.python.log.msg`` made while the
socket is handled) through four layers of Python calls and a thread-local
lookup. Measured with ``bench/instr.py`` on ``GET /`` keep-alive, that is about
one request in twelve of cyclone's whole CPU cost (docs/benchmarks.md).

:class:`EPollReactor` is Twisted's class with ``doPoll`` written again: it
pushes the same log context (the current one with the socket's prefix as its
``system``) on the same context tracker,
calls the same ``_doReadOrWrite`` and logs a failure the same way, inline and
once per poll instead of per socket. Everything else (timers, threads,
signals, processes, TLS) is Twisted's own, inherited.

It reads three private fields of Twisted's epoll reactor (``_poller``,
``_selectables``, ``_doReadOrWrite``); they are checked when the reactor is
made, and :func:`install` installs Twisted's own epoll reactor instead when one
is missing (a Twisted release that renamed it) or where epoll does not exist.

Use it the way Twisted's reactors are used, before anything imports
``twisted.internet.reactor``::

    from cyclone import epollreactor
    epollreactor.install()

``cyclone run`` does so unless ``--reactor`` names another one, and twistd
runs it with ``twistd --reactor cyclone``.
"""

from __future__ import annotations

import errno
from typing import Any

from twisted.python import context, log

__all__ = ["EPollReactor", "install", "supported"]

try:
    from twisted.internet.epollreactor import EPollReactor as _TwistedEPollReactor
except ImportError:  # no epoll (not Linux)
    _TwistedEPollReactor = None  # type: ignore[assignment,misc]


def supported() -> bool:
    """True when Twisted's epoll reactor exists and has the members :class:`EPollReactor` uses."""
    return _TwistedEPollReactor is not None and callable(
        getattr(_TwistedEPollReactor, "_doReadOrWrite", None)
    )


if _TwistedEPollReactor is not None:

    class EPollReactor(_TwistedEPollReactor):  # type: ignore[misc,valid-type]
        """Twisted's ``EPollReactor`` whose poll dispatches ready sockets inline."""

        def __init__(self) -> None:
            super().__init__()
            missing = [
                name
                for name in ("_poller", "_selectables", "_doReadOrWrite")
                if not hasattr(self, name)
            ]
            if missing:
                raise TypeError(f"Twisted's EPollReactor has no {', '.join(missing)}")

        def doPoll(self, timeout: float | None) -> None:
            """Wait for ready sockets (at most ``timeout`` seconds) and handle each."""
            if timeout is None:
                timeout = -1  # wait until something is ready
            try:
                events = self._poller.poll(timeout, len(self._selectables))
            except OSError as err:
                if err.errno == errno.EINTR:
                    return
                raise
            if not events:
                return
            selectables = self._selectables
            dispatch = self._doReadOrWrite
            # The context log.callWithLogger would push, on the same tracker: the
            # log context of now with the socket's prefix as its "system".
            tracker = context.theContextTracker
            current = getattr(tracker, "currentContext", None)  # the per-thread tracker
            if current is not None:
                tracker = current()
            contexts = tracker.contexts
            base = tracker.getContext(log.ILogContext) or {}
            for fd, event in events:
                selectable = selectables.get(fd)
                if selectable is None:
                    continue  # removed by a socket handled earlier in this poll
                try:
                    system = selectable.logPrefix()
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    system = "(buggy logPrefix method)"
                    log.err(system=system)
                log_context = base.copy()
                log_context["system"] = system
                contexts.append({log.ILogContext: log_context})
                try:
                    dispatch(selectable, fd, event)
                except KeyboardInterrupt:
                    raise
                except BaseException:
                    log.err(system=system)
                finally:
                    contexts.pop()

        doIteration = doPoll

else:  # pragma: no cover - only where there is no epoll
    EPollReactor = None  # type: ignore[assignment,misc]


def install() -> Any:
    """Install :class:`EPollReactor` (Twisted's own reactor where it cannot be); return it."""
    from twisted.internet.main import installReactor

    if supported():
        try:
            reactor = EPollReactor()
        except TypeError as e:
            log.msg(f"cyclone.epollreactor: {e}; installing Twisted's default reactor")
        else:
            installReactor(reactor)
            return reactor
    from twisted.internet import default

    default.install()
    from twisted.internet import reactor as installed

    return installed
