"""cyclone 1.x's ``cyclone.websocket``, now provided by the ``cyclone-ext-realtime`` extension.

``WebSocketHandler`` keeps the 1.x names (``connectionMade``, ``messageReceived``,
``connectionLost``, ``sendMessage``) next to Tornado's (``open``, ``on_message``,
``on_close``, ``write_message``). See docs/websocket.md.
"""

try:
    from cyclone_ext_realtime import (
        WebSocketClientConnection,
        WebSocketClosedError,
        WebSocketHandler,
        websocket_connect,
    )
except ModuleNotFoundError as exc:
    if exc.name != "cyclone_ext_realtime":
        raise
    raise ModuleNotFoundError(
        "cyclone.websocket is provided by the realtime extension: pip install 'cyclone[realtime]'",
        name=__name__,
    ) from None

__all__ = [
    "WebSocketClientConnection",
    "WebSocketClosedError",
    "WebSocketHandler",
    "websocket_connect",
]
