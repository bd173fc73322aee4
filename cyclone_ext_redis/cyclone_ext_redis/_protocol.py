"""txredisapi's protocols, made safe to pool: a handshake, checked arguments, bounded replies.

Strategy: the command API (``get``, ``set``, ``multi``, ``eval``...) and the
RESP parser are txredisapi's; these subclasses add what a long-lived pool
needs around them:

- a handshake run before the connection is handed out: ``AUTH`` (with an ACL
  user name when given), ``SELECT``, ``CLIENT SETNAME`` and, for Sentinel, a
  ``ROLE`` check. A connection that fails it is closed and reported to its
  factory, which reconnects with a backoff; nothing is ever stopped for good;
- arguments checked before anything is written: ``str``, ``bytes``,
  ``bytearray``, ``int`` and ``float`` only (txredisapi would send ``str()``
  of anything else, so ``None`` or a dict would be stored as text);
- a lost connection or a ``command_timeout`` turned into
  :class:`RedisUnavailable`, with ``maybe_ran`` telling whether the command
  had been written;
- reply strings longer than ``max_reply_size`` read and thrown away, the
  reply failing with :class:`ReplyTooLarge`; the connection stays in step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import txredisapi
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from cyclone_ext_redis._errors import InvalidArgument, RedisUnavailable, ReplyTooLarge

__all__ = ["PoolProtocol", "SubscriberConnection"]

log = Logger(namespace="cyclone.redis")

_ARG_TYPES = (str, bytes, bytearray, int, float)


class _Guarded:
    """What both protocols add to txredisapi's (a mixin placed before its classes)."""

    factory: Any
    transport: Any
    connected: int
    multi_bulk: Any
    usable = False
    max_reply_size = 0
    line_mode = 1
    _discarding = 0
    _oversized: int | None = None

    # -- the handshake ---------------------------------------------------------------

    def connectionMade(self) -> None:
        # Commands are small and pipelined: never let Nagle's algorithm hold one
        # back waiting for the ACK of the previous (redis-py and hiredis do the same).
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            try:
                set_no_delay(True)
            except OSError:
                pass  # not a TCP socket (UNIX)
        self.usable = False
        self._discarding = 0
        self._oversized = None
        # Argument-less ready state first: txredisapi's connectionMade only marks
        # the connection usable (the pool's factory gives it no password or db).
        d = defer.ensureDeferred(self.factory.handshake(self))
        d.addCallbacks(self._handshake_done, self._handshake_failed)

    def _handshake_done(self, _: Any) -> None:
        if not self.connected:
            return
        self.usable = True
        super().connectionMade()  # type: ignore[misc]  # txredisapi: ready, hands it out

    def _handshake_failed(self, failure: Failure) -> None:
        self.factory.attempt_failed(failure.value)
        self.transport.loseConnection()

    def connectionLost(self, reason: Failure) -> None:  # type: ignore[override]
        if not self.usable:
            self.factory.attempt_failed(reason.value)
        self.usable = False
        super().connectionLost(reason)  # type: ignore[misc]

    # -- commands --------------------------------------------------------------------

    def execute_command(self, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
        """txredisapi's, with checked arguments and connection errors as RedisUnavailable."""
        for i, arg in enumerate(args):
            if not isinstance(arg, _ARG_TYPES) or isinstance(arg, bool):
                raise InvalidArgument(
                    f"{args[0]}: argument {i} is {type(arg).__name__} ({arg!r:.40}); "
                    "Redis takes str, bytes, int or float"
                )
        if not self.connected:
            raise RedisUnavailable(self.factory.target, txredisapi.ConnectionError("not connected"))
        d = super().execute_command(*args, **kwargs)  # type: ignore[misc]
        return d.addErrback(self._connection_error)

    def _connection_error(self, failure: Failure) -> Any:
        exc = failure.value
        if isinstance(exc, txredisapi.ConnectionError):
            raise RedisUnavailable(self.factory.target, exc, maybe_ran=True) from exc
        if isinstance(exc, txredisapi.ResponseError) and str(exc).startswith(
            ("READONLY", "NOREPLICAS")
        ):
            # A demoted master, or one that lost its replicas (a failover under
            # way): the write was refused. Reconnect, through Sentinel if in use.
            self.transport.loseConnection()
            raise RedisUnavailable(self.factory.target, exc) from exc
        return failure

    # -- parsing without a reactor turn per reply ------------------------------------

    _feeding = False
    _backlog: list[bytes] | None = None

    def dataReceived(self, data: bytes, unpause: bool = False) -> Any:  # type: ignore[override]
        """txredisapi's parser, fed in a loop: the bytes after a bulk string are parsed now.

        txredisapi pauses and schedules them for the next reactor turn
        (``callLater(0)``), which costs one turn per pipelined reply under load.
        """
        if self._feeding:
            if self._backlog is None:
                self._backlog = []
            self._backlog.append(data)
            return None
        self._feeding = True
        try:
            super().dataReceived(data)  # type: ignore[misc]
            while self._backlog:
                super().dataReceived(self._backlog.pop(0))  # type: ignore[misc]
        finally:
            self._feeding = False
        return None

    def setLineMode(self, extra: bytes = b"") -> None:
        self.line_mode = 1
        if extra:
            self.dataReceived(extra)

    # -- bounded replies -------------------------------------------------------------

    def lineReceived(self, line: str) -> Any:
        if line[:1] == "$" and self.max_reply_size:
            try:
                size = int(line[1:])
            except ValueError:
                size = -1
            if size > self.max_reply_size:
                self._discarding = size + 2  # the payload and its CRLF
                if self._oversized is None:
                    self._oversized = size
                self.setRawMode()  # type: ignore[attr-defined]
                return None
        return super().lineReceived(line)  # type: ignore[misc]

    def rawDataReceived(self, data: bytes) -> Any:
        if not self._discarding:
            return super().rawDataReceived(data)  # type: ignore[misc]
        skipped, rest = data[: self._discarding], data[self._discarding :]
        self._discarding -= len(skipped)
        if not self._discarding:
            self.bulkDataReceived(None)  # type: ignore[attr-defined]  # a placeholder element
            self.setLineMode(extra=rest)  # type: ignore[attr-defined]
        return None

    def take_oversized(self) -> ReplyTooLarge | None:
        """The error for the reply just completed, when one of its strings was too large."""
        size, self._oversized = self._oversized, None
        if size is None:
            return None
        return ReplyTooLarge(
            f"a reply string of {size} bytes is larger than max_reply_size "
            f"({self.max_reply_size} bytes); it was discarded"
        )


class PoolProtocol(_Guarded, txredisapi.RedisProtocol):
    """A pooled command connection (see the module docstring)."""

    def execute(self) -> defer.Deferred[Any]:
        """Send the queued transaction (``EXEC``) or pipeline: redis-py's name for it."""
        if self.pipelining:
            return self.execute_pipeline()
        return self.commit()

    def replyReceived(self, reply: Any) -> None:
        too_large = self.take_oversized()
        super().replyReceived(too_large if too_large is not None else reply)


class SubscriberConnection(_Guarded, txredisapi.RedisProtocol):
    """A connection in subscriber mode: messages go to ``on_message``, other replies in order.

    Every command sent on it (one channel per ``SUBSCRIBE``/``UNSUBSCRIBE``, and
    ``PING``) gets exactly one reply, so replies are matched to commands in
    order; ``message`` and ``pmessage`` pushes go to ``on_message(pattern,
    channel, payload)`` instead.
    """

    on_message: Callable[[Any, Any, Any], None] = staticmethod(lambda p, c, m: None)

    def replyReceived(self, reply: Any) -> None:
        too_large = self.take_oversized()
        if isinstance(reply, list) and reply:
            kind = reply[0]
            if kind in ("message", b"message") and len(reply) == 3:
                if too_large is not None:
                    log.warn("dropped a pub/sub message: {error}", error=too_large)
                    return
                self.on_message(None, reply[1], reply[2])
                return
            if kind in ("pmessage", b"pmessage") and len(reply) == 4:
                if too_large is not None:
                    log.warn("dropped a pub/sub message: {error}", error=too_large)
                    return
                self.on_message(reply[1], reply[2], reply[3])
                return
        self.replyQueue.put(too_large if too_large is not None else reply)
