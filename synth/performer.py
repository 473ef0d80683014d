"""Performer: one continuous timeline of music that moves between configs without a seam.

A performer owns the sounding engine(s). Two ways to change what plays:

* :meth:`glide_to` keeps the same engine and moves its continuous controls in a straight
  line over the transition (brightness, space, echo, tempo, density, ...). Nothing restarts:
  notes, phases, reverb and echo tails all carry on.
* :meth:`crossfade_to` starts a second engine on the new params and crossfades with an
  equal-power law (cos/sin, so the summed power stays constant) over the transition. The
  outgoing engine keeps running through the fade, so its tails and phases continue and die
  away naturally instead of being cut; it is dropped once inaudible.

Changes apply at the next sample the caller pulls; gains are computed from absolute sample
positions, so the output does not depend on the block sizes used to pull it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from synth.engine import Engine
from synth.events import NoteEvent
from synth.params import SAMPLE_RATE, SynthParams


@dataclass
class _Voice:
    """An engine and its fade: gain rises (fade in) or falls (fade out) between two samples.

    ``offset`` is where the engine's own sample 0 sits on the performance timeline; ``level``
    is the gain a fade-out starts from (a voice interrupted while fading in leaves from
    wherever it had reached, so the gain never jumps).
    """

    engine: Engine
    offset: int
    fade_start: int
    fade_len: int
    fading_in: bool
    level: float = 1.0
    beat_offset: float = 0.0  # the performance's beat count when this engine started

    def local_events(self) -> list[NoteEvent]:
        """This engine's new events on the performance timeline (samples and beats).

        A voice fading out drops notes that would start after it has gone silent (engines
        schedule about a bar ahead, so a few such notes exist at every crossfade).
        """
        end = None if self.fading_in else self.fade_start + self.fade_len
        out = []
        for ev in self.engine.drain_events():
            start = ev.start_sample + self.offset
            if end is not None and start >= end:
                continue
            out.append(replace(ev, start_sample=start, start_beat=ev.start_beat + self.beat_offset))
        return out

    def gain_at(self, position: int) -> float:
        frac = min(1.0, max(0.0, (position - self.fade_start) / self.fade_len))
        if self.fading_in:
            return math.sin(frac * math.pi / 2)
        return self.level * math.cos(frac * math.pi / 2)

    def gains(self, start: int, n: int) -> NDArray[np.float32] | float:
        if start >= self.fade_start + self.fade_len or start + n <= self.fade_start:
            return self.gain_at(start)  # constant over this block
        pos = (np.arange(start, start + n, dtype=np.float64) - self.fade_start) / self.fade_len
        angle = np.clip(pos, 0.0, 1.0) * (math.pi / 2)
        if self.fading_in:
            return np.sin(angle).astype(np.float32)
        return (self.level * np.cos(angle)).astype(np.float32)

    def finished(self, position: int) -> bool:
        return not self.fading_in and position >= self.fade_start + self.fade_len


class Performer:
    """Renders a continuous stream across config changes (see module docstring)."""

    def __init__(self, params: SynthParams, seed: int = 0, sample_rate: int = SAMPLE_RATE):
        self.sample_rate = sample_rate
        self.seed = int(seed)
        self._voices = [_Voice(Engine(params, self.seed, sample_rate), 0, 0, 1, True)]
        self._changes = 0
        self.position = 0
        self._events: list[NoteEvent] = []

    @property
    def engine(self) -> Engine:
        """The engine that is (or is becoming) the sounding one."""
        return self._voices[-1].engine

    @property
    def params(self) -> SynthParams:
        return self.engine.params

    def beat_at(self, position: int) -> float:
        """Musical position (beats) of a performance sample, as the sounding engine counts.

        Beats continue across crossfades (a new engine starts at the old one's beat count).
        """
        voice = self._voices[-1]
        return voice.beat_offset + voice.engine.beat_at(position - voice.offset)

    def glide_to(self, params: SynthParams, seconds: float) -> None:
        """Move continuous controls to ``params`` over ``seconds`` on the sounding engine."""
        self.engine.set_params(params, glide_seconds=max(0.0, seconds) or None)

    def crossfade_to(
        self, params: SynthParams, seconds: float, *, restart_beats: bool = False
    ) -> None:
        """Start a new engine on ``params`` and crossfade to it over ``seconds``.

        ``restart_beats`` starts the beat count (and the new engine's bars) at 0 on this
        sample, e.g. when a DAW sends MIDI Start: its bar 1 becomes our bar 1.
        """
        self._changes += 1
        length = max(1, round(max(seconds, 0.005) * self.sample_rate))
        current = self._voices[-1]
        beat = current.beat_offset + current.engine.beat_at(self.position - current.offset)
        if restart_beats:
            beat = 0.0
        for voice in self._voices:
            if voice.fading_in:  # the sounding voice leaves from the level it has reached
                voice.level = voice.gain_at(self.position)
                voice.fading_in = False
                voice.fade_start, voice.fade_len = self.position, length
        seed = (self.seed * 1_000_003 + self._changes) % (2**31)
        engine = Engine(params, seed, self.sample_rate)
        self._voices.append(
            _Voice(engine, self.position, self.position, length, True, beat_offset=beat)
        )

    def render(self, n: int) -> NDArray[np.float32]:
        """The next ``n`` samples of the performance (float32, within [-1, 1])."""
        out = np.zeros(n, dtype=np.float32)
        for voice in self._voices:
            block = voice.engine.render(n)
            self._events.extend(voice.local_events())
            gain = voice.gains(self.position, n)
            if isinstance(gain, float):
                if gain > 0.0:
                    out += block if gain == 1.0 else block * np.float32(gain)
            else:
                out += block * gain
        self.position += n
        self._voices = [v for v in self._voices if not v.finished(self.position)]
        np.clip(out, -1.0, 1.0, out=out)
        return out

    def drain_events(self) -> list[NoteEvent]:
        """Note events scheduled since the last call (from every sounding engine)."""
        events, self._events = self._events, []
        return events
