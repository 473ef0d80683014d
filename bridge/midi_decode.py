"""The arithmetic of MIDI controls: relative encoders, 14-bit CC pairs and soft takeover.

Pure functions and small state machines with no ports or threads, so every rule here is
unit-tested with plain numbers.

* **Relative encoders** send a signed tick count per message instead of a position. Three
  encodings are common: two's complement (1..63 up, 127 = -1 .. 64 = -64; Ableton's
  "Relative (2's Comp.)", Novation and Arturia defaults), binary offset (64 = no move, 65 =
  +1, 63 = -1; Korg/Behringer "relative 1"), and sign bit (1..63 up, 65 = -1 .. 127 = -63).
* **14-bit CC** splits a value over two controllers: the MSB on n (0..31) and the LSB on
  n + 32. Per the MIDI 1.0 spec a new MSB resets the LSB to 0, so a controller that only
  sends the MSB still works (at 7-bit resolution).
* **Soft takeover (pick-up)**: after the music moved by other means (OSC, a vibe, another
  control), a knob's physical position no longer matches the parameter. Jumping to the
  knob would lurch the music, so the knob is ignored until it reaches (or crosses) the
  current value, then follows it.
"""

from __future__ import annotations

from dataclasses import dataclass

PICKUP_WINDOW = 0.03  # a knob within 3% of the value picks it up (about 4 of 127 steps)
MOVED_ELSEWHERE = 1e-4  # the parameter differs from what this knob wrote: someone else moved it


def decode_relative(value: int, mode: str) -> int:
    """Signed ticks from one relative-encoder CC value (0..127) in the given encoding."""
    value &= 0x7F
    if mode == "relative-twos":
        return value - 128 if value >= 64 else value
    if mode == "relative-offset":
        return value - 64
    if mode == "relative-signbit":
        return -(value - 64) if value >= 64 else value
    raise ValueError(f"not a relative mode: {mode!r}")


def encode_relative(ticks: int, mode: str) -> int:
    """The CC value an encoder sends for ``ticks`` (tests and simulated controllers)."""
    ticks = max(-63, min(63, ticks))
    if mode == "relative-twos":
        return ticks & 0x7F
    if mode == "relative-offset":
        return ticks + 64
    if mode == "relative-signbit":
        return 64 - ticks if ticks < 0 else ticks
    raise ValueError(f"not a relative mode: {mode!r}")


class Cc14:
    """Assemble 14-bit values from MSB (cc n) and LSB (cc n + 32) messages, per channel."""

    def __init__(self) -> None:
        self._msb: dict[tuple[int, int], int] = {}

    def feed(self, channel: int, control: int, value: int) -> tuple[int, int] | None:
        """Feed one CC; returns ``(msb_control, value 0..16383)`` when it completes a value.

        An MSB alone yields ``msb << 7`` (LSB reset); an LSB combines with the last MSB seen
        on its channel (an LSB before any MSB is ignored: there is nothing to refine).
        """
        if control < 32:
            self._msb[(channel, control)] = value & 0x7F
            return control, (value & 0x7F) << 7
        if 32 <= control < 64:
            msb = self._msb.get((channel, control - 32))
            if msb is None:
                return None
            return control - 32, (msb << 7) | (value & 0x7F)
        return None


def split14(value: int) -> tuple[int, int]:
    """(MSB, LSB) of a 14-bit value, for feedback and tests."""
    value = max(0, min(16383, value))
    return value >> 7, value & 0x7F


@dataclass
class SoftTakeover:
    """Pick-up state of one absolute control (positions in the control's own 0..1 space).

    ``engaged`` means the control currently drives the parameter. It disengages when the
    parameter changes to something this control did not write, and re-engages when the
    physical position comes within ``window`` of the current value or crosses it.
    """

    window: float = PICKUP_WINDOW
    engaged: bool = False
    last_physical: float | None = None
    last_written: float | None = None

    def accept(self, physical: float, current: float | None) -> bool:
        """Should the control's new position ``physical`` be applied? Updates the state."""
        if current is None:  # nothing to match: follow the control
            self.engaged = True
        else:
            if self.last_written is not None and abs(current - self.last_written) > MOVED_ELSEWHERE:
                self.engaged = False
                self.last_written = None
            if not self.engaged:
                near = abs(physical - current) <= self.window
                before = self.last_physical
                crossed = before is not None and (before - current) * (physical - current) <= 0
                self.engaged = near or crossed
        self.last_physical = physical
        if self.engaged:
            self.last_written = physical
        return self.engaged

    def sync(self, physical: float) -> None:
        """The control was moved to ``physical`` by us (motor fader / LED ring feedback)."""
        self.last_physical = physical
        self.last_written = physical
        self.engaged = True

    def release(self) -> None:
        """Forget the control's position (the map changed): it must pick up again."""
        self.engaged = False
        self.last_physical = None
        self.last_written = None
