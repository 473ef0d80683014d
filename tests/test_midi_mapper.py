"""Mapping math on plain mido messages: positions, ranges, buttons, relative encoders, 14-bit
pairs, soft takeover and feedback. No ports: the mapper reads a dict standing in for the state.
"""

from __future__ import annotations

from typing import Any

import mido
import pytest

from bridge.midi_decode import Cc14, SoftTakeover, decode_relative, encode_relative, split14
from bridge.midi_map import MapError, parse_map
from bridge.midi_mapper import Change, MidiMapper
from bridge.registry import build_registry
from latentscore.config import FIELDS

REGISTRY = build_registry()


class FakeState:
    """Current values by registry name; applying a Change updates it like the daemon would."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {"volume": 0.8, "transition": 3.0}
        for name, spec in FIELDS.items():
            if spec.ordered:
                self.values[name] = spec.position(spec.default)
                self.values[f"{name}/label"] = spec.default
            else:
                self.values[name] = spec.default

    def read(self, name: str) -> tuple[Any, ...] | None:
        return (self.values[name],) if name in self.values else None

    def apply(self, changes: list[Change]) -> None:
        for c in changes:
            spec = FIELDS.get(c.param)
            if spec is not None and spec.ordered and c.tags == "f":
                self.values[c.param] = c.args[0]
                self.values[f"{c.param}/label"] = spec.nearest_label(c.args[0])
            elif spec is not None and spec.ordered:
                self.values[c.param] = spec.position(c.args[0])
                self.values[f"{c.param}/label"] = c.args[0]
            elif c.param in self.values:
                self.values[c.param] = c.args[0]


def mapper_for(toml: str) -> tuple[MidiMapper, FakeState]:
    state = FakeState()
    return MidiMapper(REGISTRY, parse_map(toml, REGISTRY), state.read), state


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", channel=channel, control=control, value=value)


def test_relative_decoding_in_every_mode() -> None:
    assert [decode_relative(v, "relative-twos") for v in (1, 5, 63, 64, 127, 120)] == [
        1, 5, 63, -64, -1, -8,
    ]  # fmt: skip
    assert [decode_relative(v, "relative-offset") for v in (64, 65, 70, 63, 0)] == [
        0, 1, 6, -1, -64,
    ]  # fmt: skip
    assert [decode_relative(v, "relative-signbit") for v in (1, 63, 65, 127, 64)] == [
        1, 63, -1, -63, 0,
    ]  # fmt: skip
    for mode in ("relative-twos", "relative-offset", "relative-signbit"):
        for ticks in (-63, -7, -1, 1, 9, 63):
            assert decode_relative(encode_relative(ticks, mode), mode) == ticks
    with pytest.raises(ValueError):
        decode_relative(1, "absolute")


def test_14bit_pairs_msb_then_lsb() -> None:
    pairs = Cc14()
    assert pairs.feed(0, 33, 5) is None  # an LSB before any MSB refines nothing
    assert pairs.feed(0, 1, 64) == (1, 64 << 7)  # MSB alone: LSB reset to 0
    assert pairs.feed(0, 33, 127) == (1, (64 << 7) | 127)
    assert pairs.feed(1, 33, 1) is None  # other channel has no MSB yet
    assert split14(8191) == (63, 127) and split14(99999) == (127, 127)


def test_soft_takeover_waits_for_the_knob_to_reach_the_value() -> None:
    pickup = SoftTakeover()
    assert not pickup.accept(0.1, current=0.5)  # far below: ignored
    assert not pickup.accept(0.3, current=0.5)
    assert pickup.accept(0.6, current=0.5)  # crossed the value: picked up
    assert pickup.accept(0.2, current=0.6)  # engaged: follows (current = what it wrote)
    assert not pickup.accept(0.25, current=0.9)  # someone else moved it: released
    assert pickup.accept(0.89, current=0.9)  # within the window: picked up again


def test_ordered_field_knob_is_continuous_with_pickup() -> None:
    mapper, state = mapper_for('[[control]]\nparam = "brightness"\ncc = 1\n')
    assert state.values["brightness"] == 0.5
    assert mapper.handle(cc(1, 0)) == []  # knob at 0, music at 0.5: no jump
    assert mapper.handle(cc(1, 127)) == [Change("brightness", "f", (1.0,))]  # crossed
    state.apply([Change("brightness", "f", (1.0,))])
    changes = mapper.handle(cc(1, 32))
    assert changes == [Change("brightness", "f", (round(32 / 127, 6),))]
    state.apply(changes)
    assert state.values["brightness/label"] == "dark"  # labels at the detents


def test_jump_takeover_range_and_invert() -> None:
    mapper, _ = mapper_for(
        '[[control]]\nparam = "transition"\ncc = 2\ntakeover = "jump"\nmin = 0.0\nmax = 20.0\n'
        '[[control]]\nparam = "space"\ncc = 3\ntakeover = "jump"\ninvert = true\n'
    )
    assert mapper.handle(cc(2, 127)) == [Change("transition", "f", (20.0,))]
    assert mapper.handle(cc(2, 0)) == [Change("transition", "f", (0.0,))]
    assert mapper.handle(cc(3, 127)) == [Change("space", "f", (0.0,))]


def test_style_knob_switches_by_equal_cc_ranges() -> None:
    mapper, state = mapper_for('[[control]]\nparam = "bass"\ncc = 4\ntakeover = "jump"\n')
    labels = FIELDS["bass"].labels  # 8 styles: 16 CC values each
    assert mapper.handle(cc(4, 0)) == []  # already the default style: no message
    assert mapper.handle(cc(4, 16)) == [Change("bass", "s", (labels[1],))]
    assert mapper.handle(cc(4, 127)) == [Change("bass", "s", (labels[-1],))]
    state.values["bass"] = labels[-1]
    assert mapper.handle(cc(4, 120)) == []


def test_style_knob_with_pickup_ignores_other_ranges_until_it_arrives() -> None:
    mapper, _state = mapper_for(
        '[[control]]\nparam = "rhythm"\ncc = 4\nlabels = ["none", "minimal", "brush"]\n'
    )
    assert mapper.handle(cc(4, 127)) == []  # brush, but the music is at "none"
    assert mapper.handle(cc(4, 0)) == []  # arrived at "none": engaged, no change needed
    assert mapper.handle(cc(4, 64)) == [Change("rhythm", "s", ("minimal",))]


def test_notes_program_changes_and_buttons() -> None:
    mapper, state = mapper_for(
        "[controller]\nchannel = 1\n"
        '[[control]]\nparam = "mode"\nnote = 60\nvalue = "dorian"\n'
        '[[control]]\nparam = "pad"\nnote = 61\n'
        '[[control]]\nparam = "accent"\nprogram = "index"\n'
        '[[control]]\nparam = "tempo/step"\ncc = 20\nvalue = -1\n'
        '[[control]]\nparam = "play"\ncc = 41\n'
        '[[control]]\nparam = "density"\nnote = 62\nvalue = 6\n'
    )
    on = mido.Message("note_on", note=60, velocity=100)
    assert mapper.handle(on) == [Change("mode", "s", ("dorian",))]
    assert mapper.handle(mido.Message("note_on", note=60, velocity=0)) == []  # release
    assert mapper.handle(mido.Message("note_on", note=60, velocity=9, channel=3)) == []
    pads = FIELDS["pad"].labels
    assert mapper.handle(mido.Message("note_on", note=61, velocity=1)) == [
        Change("pad", "s", (pads[1],))
    ]
    state.values["pad"] = pads[-1]
    assert mapper.handle(mido.Message("note_on", note=61, velocity=1)) == [
        Change("pad", "s", (pads[0],))
    ]  # cycles around
    accents = FIELDS["accent"].labels
    assert mapper.handle(mido.Message("program_change", program=2)) == [
        Change("accent", "s", (accents[2],))
    ]
    assert mapper.handle(mido.Message("program_change", program=120)) == []
    assert mapper.handle(cc(20, 127)) == [Change("tempo/step", "i", (-1,))]
    assert mapper.handle(cc(20, 0)) == []
    assert mapper.handle(cc(41, 127)) == [Change("play", "i", (1,))]
    assert mapper.handle(mido.Message("note_on", note=62, velocity=1)) == [
        Change("density/label", "i", (6,))  # a number on a fader is a position
    ]
    assert mapper.handle(mido.Message("pitchwheel", pitch=100)) == []
    assert mapper.handle(cc(99, 5)) == []


def test_relative_encoders() -> None:
    mapper, state = mapper_for(
        '[[control]]\nparam = "echo"\ncc = 10\nmode = "relative-twos"\nstep = 0.1\n'
        '[[control]]\nparam = "bass"\ncc = 11\nmode = "relative-offset"\nticks = 2\n'
        '[[control]]\nparam = "space/step"\ncc = 12\nmode = "relative-signbit"\nticks = 3\n'
    )
    start = state.values["echo"]
    changes = mapper.handle(cc(10, 2))  # +2 ticks
    assert changes == [Change("echo", "f", (round(start + 0.2, 6),))]
    state.apply(changes)
    assert mapper.handle(cc(10, 127)) == [Change("echo", "f", (round(start + 0.1, 6),))]
    state.values["echo"] = 0.0
    assert mapper.handle(cc(10, 120)) == [Change("echo", "f", (0.0,))]  # clamps at 0
    bass = FIELDS["bass"].labels
    assert mapper.handle(cc(11, 65)) == []  # one tick of two
    assert mapper.handle(cc(11, 65)) == [Change("bass", "s", (bass[1],))]
    assert mapper.handle(cc(12, 7)) == [Change("space/step", "i", (2,))]  # 7 ticks = 2 steps
    assert mapper.handle(cc(12, 64 + 2)) == []  # -2 of the 1 left over: -1, under 3


def test_14bit_fader_uses_both_bytes() -> None:
    mapper, _ = mapper_for(
        '[[control]]\nparam = "volume"\ncc = 7\nresolution = 14\ntakeover = "jump"\n'
    )
    assert mapper.handle(cc(7, 64)) == [Change("volume", "f", (round(8192 / 16383, 6),))]
    assert mapper.handle(cc(39, 127)) == [Change("volume", "f", (round(8319 / 16383, 6),))]
    assert mapper.handle(cc(7, 127)) + mapper.handle(cc(39, 127)) == [
        Change("volume", "f", (round(16256 / 16383, 6),)),
        Change("volume", "f", (1.0,)),
    ]


def test_feedback_messages_for_leds_and_motor_faders() -> None:
    mapper, state = mapper_for(
        "[controller]\nfeedback = true\nchannel = 1\n"
        '[[control]]\nparam = "brightness"\ncc = 1\n'
        '[[control]]\nparam = "volume"\ncc = 2\nresolution = 14\n'
        '[[control]]\nparam = "mode"\nnote = 60\nvalue = "dorian"\nled = 60\n'
        '[[control]]\nparam = "bass"\ncc = 5\n'
        '[[control]]\nparam = "play"\nnote = 70\n'
        '[[control]]\nparam = "echo"\ncc = 9\nfeedback = false\n'
    )
    assert mapper.feedback_names() >= {"brightness", "brightness/label", "volume", "mode", "bass"}
    assert "echo" not in mapper.feedback_names()
    assert mapper.feedback("brightness", (1.0,)) == [cc(1, 127)]
    assert mapper.feedback("brightness/label", ("bright",)) == []  # the knob shows position
    assert mapper.feedback("volume", (0.5,)) == [cc(2, 64), cc(34, 0)]
    assert mapper.feedback("mode", ("dorian",)) == [mido.Message("note_on", note=60, velocity=60)]
    assert mapper.feedback("mode", ("major",)) == [mido.Message("note_on", note=60, velocity=0)]
    bass = FIELDS["bass"].labels
    assert mapper.feedback("bass", (bass[1],)) == [cc(5, 24)]  # centre of the second range
    assert mapper.feedback("playing", (1,)) == [mido.Message("note_on", note=70, velocity=127)]
    # a motor fader moved by feedback is engaged at its new place: the next move applies
    state.values["brightness"] = 1.0
    assert mapper.handle(cc(1, 100)) == [Change("brightness", "f", (round(100 / 127, 6),))]


def test_any_channel_feedback_answers_where_the_control_was_heard() -> None:
    mapper, _ = mapper_for(
        '[controller]\nchannel = "any"\n'
        '[[control]]\nparam = "mode"\nnote = 41\nvalue = "minor"\nfeedback = true\n'
    )
    mapper.handle(mido.Message("note_on", note=41, velocity=127, channel=8))
    assert mapper.feedback("mode", ("minor",)) == [
        mido.Message("note_on", note=41, velocity=127, channel=8)
    ]


def test_a_knob_maps_onto_bpm_in_its_range() -> None:
    mapper, _ = mapper_for('[[control]]\nparam = "bpm"\ncc = 20\ntakeover = "jump"\n')
    assert mapper.handle(cc(20, 0)) == [Change("bpm", "f", (60.0,))]  # default 60..180
    assert mapper.handle(cc(20, 127)) == [Change("bpm", "f", (180.0,))]
    mapper, _ = mapper_for(
        '[[control]]\nparam = "bpm"\ncc = 21\nmin = 90\nmax = 130\ntakeover = "jump"\n'
    )
    (change,) = mapper.handle(cc(21, 64))
    assert change.param == "bpm" and 109.0 < change.args[0] < 111.0  # type: ignore[operator]
    with pytest.raises(MapError, match=r"250 is outside 40\.\.200"):
        parse_map('[[control]]\nparam = "bpm"\ncc = 22\nmax = 250\n', REGISTRY)
