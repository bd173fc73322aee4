"""The Application settings the realtime transports read, declared with the core.

Importing this module (``cyclone_ext_realtime`` does) adds them to
:data:`cyclone.settings.SETTINGS`, so they are type-checked, typo-checked and
listed in docs/settings.md like the core's.
"""

from __future__ import annotations

from cyclone.settings import Setting, declare
from cyclone_ext_realtime._protocol import (
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_WRITE_BUFFER_LIMIT,
)

_NUMBER = (int, float)
_OWNER = "cyclone_ext_realtime"

DEFAULT_HEARTBEAT = 15.0

WEBSOCKET_MAX_MESSAGE_SIZE = declare(
    Setting(
        "websocket_max_message_size",
        DEFAULT_MAX_MESSAGE_SIZE,
        "Largest WebSocket message accepted, in bytes (None: no limit); a bigger one "
        "closes with 1009.",
        (int, type(None)),
        "realtime",
        _OWNER,
    )
)
WEBSOCKET_PING_INTERVAL = declare(
    Setting(
        "websocket_ping_interval",
        None,
        "Seconds between server pings on an idle WebSocket; None sends none.",
        _NUMBER,
        "realtime",
        _OWNER,
    )
)
WEBSOCKET_PING_TIMEOUT = declare(
    Setting(
        "websocket_ping_timeout",
        None,
        "Seconds to wait for a pong before closing (None: one ping interval).",
        _NUMBER,
        "realtime",
        _OWNER,
    )
)
WEBSOCKET_WRITE_BUFFER_LIMIT = declare(
    Setting(
        "websocket_write_buffer_limit",
        DEFAULT_WRITE_BUFFER_LIMIT,
        "Bytes queued to a slow WebSocket peer before write_message fails.",
        (int,),
        "realtime",
        _OWNER,
    )
)
WEBSOCKET_CLOSE_TIMEOUT = declare(
    Setting(
        "websocket_close_timeout",
        DEFAULT_CLOSE_TIMEOUT,
        "Seconds to wait for the peer's close frame before dropping the connection.",
        _NUMBER,
        "realtime",
        _OWNER,
    )
)
SSE_HEARTBEAT_INTERVAL = declare(
    Setting(
        "sse_heartbeat_interval",
        DEFAULT_HEARTBEAT,
        "Seconds between SSE comment heartbeats that keep proxies from closing the stream; "
        "0 or None sends none.",
        (*_NUMBER, type(None)),
        "realtime",
        _OWNER,
    )
)
