"""The parent of ``cyclone run -w N`` and ``cyclone run --reload``: it holds the sockets.

Strategy: the supervisor opens every listening socket once and keeps it open for
its whole life; workers (:mod:`cyclone._worker`) receive the descriptors and serve
them. Because the socket outlives any one worker, a worker that dies is replaced
without a refused connection (its socket's queue waits for the replacement), and a
reload starts the new workers, waits until each reports that it serves, and only
then asks the old ones to drain: a browser never sees a refused connection.

SIGTERM (or SIGINT) closes the supervisor's copies first and then sends SIGTERM to
every worker: each stops accepting, finishes its in-flight requests and exits, and
the supervisor exits when the last one has. A second signal is passed on, so the
workers close what is still open.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from twisted.internet import defer
from twisted.internet.protocol import ProcessProtocol

from cyclone._options import Listener
from cyclone._serve import install_second_signal_handlers, served_url
from cyclone._sockets import open_socket, reuseport_available
from cyclone._watch import changed, snapshot

__all__ = ["Supervisor"]

READY_FD = 3
FIRST_SOCKET_FD = 4
POLL_INTERVAL = 0.25
READY_TIMEOUT = 60.0
QUICK_DEATH = 1.0  # a worker that dies younger than this is restarted after a pause


def _describe_status(reason: Any) -> str:
    value = reason.value
    signal_number = getattr(value, "signal", None)
    if signal_number:
        import signal

        return f"killed by {signal.Signals(signal_number).name}"
    return f"exit status {getattr(value, 'exitCode', '?')}"


def _forget_bytecode(paths: list[str]) -> None:
    """Remove the cached bytecode of edited modules.

    Python trusts a ``.pyc`` whose recorded source mtime (whole seconds) and size
    match, so an edit within the second of the last import that keeps the size would
    otherwise load the old code.
    """
    from importlib.util import cache_from_source

    for path in paths:
        if path.endswith(".py"):
            try:
                os.unlink(cache_from_source(path))
            except (OSError, ValueError, NotImplementedError):
                pass


class Worker(ProcessProtocol):
    """One child; ``ready`` fires with its report, ``ended`` with its end."""

    def __init__(self, supervisor: Supervisor, slot: int) -> None:
        self.supervisor = supervisor
        self.slot = slot
        self.report = b""
        self.ready: defer.Deferred[dict[str, Any]] = defer.Deferred()
        self.ended: defer.Deferred[None] = defer.Deferred()
        self.started = time.monotonic()
        self.pid: int | None = None

    def connectionMade(self) -> None:
        self.pid = self.transport.pid

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        if childFD != READY_FD:
            return
        self.report += data
        while b"\n" in self.report:
            line, self.report = self.report.split(b"\n", 1)
            message = json.loads(line)
            if "standby" in message:
                self.supervisor.log.info(
                    "cyclone run: worker {pid} standing by for the next reload",
                    pid=message["standby"],
                )
            elif "serving" in message and not self.ready.called:
                self.ready.callback(message)

    def processEnded(self, reason: Any) -> None:
        self.supervisor.alive.discard(self)
        if not self.ready.called:
            self.ready.errback(RuntimeError(_describe_status(reason)))
            self.ready.addErrback(lambda _: None)  # a spare nobody waited for
        self.ended.callback(None)
        self.supervisor.worker_ended(self, reason)

    def go(self) -> None:
        if self.transport is not None and self.pid is not None:
            self.transport.writeToChild(0, b"go\n")

    def close_now(self) -> None:
        """Ask the worker to close its open connections now (a line: signals could merge)."""
        if self.transport is not None and self.pid is not None:
            self.transport.writeToChild(0, b"close\n")

    def terminate(self, name: str = "TERM") -> None:
        from twisted.internet.error import ProcessExitedAlready

        try:
            self.transport.signalProcess(name)
        except (ProcessExitedAlready, OSError):
            pass


class Supervisor:
    """Runs ``workers`` worker processes on the listeners' sockets; reloads if ``reload``."""

    def __init__(
        self,
        reactor: Any,
        run_argv: Sequence[str],
        listeners: Sequence[Listener],
        apps: dict[Any, Any],
        workers: int,
        reload: bool,
        log: Any,
    ) -> None:
        self.reactor = reactor
        self.run_argv = list(run_argv)
        self.listeners = list(listeners)
        self.count = workers
        self.reload = reload
        self.log = log
        self.stopping = False
        self.slots: list[list[Any]] = []  # per worker slot, one socket per listener
        self.current: list[Any] = []  # the serving worker of each slot
        self.spares: list[Any | None] = []  # standby workers for the next reload
        self.alive: set[Any] = set()
        self.watch: list[str] = []
        self.seen: dict[str, tuple[int, int]] = {}
        self.reloading = False
        self.reload_again = False
        self._poller: Any = None
        timeouts = [float(getattr(app, "shutdown_timeout", 10.0)) for app in apps.values()]
        self.stop_timeout = max(timeouts, default=10.0) + 5.0

    # -- starting ----------------------------------------------------------------------

    def open_sockets(self) -> list[str]:
        """Open every slot's sockets now (ServeError if one cannot be); the served URLs."""
        per_slot = self.count > 1 and reuseport_available()
        shared: list[Any] = []
        try:
            for listener in self.listeners:
                if listener.tls:
                    from cyclone._sockets import check_tls

                    check_tls(listener)
                shared.append(open_socket(listener, reuseport=per_slot and not listener.unix))
            self.slots = [shared]
            for _ in range(1, self.count):
                if not per_slot:
                    self.slots.append(shared)
                    continue
                own = []
                for listener, first in zip(self.listeners, shared, strict=True):
                    if listener.unix:
                        own.append(first)
                    else:
                        port = first.getsockname()[1]  # port 0's pick, for every slot
                        own.append(open_socket(listener, port=port, reuseport=True))
                self.slots.append(own)
        except Exception:
            self.close_sockets()
            for sock in shared:
                sock.close()
            raise
        from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress

        urls = []
        for listener, sock in zip(self.listeners, shared, strict=True):
            if listener.unix:
                address: Any = UNIXAddress(listener.unix)
            else:
                host, port = sock.getsockname()[:2]
                kind = IPv6Address if ":" in host else IPv4Address
                address = kind("TCP", host, port)
            urls.append(served_url(address, listener.tls))
        return urls

    def start(self) -> None:
        """Start the workers (call once the reactor runs) and, with reload, the watcher."""
        self.reactor.addSystemEventTrigger("before", "shutdown", self.stop)
        install_second_signal_handlers(self.reactor, [], self.log, on_second=self.pass_on)
        self.current = [self.spawn(slot, standby=False) for slot in range(self.count)]
        for worker in self.current:
            worker.ready.addCallbacks(self._first_ready, lambda _: None)
        if self.reload:
            self.spares = [self.spawn(slot, standby=True) for slot in range(self.count)]

    def spawn(self, slot: int, standby: bool) -> Any:
        fds: dict[int, Any] = {0: "w", 1: 1, 2: 2, READY_FD: "r"}
        numbers = []
        for i, sock in enumerate(self.slots[slot]):
            fds[FIRST_SOCKET_FD + i] = sock.fileno()
            numbers.append(str(FIRST_SOCKET_FD + i))
        argv = [sys.executable, "-m", "cyclone", "run", *self.run_argv]
        argv += ["--worker-fds", ",".join(numbers), "--ready-fd", str(READY_FD)]
        if standby:
            argv.append("--standby")
        worker = Worker(self, slot)
        self.reactor.spawnProcess(worker, sys.executable, argv, env=dict(os.environ), childFDs=fds)
        self.alive.add(worker)
        if not standby:
            worker.go()  # a line on stdin, read even when it does not wait for one
        return worker

    def _first_ready(self, report: dict[str, Any]) -> None:
        self.log.info("cyclone run: worker {pid} serving", pid=report["serving"])
        if self.reload and not self.watch:
            self._watch(report["watch"])
            self._poller = self.reactor.callLater(POLL_INTERVAL, self.poll)

    # -- workers that end ----------------------------------------------------------------

    def worker_ended(self, worker: Any, reason: Any) -> None:
        if self.stopping:
            return
        if worker in self.spares:
            self.spares[self.spares.index(worker)] = None
            return
        if worker not in self.current:
            return  # an old one that drained after a reload, or a new one that failed
        status = _describe_status(reason)
        young = time.monotonic() - worker.started < QUICK_DEATH
        self.log.warn(
            "cyclone run: worker {pid} ended ({status}); starting another",
            pid=worker.pid,
            status=status,
        )
        slot = worker.slot

        def replace() -> None:
            if self.stopping or self.current[slot] is not worker:
                return  # stopped, or a reload has put a new worker in the slot meanwhile
            fresh = self.spawn(slot, standby=False)
            self.current[slot] = fresh
            fresh.ready.addCallbacks(self._first_ready, lambda _: None)

        self.reactor.callLater(QUICK_DEATH if young else 0, replace)

    # -- reloading -----------------------------------------------------------------------

    def _watch(self, paths: list[str]) -> None:
        self.watch = paths
        self.seen = snapshot(paths)
        self.log.info(
            "cyclone run: reloading when one of {count} files changes", count=len(self.seen)
        )

    def poll(self) -> None:
        self._poller = None
        if self.stopping:
            return
        now = snapshot(self.watch)
        edits = changed(self.seen, now)
        self.seen = now
        if edits:
            if self.reloading:
                self.reload_again = True
            else:
                self.do_reload(edits)
        self._poller = self.reactor.callLater(POLL_INTERVAL, self.poll)

    def do_reload(self, edits: list[str]) -> None:
        self.reloading = True
        shown = ", ".join(os.path.relpath(p) for p in edits[:3])
        more = f" and {len(edits) - 3} more" if len(edits) > 3 else ""
        self.log.info("cyclone run: {files} changed; reloading", files=shown + more)
        _forget_bytecode(edits)
        fresh = []
        for slot in range(self.count):
            spare = self.spares[slot] if slot < len(self.spares) else None
            if spare is None or spare not in self.alive:
                spare = self.spawn(slot, standby=True)
            spare.go()
            fresh.append(spare)
        self.spares = [None] * self.count
        waiting = defer.DeferredList(
            [w.ready for w in fresh], fireOnOneErrback=True, consumeErrors=True
        )
        waiting.addTimeout(READY_TIMEOUT, self.reactor)
        waiting.addCallbacks(
            lambda results: self._reloaded(fresh, results),
            lambda failure: self._reload_failed(fresh, failure),
        )

    def _reloaded(self, fresh: list[Any], results: list[Any]) -> None:
        if self.stopping:
            return
        old, self.current = self.current, fresh
        for worker in old:
            worker.terminate()  # drains: the new workers already serve the same sockets
        paths = sorted({p for _, report in results for p in report["watch"]})
        self.watch = paths
        self.seen = snapshot(paths)
        pids = ", ".join(str(report["serving"]) for _, report in results)
        self.log.info("cyclone run: reloaded; worker(s) {pids} serving", pids=pids)
        self._after_reload()

    def _reload_failed(self, fresh: list[Any], failure: Any) -> None:
        if self.stopping:
            return
        for worker in fresh:
            worker.terminate("KILL")
        reason = getattr(failure.value, "subFailure", failure).getErrorMessage()
        self.log.error(
            "cyclone run: the changed code does not start ({reason}); the previous code"
            " still serves",
            reason=reason,
        )
        self._after_reload()

    def _after_reload(self) -> None:
        self.reloading = False
        if self.stopping:
            return
        self.spares = [self.spawn(slot, standby=True) for slot in range(self.count)]
        if self.reload_again:
            self.reload_again = False
            self.seen = {}  # compare against nothing: the next poll reloads

    # -- stopping ------------------------------------------------------------------------

    def close_sockets(self) -> None:
        closed: set[int] = set()
        for sockets in self.slots:
            for sock in sockets:
                if id(sock) not in closed:
                    closed.add(id(sock))
                    sock.close()
        self.slots = []

    def stop(self) -> Any:
        """Stop accepting, ask every worker to drain, and wait for them to end."""
        self.stopping = True
        if self._poller is not None and self._poller.active():
            self._poller.cancel()
        if self.slots:
            for listener in self.listeners:
                if listener.unix:
                    try:
                        os.unlink(listener.unix)  # the workers' ports leave the path alone
                    except OSError:
                        pass
        self.close_sockets()
        workers = list(self.alive)
        for worker in workers:
            worker.terminate()
        if not workers:
            return None
        done = defer.DeferredList([w.ended for w in workers])
        kill = self.reactor.callLater(self.stop_timeout, self._kill, workers)
        done.addBoth(lambda result: (kill.active() and kill.cancel(), result)[1])
        return done

    def _kill(self, workers: list[Any]) -> None:
        for worker in workers:
            worker.terminate("KILL")

    def pass_on(self, name: str) -> None:
        """A second SIGINT/SIGTERM: the workers close what they still have open."""
        self.log.warn("Received {signal} while shutting down: passing it on", signal=name)
        for worker in list(self.alive):
            worker.close_now()
