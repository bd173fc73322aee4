"""One worker process of ``cyclone run -w N`` / ``--reload`` (the supervisor's child).

The supervisor starts ``cyclone run <its options> --worker-fds 4,5 --ready-fd 3``:
the listening sockets arrive as descriptors 4, 5, ... (one per listener, in the order
of :func:`cyclone._options.plan_listeners`), and descriptor 3 is a pipe on which the
worker reports, one JSON object a line, that it stands by (``--standby``) and,
once its reactor runs, that it serves (with the paths a reloader should watch).
Its stdin is a pipe from the supervisor: a ``close`` line there closes the
connections still open (a second SIGTERM to the supervisor; a second signal to
the worker could merge with the first, pending one), and end of file (the
supervisor died) stops the worker gracefully, so no worker outlives its parent.

``--standby`` imports the framework, then waits for a line on stdin before it loads
the application: a reload then costs only the import of the user's own code.
SIGINT is ignored: Ctrl-C reaches the supervisor, which turns it into SIGTERM for
every worker, so one Ctrl-C is still a graceful stop.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Sequence
from typing import Any

from cyclone._options import Listener

__all__ = ["run_worker"]


def _read_line(fd: int) -> bytes | None:
    """One line from ``fd`` (unbuffered, so nothing after it is consumed); None at EOF."""
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            return None
        line += chunk
    return line


def _stop(reactor: Any) -> None:
    from twisted.internet.error import ReactorNotRunning

    try:
        reactor.stop()
    except ReactorNotRunning:
        pass  # already stopping


def _close_now(reactor: Any, apps: Sequence[Any], log: Any) -> None:
    """What a second signal does in a single process: close what is open, and stop."""
    count = sum(len(getattr(app, "connections", ())) for app in apps)
    log.warn(
        "The supervisor was signalled again: closing the {count} connection(s) still open",
        count=count,
    )
    for app in apps:
        app.drained(0)
    _stop(reactor)


def _follow_supervisor(reactor: Any, apps: Sequence[Any], log: Any) -> None:
    """Read the supervisor's lines on stdin: ``close`` closes now; end of file stops."""

    def follow() -> None:
        while (line := _read_line(0)) is not None:
            if line.strip() == b"close":
                reactor.callFromThread(_close_now, reactor, apps, log)
        reactor.callFromThread(_stop, reactor)

    threading.Thread(target=follow, name="cyclone-supervisor", daemon=True).start()


def _report_ready(fd: int, apps: Sequence[Any], listeners: Sequence[Listener]) -> None:
    from cyclone._watch import watched_paths

    opts = [listener.appopts for listener in listeners]
    _send(fd, {"serving": os.getpid(), "watch": watched_paths(apps, opts)})
    os.close(fd)


def _send(fd: int, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode() + b"\n"
    while data:
        data = data[os.write(fd, data) :]


def run_worker(
    listeners: Sequence[Listener], fds: Sequence[int], ready_fd: int, standby: bool, quiet: bool
) -> int:
    """Serve the listeners on the inherited sockets until SIGTERM; the exit status."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from twisted.internet import reactor
    from twisted.logger import Logger

    import cyclone.web  # noqa: F401  (the framework, imported before the app in standby)
    from cyclone._serve import (
        ServeError,
        install_second_signal_handlers,
        load_applications,
        print_error,
        start_logging,
    )
    from cyclone._sockets import adopt

    if standby:
        _send(ready_fd, {"standby": os.getpid()})
        if _read_line(0) != b"go\n":
            return 0  # the supervisor went away (or is stopping) before it needed this one
    try:
        apps = load_applications(listeners)
    except ServeError as e:
        print_error("cyclone run", e)
        return 1
    for fd, listener in zip(fds, listeners, strict=True):
        adopt(reactor, fd, listener, apps[(listener.app, listener.appopts)])
        os.close(fd)  # the port holds its own duplicate
    start_logging(quiet, tag=f"worker {os.getpid()}")
    log = Logger(namespace="cyclone")
    served = list(apps.values())
    _follow_supervisor(reactor, served, log)
    reactor.callWhenRunning(install_second_signal_handlers, reactor, served, log)
    reactor.callWhenRunning(_report_ready, ready_fd, served, listeners)
    reactor.run()
    return 0
