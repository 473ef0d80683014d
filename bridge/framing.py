"""OSC over a byte stream (TCP): OSC 1.0 size-prefixed packets and OSC 1.1 SLIP framing.

TCP has no packet boundaries, so OSC defines two framings:

* **OSC 1.0**: each packet is preceded by its length as a big-endian int32.
* **OSC 1.1**: each packet is SLIP-encoded (RFC 1055) and ends with ``END`` (0xC0);
  ``END`` and ``ESC`` bytes inside the packet are escaped. A leading ``END`` is allowed.

:class:`StreamDeframer` detects which one a connection uses from its first byte (SLIP
starts with ``END`` or directly with an OSC packet's ``/`` or ``#``; a size prefix for any
packet under 16 MiB starts with a zero byte) and then yields whole packets as bytes arrive.
Oversized packets raise :class:`FramingError`: the connection is then closed, since a
stream cannot be resynchronised reliably.

A third, unofficial framing is accepted because Pure Data uses it: ``[netsend -b]`` over
TCP writes bare OSC messages back to back with no framing at all. A stream that starts
with ``/`` and whose first read holds no SLIP ``END`` but parses as whole OSC messages is
read as ``raw``: messages are self-delimiting (address, type tags, then arguments whose
sizes the tags give), so they are split by parsing. Bundles cannot be delimited that way
and are refused on such a stream.
"""

from __future__ import annotations

import struct
from typing import Literal

SLIP_END = 0xC0
SLIP_ESC = 0xDB
SLIP_ESC_END = 0xDC
SLIP_ESC_ESC = 0xDD

Framing = Literal["size", "slip", "raw"]


class FramingError(ValueError):
    """The byte stream cannot be split into OSC packets (too large or corrupt)."""


def frame_size_prefixed(packet: bytes) -> bytes:
    """OSC 1.0 stream framing: int32 length, then the packet."""
    return struct.pack(">i", len(packet)) + packet


def frame_slip(packet: bytes) -> bytes:
    """OSC 1.1 stream framing: SLIP with a leading and a trailing END (double-END style)."""
    body = packet.replace(bytes([SLIP_ESC]), bytes([SLIP_ESC, SLIP_ESC_ESC])).replace(
        bytes([SLIP_END]), bytes([SLIP_ESC, SLIP_ESC_END])
    )
    return bytes([SLIP_END]) + body + bytes([SLIP_END])


def frame(packet: bytes, framing: Framing) -> bytes:
    """``packet`` framed for a stream that uses ``framing`` (raw: as it is)."""
    if framing == "raw":
        return packet
    return frame_slip(packet) if framing == "slip" else frame_size_prefixed(packet)


class StreamDeframer:
    """Splits an incoming TCP byte stream into OSC packets (framing detected on first byte)."""

    def __init__(self, max_packet: int) -> None:
        self.max_packet = max_packet
        self.framing: Framing | None = None
        self._buf = bytearray()
        self._escaped = False  # SLIP: last byte seen was ESC
        self._slip_packet = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every packet now complete (in order)."""
        if not data:
            return []
        if self.framing is None:
            self.framing = "slip" if data[0] in (SLIP_END, ord("/"), ord("#")) else "size"
            if data[0] == ord("/") and SLIP_END not in data and raw_message_end(data, 0):
                self.framing = "raw"
        if self.framing == "slip":
            return self._feed_slip(data)
        if self.framing == "raw":
            return self._feed_raw(data)
        return self._feed_sized(data)

    def _feed_raw(self, data: bytes) -> list[bytes]:
        self._buf.extend(data)
        packets: list[bytes] = []
        while self._buf:
            if self._buf[0] != ord("/"):
                raise FramingError("unframed OSC stream: only messages (no bundles) can be split")
            end = raw_message_end(self._buf, 0)
            if end is None:
                if len(self._buf) > self.max_packet:
                    raise FramingError(f"unframed OSC message exceeds {self.max_packet} bytes")
                break
            packets.append(bytes(self._buf[:end]))
            del self._buf[:end]
        return packets

    def _feed_sized(self, data: bytes) -> list[bytes]:
        self._buf.extend(data)
        packets: list[bytes] = []
        while len(self._buf) >= 4:
            (size,) = struct.unpack(">i", self._buf[:4])
            if size < 0 or size > self.max_packet:
                raise FramingError(f"size prefix {size} outside 0..{self.max_packet} bytes")
            if len(self._buf) < 4 + size:
                break
            packets.append(bytes(self._buf[4 : 4 + size]))
            del self._buf[: 4 + size]
        return [p for p in packets if p]

    def _feed_slip(self, data: bytes) -> list[bytes]:
        packets: list[bytes] = []
        out = self._slip_packet
        for byte in data:
            if self._escaped:
                self._escaped = False
                if byte == SLIP_ESC_END:
                    out.append(SLIP_END)
                elif byte == SLIP_ESC_ESC:
                    out.append(SLIP_ESC)
                else:
                    raise FramingError(f"invalid SLIP escape 0x{byte:02x}")
            elif byte == SLIP_END:
                if out:  # an END with nothing before it is a separator, not a packet
                    packets.append(bytes(out))
                    out.clear()
            elif byte == SLIP_ESC:
                self._escaped = True
            else:
                out.append(byte)
            if len(out) > self.max_packet:
                raise FramingError(f"SLIP packet exceeds {self.max_packet} bytes")
        return packets


_FIXED = {"i": 4, "f": 4, "c": 4, "r": 4, "m": 4, "h": 8, "d": 8, "t": 8}
_EMPTY = frozenset("TFNI[]")


def _string_end(buf: bytes | bytearray, pos: int) -> int | None:
    nul = buf.find(b"\x00", pos)
    if nul < 0:
        return None
    end = (nul + 4) & ~3
    return end if end <= len(buf) else None


def raw_message_end(buf: bytes | bytearray, pos: int) -> int | None:
    """Where the OSC message starting at ``pos`` ends, if it is complete in ``buf``.

    None when more bytes are needed or the bytes are not a message (the caller decides).
    """
    end = _string_end(buf, pos)  # the address
    if end is None or end >= len(buf) or buf[end] != ord(","):
        return None
    tags_end = _string_end(buf, end)
    if tags_end is None:
        return None
    cursor = tags_end
    for tag in bytes(buf[end + 1 : buf.index(b"\x00", end)]).decode("ascii", "replace"):
        if tag in _FIXED:
            cursor += _FIXED[tag]
        elif tag in "sS":
            found = _string_end(buf, cursor)
            if found is None:
                return None
            cursor = found
        elif tag == "b":
            if cursor + 4 > len(buf):
                return None
            size = int.from_bytes(buf[cursor : cursor + 4], "big", signed=True)
            if size < 0:
                return None
            cursor += 4 + ((size + 3) & ~3)
        elif tag not in _EMPTY:
            return None
        if cursor > len(buf):
            return None
    return cursor
