"""permessage-deflate (RFC 7692) as a wsproto extension, with inflation bounded.

Strategy: wsproto calls an extension for every frame header, every piece of
payload and every frame end. This one inflates each piece with a budget: the
output of a message may not pass ``max_message_size`` bytes, so a small
compressed frame cannot blow up in memory (zlib stops at the budget and the
connection closes with 1009). Negotiation is strict: an offer with an unknown
or malformed parameter is declined, and the server accepts the first offer it
can honour, as RFC 7692 section 5 asks.
"""

from __future__ import annotations

import zlib
from typing import Any

from wsproto.extensions import Extension
from wsproto.frame_protocol import CloseReason, Opcode, RsvBits

__all__ = ["PerMessageDeflate", "parse_offers"]

_DATA_OPCODES = (Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION)
_TAIL = b"\x00\x00\xff\xff"


def parse_offers(header_values: list[str]) -> list[dict[str, str | None]]:
    """The permessage-deflate offers in ``Sec-WebSocket-Extensions`` values, in order.

    Each offer is a dict of its parameters (``None`` for a parameter without a
    value); offers of other extensions are left out. Quoted values are unquoted.
    """
    offers = []
    for value in header_values:
        for item in value.split(","):
            parts = [p.strip() for p in item.split(";")]
            if parts[0].lower() != "permessage-deflate":
                continue
            params: dict[str, str | None] = {}
            for part in parts[1:]:
                if not part:
                    continue
                name, eq, param = part.partition("=")
                params[name.strip().lower()] = param.strip().strip('"') if eq else None
            offers.append(params)
    return offers


def _window_bits(value: str | None, sending: bool) -> int:
    """A max_window_bits value; zlib cannot deflate with 8 bits (inflating uses 9)."""
    if value is None or not value.isdigit() or not 8 <= int(value) <= 15:
        raise ValueError(f"invalid max_window_bits {value!r}")
    if int(value) == 8:
        if sending:
            raise ValueError("zlib cannot deflate with an 8-bit window")
        return 9
    return int(value)


