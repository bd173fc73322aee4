"""Push transports for cyclone, registered in the ``cyclone.realtime`` entry-point group.

- ``websocket``: :class:`WebSocketHandler` (Tornado's API and cyclone 1.x's names)
  and the :func:`websocket_connect` client; see docs/websocket.md.
- ``sse``: Server-Sent Events and the broadcast hub (``sse.py``, ``hub.py``).
"""

from cyclone_ext_realtime.client import WebSocketClientConnection, websocket_connect
from cyclone_ext_realtime.hub import Hub, HubMixin, Subscription
from cyclone_ext_realtime.sse import SSEHandler
from cyclone_ext_realtime.websocket import WebSocketClosedError, WebSocketHandler

__all__ = [
    "Hub",
    "HubMixin",
    "SSEHandler",
    "Subscription",
    "WebSocketClientConnection",
    "WebSocketClosedError",
    "WebSocketHandler",
    "websocket_connect",
]
