"""The access log: one record per request, formatted lazily and written in batches.

Strategy: answering a request costs the log one ``list.append`` of a tuple of
values the request already holds (status, method, URI, address, duration
and finish time). Formatting and writing happen later, off the hot path: a
``LoopingCall`` flushes every ``access_log_flush_interval`` seconds, a buffer
that reaches :data:`MAX_BUFFERED` records is flushed at once, and a clean
shutdown flushes after the last connection has drained (and, failing that,
at interpreter exit), so no line is lost then. A crash (SIGKILL, power loss)
loses at most the records of the last interval (and never more than
:data:`MAX_BUFFERED`).

Where the records go:

- by default, one ``twisted.logger`` event per request in the ``cyclone.access``
  namespace (info below 400, warn below 500, error above), with the fields
  ``status``, ``method``, ``uri``, ``remote_ip`` and ``request_time`` (ms), and
  ``log_time`` set to when the response ended, so every observer (``cyclone
  run``'s output, twistd's log file, a test's recorder) sees what it saw when
  lines were emitted at once;
- with the ``access_log_file`` setting, straight to that file: a whole batch of
  lines in one ``write`` (one syscall per flush instead of one per line), in
  the layout of Twisted's text observer
  (``2026-12-03T13:45:01+0000 [cyclone.access#info] 200 GET / (127.0.0.1) 0.12ms``).

An interval of 0 turns the buffer off: every record is written as its
request ends.
"""

from __future__ import annotations

import atexit
import os
import time
import weakref
from typing import IO, Any

from twisted.internet import reactor
from twisted.internet.task import LoopingCall
from twisted.logger import Logger, LogLevel

__all__ = ["MAX_BUFFERED", "AccessLog"]

access_log = Logger(namespace="cyclone.access")

#: A buffer this long is flushed without waiting for the interval.
MAX_BUFFERED = 10_000

# status, method, uri, remote_ip, duration (s), finish time (seconds since the epoch)
Record = tuple[int, str, str, str, float, float]

_LEVEL_NAMES = ("info", "warn", "error")


def _level_index(status: int) -> int:
    return 0 if status < 400 else 1 if status < 500 else 2


class _Timestamps:
    """Twisted's text-observer timestamp (local time, ``%Y-%m-%dT%H:%M:%S%z``), per second."""

    __slots__ = ("second", "text")

    def __init__(self) -> None:
        self.second = -1
        self.text = ""

    def __call__(self, when: float) -> str:
        second = int(when)
        if second != self.second:
            self.second = second
            self.text = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(second))
        return self.text


class AccessLog:
    """Buffers access-log records and writes them in batches (see the module docs).

    ``destination``: None for ``twisted.logger``, else a path (opened for
    appending) or an open binary file. ``flush_interval``: seconds between
    flushes (0: no buffer).
    """

    def __init__(
        self,
        destination: str | os.PathLike[str] | IO[bytes] | None = None,
        flush_interval: float = 1.0,
    ) -> None:
        if flush_interval < 0:
            raise ValueError(f"access_log_flush_interval must be >= 0, not {flush_interval!r}")
        self.flush_interval = float(flush_interval)
        self._records: list[Record] = []
        # no buffer with interval 0: a record is written at once
        self._limit = 1 if self.flush_interval == 0 else MAX_BUFFERED
        self._loop: LoopingCall | None = None
        self._file: IO[bytes] | None = None
        self._owns_file = False
        if destination is not None:
            if isinstance(destination, (str, os.PathLike)):
                self._file = open(destination, "ab")  # closed in close()
                self._owns_file = True
            else:
                self._file = destination
        self._stamp = _Timestamps()
        _LIVE.add(self)

    @property
    def buffered(self) -> int:
        """Records waiting for the next flush."""
        return len(self._records)

    def record(
        self, status: int, method: str, uri: str, remote_ip: str, duration: float, finish: float
    ) -> None:
        """Keep one request's record; it is formatted and written at the next flush."""
        records = self._records
        records.append((status, method, uri, remote_ip, duration, finish))
        if self._loop is None:
            self._start()
        if len(records) >= self._limit:
            self.flush()

    def _start(self) -> None:
        if self.flush_interval == 0:
            self._loop = _NO_LOOP
            return
        loop = LoopingCall(self._tick)
        loop.clock = reactor  # type: ignore[assignment]
        self._loop = loop
        loop.start(self.flush_interval, now=False)

    def _tick(self) -> None:
        if not self._records:
            # Idle: stop waking up; the next record starts the timer again.
            loop, self._loop = self._loop, None
            if loop is not None and loop is not _NO_LOOP and loop.running:
                loop.stop()
            return
        self.flush()

    def flush(self) -> None:
        """Format and write every buffered record now."""
        records = self._records
        if not records:
            return
        self._records = []
        if self._file is None:
            self._emit_events(records)
        else:
            self._write_lines(records)

    def _emit_events(self, records: list[Record]) -> None:
        # The event Logger.emit would build, with log_time set to when the
        # response ended rather than to now (emit would overwrite it).
        logger = access_log
        observer = logger.observer
        levels = (LogLevel.info, LogLevel.warn, LogLevel.error)
        for status, method, uri, remote_ip, duration, finish in records:
            request_time = 1000.0 * duration
            observer(
                {
                    "access_line": "%d %s %s (%s) %.2fms"
                    % (status, method, uri, remote_ip, request_time),
                    "status": status,
                    "method": method,
                    "uri": uri,
                    "remote_ip": remote_ip,
                    "request_time": request_time,
                    "log_logger": logger,
                    "log_level": levels[_level_index(status)],
                    "log_namespace": logger.namespace,
                    "log_source": None,
                    "log_format": "{access_line}",
                    "log_time": finish,
                }
            )

    def _write_lines(self, records: list[Record]) -> None:
        stamp = self._stamp
        text = "".join(
            [
                "%s [cyclone.access#%s] %d %s %s (%s) %.2fms\n"
                % (
                    stamp(finish),
                    _LEVEL_NAMES[_level_index(status)],
                    status,
                    method,
                    uri,
                    remote_ip,
                    1000.0 * duration,
                )
                for status, method, uri, remote_ip, duration, finish in records
            ]
        )
        out = self._file
        assert out is not None
        try:
            out.write(text.encode("utf-8", "replace"))
            out.flush()
        except (OSError, ValueError):
            access_log.failure("cannot write the access log")

    def close(self) -> None:
        """Flush, stop the timer, and close the file this log opened."""
        loop, self._loop = self._loop, None
        if loop is not None and loop is not _NO_LOOP and loop.running:
            loop.stop()
        self.flush()
        if self._owns_file and self._file is not None:
            self._file.close()
            self._file = None
            self._owns_file = False
        _LIVE.discard(self)

    def stop(self) -> None:
        """Flush and stop the timer (a later record starts it again); the file stays open."""
        loop, self._loop = self._loop, None
        if loop is not None and loop is not _NO_LOOP and loop.running:
            loop.stop()
        self.flush()


class _NoLoop:
    """Stands for the timer when there is no buffer (interval 0)."""

    running = False


_NO_LOOP: Any = _NoLoop()

# Every live log is flushed at interpreter exit, after the reactor has stopped:
# the last safety net for a process that ends without draining its server.
_LIVE: weakref.WeakSet[AccessLog] = weakref.WeakSet()


@atexit.register
def _flush_all() -> None:
    for log in list(_LIVE):
        try:
            log.flush()
        except Exception:  # nothing can be reported this late
            pass