class PerMessageDeflate(Extension):
    """One side's permessage-deflate state; ``client`` tells which side we are."""

    name = "permessage-deflate"

    def __init__(
        self,
        client: bool,
        max_message_size: int | None = None,
        compression_level: int = zlib.Z_DEFAULT_COMPRESSION,
        mem_level: int = 8,
        no_context_takeover: bool = False,
    ) -> None:
        self.client = client
        self.max_message_size = max_message_size
        self.compression_level = compression_level
        self.mem_level = mem_level
        # What we ask for (client) or impose (server) about our own sending.
        self.local_no_context_takeover = no_context_takeover
        self.remote_no_context_takeover = False
        self.local_max_window_bits = 15
        self.remote_max_window_bits = 15
        self._enabled = False
        self._compressor: Any = None
        self._decompressor: Any = None
        self._inbound_compressed: bool | None = None  # for the message being received
        self._frame_is_data = False
        self._inflated = 0

    def enabled(self) -> bool:
        return self._enabled

    # -- negotiation -------------------------------------------------------------------

    def offer(self) -> str:
        """The client's offer: every parameter a server may answer with is allowed."""
        params = ["client_max_window_bits"]
        if self.local_no_context_takeover:
            params.append("client_no_context_takeover")
        return "; ".join(params)

    def accept(self, offer: str) -> str | None:
        """Server side: the response parameters for the first acceptable offer, or None."""
        for params in parse_offers([offer]):
            answer = self.accept_params(params)
            if answer is not None:
                return answer
        return None

    def accept_params(self, params: dict[str, str | None]) -> str | None:
        """Server side: accept one parsed offer (see :func:`parse_offers`), or decline."""
        answer = []
        remote_bits = 15
        local_bits = 15
        remote_nct = False
        local_nct = self.local_no_context_takeover
        try:
            for name, value in params.items():
                if name == "server_no_context_takeover" and value is None:
                    local_nct = True
                elif name == "client_no_context_takeover" and value is None:
                    remote_nct = True
                elif name == "server_max_window_bits":
                    local_bits = _window_bits(value, sending=True)
                    answer.append(f"server_max_window_bits={local_bits}")
                elif name == "client_max_window_bits":
                    if value is not None:
                        remote_bits = _window_bits(value, sending=False)
                else:
                    return None
        except ValueError:
            return None
        if local_nct:
            answer.insert(0, "server_no_context_takeover")
        if remote_nct:
            answer.insert(0, "client_no_context_takeover")
        self.local_no_context_takeover = local_nct
        self.remote_no_context_takeover = remote_nct
        self.local_max_window_bits = local_bits
        self.remote_max_window_bits = remote_bits
        self._enabled = True
        return "; ".join(answer)

    def finalize(self, response: str) -> None:
        """Client side: apply the server's answer; a malformed one raises ValueError."""
        offers = parse_offers([response])
        if len(offers) != 1:
            raise ValueError(f"bad permessage-deflate response {response!r}")
        for name, value in offers[0].items():
            if name == "server_no_context_takeover" and value is None:
                self.remote_no_context_takeover = True
            elif name == "client_no_context_takeover" and value is None:
                self.local_no_context_takeover = True
            elif name == "server_max_window_bits":
                self.remote_max_window_bits = _window_bits(value, sending=False)
            elif name == "client_max_window_bits":
                self.local_max_window_bits = _window_bits(value, sending=True)
            else:
                raise ValueError(f"unknown permessage-deflate parameter {name!r}")
        self._enabled = True

    # -- receiving ---------------------------------------------------------------------

    def frame_inbound_header(
        self, proto: Any, opcode: Opcode, rsv: RsvBits, payload_length: int
    ) -> CloseReason | RsvBits:
        if rsv.rsv1 and (opcode.iscontrol() or opcode is Opcode.CONTINUATION):
            return CloseReason.PROTOCOL_ERROR
        self._frame_is_data = opcode in _DATA_OPCODES
        if self._frame_is_data and opcode is not Opcode.CONTINUATION:
            self._inbound_compressed = rsv.rsv1
            self._inflated = 0
            if rsv.rsv1 and self._decompressor is None:
                self._decompressor = zlib.decompressobj(-self.remote_max_window_bits)
        return RsvBits(True, False, False)

    def _inflate(self, data: bytes) -> bytes | CloseReason:
        limit = self.max_message_size
        try:
            if limit is None:
                out = self._decompressor.decompress(data)
            else:
                budget = limit - self._inflated
                out = self._decompressor.decompress(data, budget + 1)
                if len(out) > budget or self._decompressor.unconsumed_tail:
                    return CloseReason.MESSAGE_TOO_BIG
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        self._inflated += len(out)
        return out

    def frame_inbound_payload_data(self, proto: Any, data: bytes) -> bytes | CloseReason:
        if not (self._frame_is_data and self._inbound_compressed):
            return data
        return self._inflate(data)

    def frame_inbound_complete(self, proto: Any, fin: bool) -> bytes | CloseReason | None:
        if not (self._frame_is_data and self._inbound_compressed and fin):
            return None
        out = self._inflate(_TAIL)
        if self.remote_no_context_takeover:
            self._decompressor = None
        self._inbound_compressed = None
        return out

    # -- sending -----------------------------------------------------------------------

    def frame_outbound(
        self, proto: Any, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        if opcode not in _DATA_OPCODES:
            return rsv, data
        if opcode is not Opcode.CONTINUATION:
            rsv = RsvBits(True, rsv.rsv2, rsv.rsv3)
        if self._compressor is None:
            self._compressor = zlib.compressobj(
                self.compression_level,
                zlib.DEFLATED,
                -self.local_max_window_bits,
                self.mem_level,
            )
        data = self._compressor.compress(data)
        if fin:
            data += self._compressor.flush(zlib.Z_SYNC_FLUSH)
            if data.endswith(_TAIL):
                data = data[:-4]
            if self.local_no_context_takeover:
                self._compressor = None
        else:
            # Each frame carries what it can: a fragmented message streams out.
            data += self._compressor.flush(zlib.Z_SYNC_FLUSH)
        return rsv, data
