"""NoteStream: the engine's note events (and, optionally, MIDI clock) out of a MIDI port.

A :class:`~bridge.performance.PerformanceListener`: the render thread hands it every rendered
block's notes and beat span; it stamps each note-on, note-off and clock tick with its output
sample and queues it on a :class:`~bridge.midi_scheduler.TimedSender`, which sends it when the
audio clock reaches that sample, so MIDI lines up with what is heard.

Channels and programs come from :data:`latentscore.midi_layout.LAYER_MIDI`, the table the
Standard MIDI File writer uses, so a DAW template made for exported files fits the live
stream (bass ch 1, pad 2, melody 3, rhythm 10, texture 5, accent 6).

Note-offs are guaranteed: every note-on gets exactly one note-off, from its own end, from a
retrigger of the same key, from a cut or from :meth:`NoteStream.close`. A **stop** or a
**transition** (crossfade) cuts at its output sample: sounding notes end, notes queued from
before the cut are dropped, and All Notes Off (CC 123) goes to every layer channel; a stop
also mutes new notes until play. ``close`` (daemon exit) releases everything at once.

Clock (``--clock out``): 24 ticks per beat placed on the performer's own beat grid (so they
follow tempo glides exactly), Start before the first tick, Stop on stop, and on play a Song
Position Pointer then Continue on the next sixteenth of the grid, so a DAW resumes exactly
where our music is (the music fades out for a few ms after Stop; without the pointer every
stop/play would leave the DAW a few ticks behind). Start, Continue and ticks are queued
before the notes of the same sample, so a bar's first notes never precede its Start.

A program that connects to the port later (a DAW opened after the daemon) missed the
programs and the Start: :meth:`NoteStream.resync` (called by the JACK connection watch)
sends the programs again and, with the clock running, a Song Position Pointer and Continue
on the grid's next sixteenth, so the newcomer joins on our bar and beat.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import threading
from typing import Any

import mido

from bridge.midi_ports import safe_send
from bridge.midi_scheduler import TimedSender
from bridge.performance import RenderedBlock, TransportEvent
from latentscore.midi_layout import LAYER_MIDI, layer_midi

log = logging.getLogger("bridge.midi")

PPQN = 24
MIN_NOTE_SECONDS = 0.005  # a zero-length gate still becomes an audible (and closed) note
ALL_NOTES_OFF = 123
TICKS_PER_SIXTEENTH = PPQN // 4  # a Song Position Pointer counts sixteenths ("MIDI beats")
MAX_SONG_POSITION = 16383  # 14 bits


class NoteStream:
    """Queues note and clock messages for a port (see the module docstring)."""

    def __init__(
        self,
        port: Any,
        sender: TimedSender,
        sample_rate: int,
        *,
        notes: bool = True,
        clock: bool = False,
        programs: bool = True,
    ) -> None:
        self.port = port
        self.sender = sender
        self.sample_rate = sample_rate
        self.notes_enabled = notes
        self.clock_enabled = clock
        self._tokens = itertools.count(1)
        self._sounding: dict[tuple[int, int], int] = {}  # (channel, note) -> token
        self._lock = threading.Lock()  # _sounding: sender thread, and close() at exit
        self._running = True  # render-thread view: False between stop and play
        self._generation = 0  # bumped by each cut (render thread)
        self._min_generation = 0  # note-ons older than this are dropped (sender thread)
        self._next_tick: int | None = None
        self._started = False
        self._resume = False
        self._channels = sorted({m.channel_index for m in LAYER_MIDI.values()})
        self.sent_notes = 0
        self.sent_ticks = 0
        self._programs = programs and notes
        self._resync = threading.Event()  # set by any thread, acted on by the render thread
        self._send_programs()

    def resync(self) -> None:
        """A program connected to the port: re-send programs and our song position (see the
        module docstring). Safe from any thread; takes effect with the next rendered block."""
        self._resync.set()

    def _send_programs(self) -> None:
        """GM program per layer channel: at open, and again on every play (a DAW that
        connected to the port later has them then)."""
        if not self._programs:
            return
        for midi in LAYER_MIDI.values():
            if midi.program is not None:
                self._send(
                    mido.Message("program_change", channel=midi.channel_index, program=midi.program)
                )

    # --- render thread -----------------------------------------------------------------------
    def rendered(self, block: RenderedBlock) -> None:
        if not self._running:
            return
        if self._resync.is_set():
            self._resync.clear()
            self.sender.at(block.start, self._send_programs)
            if self._started:  # (not yet started: the first tick sends Start anyway)
                self._resume, self._next_tick = True, None
        if self.clock_enabled and block.beats is not None:
            self._queue_ticks(block)  # first: Start/Continue go before notes on that sample
        if self.notes_enabled:
            spb = block.seconds_per_beat
            for sample, ev in block.notes:
                seconds = max(MIN_NOTE_SECONDS, ev.duration_beats * spb)
                self._queue_note(
                    sample,
                    sample + round(seconds * self.sample_rate),
                    layer_midi(ev.layer).channel_index,
                    ev.midi_pitch,
                    ev.midi_velocity,
                )

    def transport(self, sample: int, event: TransportEvent) -> None:
        if event == "stop":
            if not self._running:
                return
            self._running = False
            self._cut(sample)
            if self.clock_enabled and self._started:
                self.sender.at(sample, lambda: self._send(mido.Message("stop")))
        elif event == "play":
            if self._running:
                return
            self._running = True
            self._next_tick = None  # re-anchor the tick grid where the music resumes
            self._resume = True
            self.sender.at(sample, self._send_programs)
        else:
            self._cut(sample)

    def _queue_note(self, on: int, off: int, channel: int, note: int, velocity: int) -> None:
        token = next(self._tokens)
        generation = self._generation
        key = (channel, note)

        def note_on() -> None:
            if generation < self._min_generation:
                return  # cut before it sounded
            with self._lock:
                if key in self._sounding:  # retrigger: close the previous note first
                    self._send(mido.Message("note_off", channel=channel, note=note))
                self._sounding[key] = token
            self._send(mido.Message("note_on", channel=channel, note=note, velocity=velocity))
            self.sent_notes += 1

        def note_off() -> None:
            with self._lock:
                if self._sounding.get(key) != token:
                    return  # retriggered, cut or never started: its off was already sent
                del self._sounding[key]
            self._send(mido.Message("note_off", channel=channel, note=note))

        self.sender.at(on, note_on)
        self.sender.at(off, note_off)

    def _cut(self, sample: int) -> None:
        self._generation += 1
        generation = self._generation

        def cut() -> None:
            self._min_generation = max(self._min_generation, generation)
            self.release_all()

        self.sender.at(sample, cut)

    def _queue_ticks(self, block: RenderedBlock) -> None:
        assert block.beats is not None
        b0, b1 = block.beats
        if b1 <= b0:
            return
        if self._resume and self._next_tick is None:  # resume on the grid's next sixteenth
            self._next_tick = math.ceil(b0 * PPQN / TICKS_PER_SIXTEENTH) * TICKS_PER_SIXTEENTH
        elif self._next_tick is None or self._next_tick < math.ceil(b0 * PPQN) - PPQN:
            self._next_tick = math.ceil(b0 * PPQN)  # (re)anchor: first block, jump
        while self._next_tick <= b1 * PPQN:
            beat = self._next_tick / PPQN
            if beat >= b0:
                sample = block.start + round((beat - b0) / (b1 - b0) * block.length)
                if not self._started:
                    self._started = True
                    self.sender.at(sample, lambda: self._send(mido.Message("start")))
                elif self._resume:
                    position = self._next_tick // TICKS_PER_SIXTEENTH  # in sixteenths
                    self.sender.at(sample, functools.partial(self._resume_at, position))
                self._resume = False
                self.sender.at(sample, self._tick)
            self._next_tick += 1

    def _resume_at(self, sixteenths: int) -> None:
        """Song Position Pointer (while stopped, as the spec wants) then Continue."""
        self._send(mido.Message("songpos", pos=min(sixteenths, MAX_SONG_POSITION)))
        self._send(mido.Message("continue"))

    def _tick(self) -> None:
        self._send(mido.Message("clock"))
        self.sent_ticks += 1

    # --- any thread ------------------------------------------------------------------------------
    def release_all(self) -> None:
        """Note-off for every sounding note, then All Notes Off on every layer channel."""
        with self._lock:
            sounding = list(self._sounding)
            self._sounding.clear()
        for channel, note in sounding:
            self._send(mido.Message("note_off", channel=channel, note=note))
        for channel in self._channels:
            self._send(
                mido.Message("control_change", channel=channel, control=ALL_NOTES_OFF, value=0)
            )

    def close(self) -> None:
        """Exit: stop the sender, release every note, stop the clock (sent immediately)."""
        self.sender.close()
        if self.notes_enabled:
            self.release_all()
        if self.clock_enabled and self._started and self._running:
            self._send(mido.Message("stop"))

    def _send(self, msg: mido.Message) -> None:
        safe_send(self.port, msg)
