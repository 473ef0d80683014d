"""NoteStream and TimedSender against a simulated audio clock: channels, matched note-offs,
cuts on stop and transition, all-notes-off at exit, and 24 ppqn clock on the beat grid.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter

import mido
import pytest

from bridge.midi_clock import ClockEvent, ClockFollower, fold_bpm
from bridge.midi_notes import NoteStream
from bridge.midi_scheduler import TimedSender
from bridge.performance import RenderedBlock
from latentscore.midi_layout import LAYER_MIDI
from synth.events import NoteEvent
from synth.params import SynthParams, bpm_to_tempo
from tests.bridge_util import wait_for

SR = 44100


class WallClock:
    """An audio clock running in real time from construction (sample 0 = now)."""

    sample_rate = SR

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def now_sample(self) -> float:
        return (time.monotonic() - self.t0) * SR


class Port:
    def __init__(self) -> None:
        self.sent: list[tuple[float, mido.Message]] = []

    def send(self, msg: mido.Message) -> None:
        self.sent.append((time.monotonic(), msg))

    def of(self, kind: str) -> list[mido.Message]:
        return [m for _, m in self.sent if m.type == kind]


def note(layer: str, pitch: float, beats: float = 0.5) -> NoteEvent:
    return NoteEvent(layer, 0.0, beats, pitch, 0.8)


def stream(clock: bool = False) -> tuple[NoteStream, Port, TimedSender, WallClock]:
    port, audio = Port(), WallClock()
    sender = TimedSender(audio)
    sender.record_errors = True
    notes = NoteStream(port, sender, SR, clock=clock)
    sender.start()
    return notes, port, sender, audio


def block(start: int, notes: list[tuple[int, NoteEvent]], beats: tuple[float, float] | None,
          length: int = 2048, spb: float = 0.5) -> RenderedBlock:  # fmt: skip
    return RenderedBlock(start, length, tuple(notes), beats, spb)


def test_notes_use_the_layer_table_and_every_on_gets_an_off() -> None:
    notes, port, sender, _ = stream()
    programs = port.of("program_change")
    assert {(m.channel + 1, m.program) for m in programs} == {
        (v.channel, v.program) for v in LAYER_MIDI.values() if v.program is not None
    }
    events = [
        (2000, note("bass", 36)),
        (2000, note("rhythm", 42, 0.01)),
        (3000, note("melody", 72.4)),
        (4000, note("melody", 72, 4.0)),  # same key again while sounding: a retrigger
        (5000, note("unknown_layer", 60)),
    ]
    notes.rendered(block(0, events, (0.0, 0.1)))
    wait_for(lambda: sender.pending() == 0, 5.0, "all notes sent")
    ons, offs = port.of("note_on"), port.of("note_off")
    assert [(m.channel, m.note) for m in ons] == [(0, 36), (9, 42), (2, 72), (2, 72), (15, 60)]
    assert Counter((m.channel, m.note) for m in ons) == Counter((m.channel, m.note) for m in offs)
    assert ons[0].velocity == round(0.8 * 127)
    errors = sorted(sender.errors)
    assert errors[len(errors) // 2] < 0.002  # sent on time (median; CI machines are noisy)
    notes.close()


def test_stop_and_transition_cut_sounding_notes() -> None:
    notes, port, sender, audio = stream()
    now = int(audio.now_sample())
    notes.rendered(block(now, [(now + 100, note("pad", 60, 100.0))], (0.0, 0.1)))
    wait_for(lambda: port.of("note_on"), 2.0, "the pad note")
    notes.rendered(block(now, [(now + 30000, note("pad", 64))], (0.1, 0.2)))
    notes.transport(now + 2000, "transition")  # cuts the long pad, drops the queued note
    wait_for(lambda: port.of("note_off"), 2.0, "the cut")
    time.sleep(0.05)
    assert [m.note for m in port.of("note_on")] == [60]
    assert [m.control for m in port.of("control_change")] == [123] * 6  # all notes off
    notes.transport(now + 2500, "stop")
    notes.rendered(block(now + 2600, [(now + 2700, note("bass", 40))], (0.2, 0.3)))
    time.sleep(0.2)
    assert [m.note for m in port.of("note_on")] == [60]  # stopped: new notes muted
    notes.transport(now + 9000, "play")
    later = int(audio.now_sample()) + 500
    notes.rendered(block(later, [(later + 10, note("bass", 41, 100))], (0.3, 0.4)))
    wait_for(lambda: len(port.of("note_on")) == 2, 2.0, "notes after play")
    notes.close()  # exit: the sounding bass is released and every channel gets CC 123
    assert port.of("note_off")[-1].note == 41 or any(m.note == 41 for m in port.of("note_off"))
    assert sender.pending() == 0


def test_clock_out_ticks_24_per_beat_with_start_stop_continue() -> None:
    notes, port, sender, audio = stream(clock=True)
    now = int(audio.now_sample()) + 200
    spb = 0.5  # 120 BPM: one beat = 22050 samples
    length = 4410
    for i in range(10):  # one second of blocks, two beats
        b0 = i * length / (spb * SR)
        notes.rendered(block(now + i * length, [], (b0, b0 + length / (spb * SR)), length, spb))
    wait_for(lambda: sender.pending() == 0, 3.0, "ticks sent")
    kinds = [m.type for _, m in port.sent if m.type != "program_change"]
    assert kinds[0] == "start" and kinds.count("clock") == 49  # beats 0..2 inclusive
    ticks = [t for t, m in port.sent if m.type == "clock"]
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert abs(sum(gaps) / len(gaps) - spb / 24) < 0.002
    notes.transport(now + 10 * length, "stop")
    notes.transport(now + 10 * length + 100, "play")
    wait_for(lambda: port.of("stop"), 2.0, "clock stop")
    start = int(audio.now_sample()) + 100
    notes.rendered(block(start, [], (2.03, 2.43), 2 * length, spb))
    wait_for(lambda: port.of("continue"), 2.0, "continue on play")
    # resumed on the grid's next sixteenth (beat 2.25 = sixteenth 9): pointer, Continue, tick
    kinds = [m for _, m in port.sent if m.type in ("songpos", "continue", "clock")]
    at = next(i for i, m in enumerate(kinds) if m.type == "songpos")
    assert [m.type for m in kinds[at : at + 3]] == ["songpos", "continue", "clock"]
    assert kinds[at].pos == 9
    notes.close()


def test_clock_follower_estimates_tempo_and_transport() -> None:
    events: list[ClockEvent] = []
    follower = ClockFollower(events.append)
    follower.handle("start", 0.0)
    t = 0.0
    for _ in range(24 * 4):  # four beats at 125 BPM
        t += 60.0 / 125.0 / 24
        follower.handle("clock", t)
    # one beat of ticks after Start: the tempo and the DAW's beat there, for alignment
    align = [e for e in events if e.kind == "align"]
    assert len(align) == 1 and abs(align[0].bpm - 125.0) < 0.2
    assert align[0].beat == pytest.approx(1.0)  # the 25th tick: the first tick is beat 0
    assert align[0].at == pytest.approx(25 * 60.0 / 125.0 / 24)
    tempos = [e.bpm for e in events if e.kind in ("tempo", "align")]
    assert abs(tempos[-1] - 125.0) < 0.2 and len(tempos) <= 3
    for _ in range(24 * 8):  # the DAW speeds up to 100 BPM: smoothed, then applied
        t += 60.0 / 100.0 / 24
        follower.handle("clock", t)
    assert abs(follower.bpm - 100.0) < 0.5  # type: ignore[operator]
    follower.handle("stop", t)
    assert [e.kind for e in events if e.kind not in ("tempo", "align")] == ["play", "stop"]
    assert events[0].at == 0.0  # the Start's arrival time travels with it
    follower.handle("clock", t + 5.0)  # after a gap the estimate restarts
    assert len(follower._ticks) == 1


def test_clock_follower_starts_mid_song_at_a_song_position_pointer() -> None:
    events: list[ClockEvent] = []
    follower = ClockFollower(events.append)
    follower.handle("songpos", 0.0, position=64)  # bar 5 (64 sixteenths = beat 16)
    follower.handle("continue", 1.0)
    play = events[-1]
    assert (play.kind, play.from_top, play.beat, play.at) == ("play", True, 16.0, 1.0)
    t = 1.0
    for _ in range(25):
        t += 60.0 / 120.0 / 24
        follower.handle("clock", t)
    (align,) = [e for e in events if e.kind == "align"]
    assert align.beat == pytest.approx(17.0)  # one beat of ticks past the pointer
    follower.handle("stop", t)
    follower.handle("continue", t + 1.0)  # a bare Continue: resume, the grid untouched
    assert (events[-1].kind, events[-1].from_top) == ("play", False)
    follower.handle("songpos", t + 2.0, position=8)
    follower.handle("start", t + 3.0)  # Start is the top whatever the pointer said
    assert (events[-1].from_top, events[-1].beat) == (True, 0.0)


def test_bpm_to_tempo_position_inverts_the_engine_mapping() -> None:
    for position in (-0.25, 0.0, 0.1, 0.25, 0.5, 0.77, 1.0, 1.5):
        bpm = SynthParams(tempo=position).bpm
        assert abs(bpm_to_tempo(fold_bpm(bpm)) - position) < 1e-9
    # 40..200 BPM play exactly; outside, octaves fold the tempo in (the beat stays aligned)
    assert fold_bpm(160.0) == 160.0 and fold_bpm(40.0) == 40.0
    assert fold_bpm(300) == 150.0 and fold_bpm(30.0) == 60.0 and fold_bpm(450.0) == 112.5
    assert SynthParams(tempo=bpm_to_tempo(174.0)).clamped().bpm == pytest.approx(174.0)
