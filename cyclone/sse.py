"""cyclone 1.x's ``cyclone.sse``, now provided by the ``cyclone-ext-realtime`` extension.

``SSEHandler`` keeps its 1.x names (``bind``, ``unbind``, ``sendEvent``) next
to the new ones (``on_open``, ``on_close``, ``send_event``). See docs/sse.md.
"""

try:
    from cyclone_ext_realtime import SSEHandler
except ModuleNotFoundError as exc:
    if exc.name != "cyclone_ext_realtime":
        raise
    raise ModuleNotFoundError(
        "cyclone.sse is provided by the realtime extension: pip install 'cyclone[realtime]'",
        name=__name__,
    ) from None

__all__ = ["SSEHandler"]
