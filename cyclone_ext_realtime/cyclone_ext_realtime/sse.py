"""Server-Sent Events: a RequestHandler whose GET is an open ``text/event-stream``.

Strategy: ``get`` sends the headers at once (so the browser's ``EventSource``
fires ``open``), then keeps the request open the way ``@asynchronous`` does;
every event is one ``write`` plus ``flush``, i.e. one HTTP chunk, and the
Deferred of that flush is the back-pressure signal. The stream ends when the
client leaves or the handler calls ``finish()``; both go through
``notifyFinish``, where the heartbeat stops, hub subscriptions are cancelled
and ``on_close``/``unbind`` run exactly once.

Event fields are built so that no value can start another field: ``data`` is
split on CR, LF and CRLF into one ``data:`` line each, and ``event`` and ``id``
refuse line breaks.
"""

from __future__ import annotations

import json
import re
from typing import Any

from twisted.internet import defer, reactor
from twisted.internet.task import LoopingCall

from cyclone.web import RequestHandler, asynchronous
from cyclone_ext_realtime.hub import HubMixin
from cyclone_ext_realtime.settings import SSE_HEARTBEAT_INTERVAL

__all__ = ["SSEHandler", "format_event"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

# Streams never end by themselves: the open ones are ended when the reactor shuts
# down, so that a graceful shutdown does not wait for its timeout because of them.
_open_streams: set[SSEHandler] = set()
_shutdown_trigger: Any = None


def _end_streams() -> None:
    global _shutdown_trigger
    _shutdown_trigger = None
    for handler in list(_open_streams):
        if not handler.closed:
            handler.finish()


def _track(handler: SSEHandler) -> None:
    global _shutdown_trigger
    _open_streams.add(handler)
    if _shutdown_trigger is None:
        _shutdown_trigger = reactor.addSystemEventTrigger(  # type: ignore[attr-defined]
            "before", "shutdown", _end_streams
        )


def _single_line(name: str, value: Any) -> str:
    text = str(value)
    if "\r" in text or "\n" in text:
        raise ValueError(f"the SSE {name} must be one line, got {text!r}")
    if name == "id" and "\0" in text:
        raise ValueError("an SSE id cannot contain NUL (browsers would ignore it)")
    return text


def format_event(
    data: Any, event: str | None = None, id: Any = None, retry: int | None = None
) -> bytes:
    """One event in ``text/event-stream`` form, ending with its blank line.

    ``data`` may be str, bytes (UTF-8) or any JSON-serializable value (sent as
    JSON). ``retry`` is the reconnection delay, in milliseconds, the browser
    should use from now on.
    """
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    elif not isinstance(data, str):
        data = json.dumps(data, separators=(",", ":"))
    lines = []
    if event is not None:
        lines.append(f"event: {_single_line('event', event)}\n")
    if id is not None:
        lines.append(f"id: {_single_line('id', id)}\n")
    if retry is not None:
        if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
            raise ValueError(f"the SSE retry must be a non-negative int, got {retry!r}")
        lines.append(f"retry: {retry}\n")
    lines.extend(f"data: {line}\n" for line in _LINE_BREAK.split(data))
    lines.append("\n")
    return "".join(lines).encode("utf-8")


class SSEHandler(HubMixin, RequestHandler):
    """A Server-Sent Events stream; override ``on_open``/``on_close`` (or ``bind``/``unbind``).

    ``on_open(*path_args, **path_kwargs)`` runs once the stream is open (the
    default calls ``bind()``); ``on_close()`` runs once it ends, whoever ended it
    (the default calls ``unbind()``). Refuse a stream in ``prepare()``: by
    ``on_open`` the 200 and its headers are sent. ``self.last_event_id`` is the
    ``Last-Event-ID`` a reconnecting browser sends (None on a first connection).
    A ``: keep-alive`` comment goes out every ``sse_heartbeat_interval`` seconds
    (a setting; default 15, 0 turns it off). ``self.subscribe(channel)`` sends
    each hub message on ``channel`` as an event until the stream ends. Open
    streams are finished when the reactor shuts down.
    """

    SUPPORTED_METHODS = ("GET",)
    transport = "sse"
    """The push transport's name (the ``cyclone.realtime`` contract)."""

    @property
    def last_event_id(self) -> str | None:
        """The ``Last-Event-ID`` request header: where a reconnecting client left off."""
        return self.request.headers.get("Last-Event-ID")

    @property
    def closed(self) -> bool:
        """True once the stream has ended (client gone or ``finish()`` called)."""
        return bool(self.__dict__.get("_sse_closed"))

    # -- the life cycle ---------------------------------------------------------------

    @asynchronous
    def get(self, *args: Any, **kwargs: Any) -> Any:
        self._heartbeat: LoopingCall | None = None
        self._sse_open = True
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        # Compressing would hold events back in the compressor; a Content-Encoding
        # also tells output transforms (compress_response) to leave the body alone.
        self.set_header("Content-Encoding", "identity")
        self.flush()
        interval = SSE_HEARTBEAT_INTERVAL.of(self.settings)
        if interval:
            self._heartbeat = LoopingCall(self._send_heartbeat)
            self._heartbeat.start(float(interval), now=False)
        self.notifyFinish().addCallback(self._stream_ended)
        _track(self)
        return self.on_open(*args, **kwargs)

    def on_open(self, *args: Any, **kwargs: Any) -> Any:
        """The stream is open (path groups as arguments); may be async. Calls ``bind()``."""
        return self.bind()

    def on_close(self) -> None:
        """The stream has ended. Calls ``unbind()``."""
        self.unbind()

    def bind(self) -> Any:
        """cyclone 1.x's name for ``on_open``: override one or the other."""

    def unbind(self) -> None:
        """cyclone 1.x's name for ``on_close``: override one or the other."""

    def _stream_ended(self, _: Any) -> None:
        # notifyFinish fired: the client left, or the response ended (finish() closes
        # the stream before it ends the response; an error after the headers does not).
        if self.closed:
            return
        connection = self.request.connection
        client_left = connection is not None and connection.closed
        try:
            self._close_stream()
        finally:
            if client_left:
                # Finish, so that on_finish runs and the request is logged.
                self.finish()

    def finish(self, chunk: Any = None) -> defer.Deferred[None]:
        """End the stream (after sending ``chunk``, raw event-stream text, if given)."""
        try:
            self._close_stream()
        finally:
            result = super().finish(chunk)
        return result

    def _close_stream(self) -> None:
        if not self.__dict__.get("_sse_open") or self.closed:
            return
        self._sse_closed = True
        _open_streams.discard(self)
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        self.unsubscribe()
        self.on_close()

    # -- sending ----------------------------------------------------------------------

    def send_event(
        self, data: Any, event: str | None = None, id: Any = None, retry: int | None = None
    ) -> defer.Deferred[None]:
        """Send one event; the Deferred fires when the client can take more.

        ``data``: str, bytes or a JSON-serializable value (dicts go as JSON),
        one ``data:`` line per line of text. ``event`` names the event type,
        ``id`` becomes the browser's ``lastEventId``, ``retry`` (ms) its
        reconnection delay. After the stream has ended this sends nothing.
        """
        chunk = format_event(data, event, id, retry)
        if self.closed:
            return defer.succeed(None)
        self.write(chunk)
        return self.flush()

    def sendEvent(
        self, message: Any, event: str | None = None, eid: Any = None, retry: int | None = None
    ) -> defer.Deferred[None]:
        """cyclone 1.x's spelling of :meth:`send_event`."""
        return self.send_event(message, event=event, id=eid, retry=retry)

    def on_hub_message(self, message: Any) -> Any:
        """Send a message of a callback-less hub subscription as an event."""
        return self.send_event(message)

    def _send_heartbeat(self) -> None:
        if not self.closed:
            self.write(b": keep-alive\n\n")
            self.flush()
