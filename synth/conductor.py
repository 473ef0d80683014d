"""Conductor: turns bars of score into rendered notes on per-layer buses, ahead of the playhead.

The conductor owns musical time. Bar by bar, a little ahead of the audio, it picks the chord
(HarmonyPlanner), asks every sounding layer style for that bar's events, humanises them
(timing jitter and drift, velocity spread: the ``human`` control), fixes each event's sample
position against the tempo in force when the bar was written, renders each note with its
voice and adds the samples into that layer's ring-buffer bus. The engine reads the buses one
quantum at a time.

Style, mode and root changes take effect at the next bar line (music changes on the bar, and
notes already sounding ring out); continuous controls are read fresh at every bar.

A live engine composes on a background thread while the render thread reads the buses, so
what both touch (bus samples at and after the read position, the new-event list and the bar
list) is guarded by :attr:`Conductor.lock`, held for microseconds per note. A note that would
start before :attr:`Conductor.read_floor` (already read by the engine: the composer was
late) starts at the floor instead of being lost, except a drum hit more than 1 ms late,
which is dropped: played late it would be off the beat grid.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from synth.effects.ring import ring_add, ring_write
from synth.events import NoteEvent
from synth.layers import LayerStyle, make_style
from synth.layers.base import BarContext, VoiceContext
from synth.params import LAYERS, SAMPLE_RATE, SynthParams
from synth.theory import Chord, HarmonyPlanner, Scale

BUS_SIZE = 1 << 20  # 23.8 s per layer: longest note + tail + lookahead must fit
MAX_NOTE_SECONDS = 16.0
BEATS_PER_BAR = 4
LATE_HIT_SAMPLES = 44  # 1 ms: a drum hit composed later than this after its time is dropped
TAIL_FADE_SAMPLES = 256  # a note joined mid-way (see Conductor start_beat) fades in this fast


def new_buses(*, touch: bool = False) -> NDArray[np.float32]:
    """Zeroed layer buses; ``touch`` writes every page now (a live engine must not take
    thousands of first-write page faults, about 1 ms per long note, inside a render block)."""
    buses = np.zeros((len(LAYERS), BUS_SIZE), dtype=np.float32)
    if touch:
        buses.fill(0.0)
    return buses


class Conductor:
    """Schedules and renders bars into ``buses`` (shape (layers, BUS_SIZE), float32)."""

    def __init__(
        self,
        seed: int,
        sample_rate: int = SAMPLE_RATE,
        buses: NDArray[np.float32] | None = None,
        start_beat: float = 0.0,
    ) -> None:
        """``buses``: an all-zero (layers, BUS_SIZE) array to reuse (see :func:`new_buses`).

        ``start_beat``: the musical position of sample 0 (a crossfade's new engine joins a
        running performance on its beat grid: sample 0 may fall mid-bar). Notes of that first
        bar which began before sample 0 are not played from their start; the part of them
        still sounding at sample 0 is (faded in over a few ms), without a note event.
        """
        self.sample_rate = sample_rate
        if buses is None:
            buses = new_buses()
        elif buses.shape != (len(LAYERS), BUS_SIZE) or buses.dtype != np.float32:
            raise ValueError(f"buses must be float32 {(len(LAYERS), BUS_SIZE)}, got {buses.shape}")
        self.buses: NDArray[np.float32] = buses
        seq = np.random.SeedSequence(seed)
        # independent streams per layer and purpose: switching one layer on or off (density)
        # or changing its style never reshuffles another layer's notes or timing
        n = len(LAYERS)
        children = [np.random.default_rng(c) for c in seq.spawn(3 * n + 2)]
        self._score_rng = children[:n]
        self._voice_rng = children[n : 2 * n]
        self._human_rngs = children[2 * n : 3 * n]
        self._drift_rng = children[-2]
        self._harmony = HarmonyPlanner(children[-1])
        self._styles: dict[str, LayerStyle] = {}
        if not start_beat >= 0.0:
            raise ValueError(f"start_beat must be >= 0, got {start_beat}")
        self.start_beat = float(start_beat)
        self._bar = int(start_beat // BEATS_PER_BAR)
        self._phase = start_beat - self._bar * BEATS_PER_BAR  # beats of bar 1 before sample 0
        self.join_sample = 0  # notes begun before this are joined mid-way (see skip_to)
        self._bar_sample = 0.0  # sample position of the next bar to schedule
        self._drift = 0.0  # slow timing drift in seconds ("loose"/"drunk" feel)
        self._next_degree: int | None = None
        self.new_events: list[NoteEvent] = []
        # per layer: first sample after the last note written (buses are zero beyond it)
        self.bus_end = [0] * len(LAYERS)
        self.bar_starts: list[tuple[int, float, float]] = []  # (sample, beat, seconds/beat)
        self.lock = threading.Lock()  # bus writes vs reads, new_events, bar_starts
        self.read_floor = 0  # the engine has read the buses up to here (set under the lock)

    @property
    def scheduled_until(self) -> float:
        """Sample position of the next bar to be written (bars before it are composed)."""
        return self._bar_sample

    def take_events(self) -> list[NoteEvent]:
        """Note events written since the last call."""
        with self.lock:
            events, self.new_events = self.new_events, []
        return events

    def beat_at(self, sample: int) -> float:
        """Musical position (beats) of a sample, from the bars written so far."""
        with self.lock:
            for start, beat, spb in reversed(self.bar_starts):
                if sample >= start:
                    return beat + (sample - start) / (spb * self.sample_rate)
        return self.start_beat

    def sample_at(self, beat: float) -> float:
        """The sample position of musical position ``beat`` (inverse of :meth:`beat_at`;
        past the bars written so far, at the last bar's tempo)."""
        with self.lock:
            for start, bar_beat, spb in reversed(self.bar_starts):
                if beat >= bar_beat:
                    return start + (beat - bar_beat) * spb * self.sample_rate
        return 0.0

    def tempos_from(self, sample: int) -> list[float]:
        """Seconds per beat of the written bar that holds ``sample`` and of every later one
        (a tempo glide writes each bar at the tempo in force when it was composed)."""
        with self.lock:
            spbs: list[float] = []
            for start, _, spb in reversed(self.bar_starts):
                spbs.append(spb)
                if start <= sample:
                    break
        return spbs

    def skip_to(self, sample: int) -> None:
        """Nothing before ``sample`` will be read: clear what was written there, and join
        notes composed later that begin before it mid-way (see ``start_beat``)."""
        with self.lock:
            for li, end in enumerate(self.bus_end):
                m = min(sample, end, BUS_SIZE)
                if m > 0:
                    self.buses[li, :m] = 0.0
            self.read_floor = sample
            self.join_sample = sample

    def release_buses(self, read_pos: int) -> NDArray[np.float32]:
        """Zero what is still written ahead of ``read_pos`` and hand the buses over for reuse.

        Only the written stretch is cleared (notes ahead plus their tails), not 24 MB.
        """
        for li, end in enumerate(self.bus_end):
            n = min(BUS_SIZE, end - read_pos)
            if n > 0:
                ring_write(self.buses[li], read_pos, np.zeros(n, dtype=np.float32))
        self.bus_end = [0] * len(LAYERS)
        return self.buses

    def style(self, layer: str) -> LayerStyle | None:
        return self._styles.get(layer)

    def schedule_until(self, limit_sample: int, params: SynthParams, floor_sample: int) -> None:
        """Write every bar that starts before ``limit_sample``; no onset earlier than floor."""
        while self._bar_sample < limit_sample:
            self._schedule_bar(params, floor_sample)

    def _schedule_bar(self, p: SynthParams, floor_sample: int) -> None:
        spb = 60.0 / p.bpm
        scale = Scale(p.root, p.mode)
        slow_hint = 2.0 if p.bpm < 75 else 1.0
        degree = (
            self._next_degree
            if self._next_degree is not None
            else self._harmony.next_degree(slow_hint)
        )
        self._next_degree = self._harmony.next_degree(slow_hint)
        if self._phase > 0.0:  # the first bar began before sample 0 (see start_beat)
            self._bar_sample -= self._phase * spb * self.sample_rate
            self._phase = 0.0
        bar_start_beat = float(self._bar * BEATS_PER_BAR)
        with self.lock:
            self.bar_starts.append((int(round(self._bar_sample)), bar_start_beat, spb))
            if len(self.bar_starts) > 64:
                del self.bar_starts[:32]
        jitter_s = p.timing_jitter_s
        # drift: a bounded random walk per bar, scaled by looseness
        self._drift = 0.7 * self._drift + self._drift_rng.normal(0.0, 0.6 * jitter_s)
        for li, layer in enumerate(LAYERS):
            name = p.styles.get(layer, "none")
            if p.layer_gain(layer) <= 0.0 or name == "none":
                continue  # silent layers keep their old instance (and memory) until needed
            style = self._styles.get(layer)
            if style is None or style.name != name:
                style = make_style(layer, name)
                self._styles[layer] = style
            ctx = BarContext(
                bar=self._bar,
                start_beat=bar_start_beat,
                beats_per_bar=BEATS_PER_BAR,
                chord=Chord(degree, scale),
                next_chord=Chord(self._next_degree, scale),
                scale=scale,
                params=p,
                rng=self._score_rng[li],
                seconds_per_beat=spb,
            )
            events = style.bar(ctx)
            if not events:
                continue
            vctx = VoiceContext(params=p, rng=self._voice_rng[li], seconds_per_beat=spb)
            self._render_events(li, style, events, vctx, bar_start_beat, floor_sample)
        self._bar += 1
        self._bar_sample += BEATS_PER_BAR * spb * self.sample_rate

    def _render_events(
        self,
        li: int,
        style: LayerStyle,
        events: list[NoteEvent],
        vctx: VoiceContext,
        bar_start_beat: float,
        floor_sample: int,
    ) -> None:
        p = vctx.params
        spb = vctx.seconds_per_beat
        sr = self.sample_rate
        n_ev = len(events)
        rng = self._human_rngs[li]
        jit = p.timing_jitter_s
        # plain Python floats below: per-event numpy scalar maths costs more than it saves
        offsets: list[float] = (
            (np.clip(rng.normal(0.0, jit, n_ev), -2.5 * jit, 2.5 * jit) + self._drift).tolist()
            if jit > 0
            else [0.0] * n_ev
        )
        vel_scale: list[float] = (
            np.clip(1.0 + rng.normal(0.0, p.velocity_spread, n_ev), 0.3, 1.4).tolist()
            if p.velocity_spread > 0
            else [1.0] * n_ev
        )
        max_len = int(MAX_NOTE_SECONDS * sr)
        bar_sample = self._bar_sample
        layer_is_rhythm = LAYERS[li] == "rhythm"
        for ev, off, vs in zip(events, offsets, vel_scale, strict=True):
            start_s = (ev.start_beat - bar_start_beat) * spb + off
            start = int(round(bar_sample + start_s * sr))
            join = self.join_sample
            if start < join and (join > 0 or ev.start_beat < self.start_beat):
                self._render_tail(li, style, ev, start, vctx)  # began before this engine
                continue
            start = max(floor_sample, start)
            beat = bar_start_beat + (start - bar_sample) / (spb * sr)
            event = NoteEvent(
                layer=ev.layer,
                start_beat=beat,
                duration_beats=ev.duration_beats,
                pitch=ev.pitch,
                velocity=float(min(1.0, ev.velocity * vs)),
                start_sample=start,
                voice=ev.voice,
            )
            sig = style.render(event, vctx)
            if sig.shape[0] > max_len:
                sig = sig[:max_len].copy()
                fade = int(0.01 * sr)
                sig[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
            with self.lock:
                if start < self.read_floor:  # composed late: the engine has read past it
                    if layer_is_rhythm and self.read_floor - start > LATE_HIT_SAMPLES:
                        continue  # a drum hit off the beat is worse than one missed
                    start = self.read_floor  # (a late pad or bass note still sounds)
                    beat = bar_start_beat + (start - bar_sample) / (spb * sr)
                    event = replace(event, start_sample=start, start_beat=beat)
                ring_add(self.buses[li], start, sig)
                self.bus_end[li] = max(self.bus_end[li], start + sig.shape[0])
                self.new_events.append(event)

    def _render_tail(
        self, li: int, style: LayerStyle, ev: NoteEvent, start: int, vctx: VoiceContext
    ) -> None:
        """Write the part of a note begun before :attr:`join_sample` still sounding after it."""
        join = self.join_sample
        sig = style.render(replace(ev, start_sample=start), vctx)
        tail = sig[join - start :]
        if tail.shape[0] == 0:
            return
        tail = tail[: int(MAX_NOTE_SECONDS * self.sample_rate)].copy()
        fade = min(tail.shape[0], TAIL_FADE_SAMPLES)
        tail[:fade] *= np.linspace(0.0, 1.0, fade, dtype=np.float32)
        with self.lock:
            ring_add(self.buses[li], join, tail)
            self.bus_end[li] = max(self.bus_end[li], join + tail.shape[0])
