"""Performer: one continuous timeline of music that moves between configs without a seam.

A performer owns the sounding engine(s). Two ways to change what plays:

* :meth:`glide_to` keeps the same engine and moves its continuous controls in a straight
  line over the transition (brightness, space, echo, tempo, density, ...). Nothing restarts:
  notes, phases, reverb and echo tails all carry on.
* :meth:`crossfade_to` starts a second engine on the new params and crossfades with an
  equal-power law (cos/sin, so the summed power stays constant) over the transition. The
  outgoing engine keeps running through the fade, so its tails and phases continue and die
  away naturally instead of being cut; it is dropped once inaudible.

At most two engines are ever alive: the one fading out and the one fading in. A crossfade
asked for while one is running waits as the *pending* change (a newer request replaces it),
and the outgoing engine's fade is shortened so the pending one starts soon: no earlier than
``MIN_HOLD_SECONDS`` after the running crossfade began, and at least ``QUICK_FADE_SECONDS``
after the request (a faster cut would click). A knob box flicking a style selector 30 times
a second therefore costs at most a few engine starts a second, and the last choice wins.

One beat grid runs through every transition: a new engine starts at the performance's
beat count and bar phase on the sample it joins (mid-bar if need be, see
:class:`~synth.conductor.Conductor`), so rhythm stays on the same beats, and a MIDI clock
or visuals following :meth:`Performer.beat_at` never see a jump. Only ``restart_beats``
(a DAW's Start: a new grid from beat 0) or ``at_beat`` (an external grid such as Ableton
Link's) moves it.

Changes apply at the next sample the caller pulls (live: ``BUILD_LEAD_SECONDS`` later, the
time the composer thread gets to build the new engine); gains are computed from absolute
sample positions, so the output does not depend on the block sizes used to pull it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from synth.conductor import new_buses
from synth.engine import GLIDE_SECONDS, QUANTUM, Engine
from synth.events import NoteEvent
from synth.params import SAMPLE_RATE, SynthParams

QUICK_FADE_SECONDS = 0.06  # shortest fade-out of an interrupted outgoing engine
# live: the render thread builds a new engine itself only if the composer has not after this
# long (a safety net: building there makes blocks late, so under load it meant dropouts)
BUILD_WAIT_SECONDS = 1.0
MIN_HOLD_SECONDS = 0.25  # a crossfade runs at least this long before a newer one starts
BUILD_LEAD_SECONDS = 0.03  # live: a crossfade starts this long after it is asked for
MAX_RETIRED = 2  # live: silent engines kept for the composer to release (see _retire)


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
    begin: int = 0  # first performance sample it sounds at (after ``offset`` if it began late)
    drums_until: int | None = None  # its rhythm was cut here (a crossfade to another tempo)

    held: list[NoteEvent] = field(default_factory=list)  # composed, not yet due

    def due_events(self, until: int) -> list[NoteEvent]:
        """This engine's events that start before performance sample ``until``.

        Engines compose about a bar ahead; their events are held until due, so a change made
        meanwhile still applies to them: a voice fading out drops notes that would start
        after it has gone silent, and one whose drums were cut drops their later hits.
        """
        new = self.engine.drain_events()
        if new:
            self.held.extend(replace(ev, start_sample=ev.start_sample + self.offset) for ev in new)
        if not self.held:
            return []
        end = None if self.fading_in else self.fade_start + self.fade_len
        out, keep = [], []
        for ev in self.held:
            start = ev.start_sample
            if start >= until:
                keep.append(ev)
            elif start < self.begin or (end is not None and start >= end):
                continue  # (before: composed for a stretch it skipped, having begun late)
            elif (
                self.drums_until is not None and ev.layer == "rhythm" and start >= self.drums_until
            ):
                continue
            else:
                out.append(ev)
        self.held = keep
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


@dataclass(frozen=True)
class _PendingFade:
    params: SynthParams
    seconds: float
    anchor: tuple[int, float] | None = None  # (performance sample, its beat): a grid to join


class _Build:
    """A crossfade's new engine, to start at performance sample ``origin`` on beat
    ``start_beat``; live, it is built and composed ahead on the composer thread.

    ``lock`` is held while building; the render thread only ever tries it without waiting.
    """

    def __init__(
        self, fade: _PendingFade, seed: int, requested_at: int, origin: int, start_beat: float
    ) -> None:
        self.fade = fade
        self.seed = seed
        self.requested_at = requested_at
        self.origin = origin
        self.start_beat = start_beat
        self.engine: Engine | None = None
        self.lock = threading.Lock()

    def try_build(self, make: Callable[[SynthParams, int, float], Engine]) -> None:
        """Build the engine unless it exists or another thread is building it right now."""
        if self.engine is None and self.lock.acquire(blocking=False):
            try:
                if self.engine is None:
                    self.engine = make(self.fade.params, self.seed, self.start_beat)
            finally:
                self.lock.release()


class Performer:
    """Renders a continuous stream across config changes (see module docstring).

    ``quantum`` and ``knob_seconds`` are passed to every engine (see
    :class:`~synth.engine.Engine`). ``live=True`` is for real-time use: engines reuse two
    sets of pre-touched layer buses (a fresh 24 MB would page-fault inside render blocks),
    and a crossfade's new engine is built and its first bars composed by whoever calls
    :meth:`compose_ahead` (a background thread), so the render thread only mixes. The
    crossfade then starts at the first block after the engine is ready (within a few ms;
    the render thread builds it itself if nobody has after ``BUILD_WAIT_SECONDS``).
    """

    def __init__(
        self,
        params: SynthParams,
        seed: int = 0,
        sample_rate: int = SAMPLE_RATE,
        *,
        quantum: int = QUANTUM,
        knob_seconds: float = GLIDE_SECONDS,
        live: bool = False,
    ):
        self.sample_rate = sample_rate
        self.seed = int(seed)
        self.quantum = quantum
        self.knob_seconds = knob_seconds
        self.live = live
        self._spare: list[NDArray[np.float32]] = []
        self._retired: list[Engine] = []  # live: silent engines whose buses are not back yet
        if live:
            self._spare = [new_buses(touch=True), new_buses(touch=True)]
        self._voices = [_Voice(self._engine(params, self.seed, 0.0), 0, 0, 1, True)]
        self._changes = 0
        self._pending: _PendingFade | None = None
        self._build: _Build | None = None
        self.position = 0
        self._events: list[NoteEvent] = []
        self.engines_started = 1  # for tests and the soak benchmark
        self.render_thread_builds = 0  # live: engines the render thread had to build itself

    def _engine(self, params: SynthParams, seed: int, start_beat: float) -> Engine:
        return Engine(
            params,
            seed,
            self.sample_rate,
            quantum=self.quantum,
            knob_seconds=self.knob_seconds,
            buses=self._spare.pop() if self._spare else None,
            start_beat=start_beat,
        )

    @property
    def engines_alive(self) -> int:
        """Engines in memory now: the sounding ones plus one being built (at most 2)."""
        return len(self._voices) + (self._build is not None)

    @property
    def pending(self) -> bool:
        """A crossfade is waiting for the running one to make room."""
        return self._pending is not None or self._build is not None

    @property
    def engine(self) -> Engine:
        """The engine that is (or is becoming) the sounding one."""
        return self._voices[-1].engine

    @property
    def params(self) -> SynthParams:
        """The params the performance is heading for (a pending crossfade's, if any)."""
        if self._pending is not None:
            return self._pending.params
        if self._build is not None:
            return self._build.fade.params
        return self.engine.params

    def beat_at(self, position: int) -> float:
        """Musical position (beats) of a performance sample, as the sounding engine counts.

        Beats continue across crossfades (a new engine starts at the old one's beat count).
        """
        voice = self._voices[-1]
        return voice.engine.beat_at(position - voice.offset)

    def glide_to(self, params: SynthParams, seconds: float) -> None:
        """Move continuous controls to ``params`` over ``seconds`` on the sounding engine.

        While a crossfade is pending or being prepared, the glide is folded into it (it
        will start on ``params``), so the newest values always win.
        """
        if self._pending is not None:
            self._pending = replace(self._pending, params=params)
            return
        if self._build is not None:
            self._build.fade = replace(self._build.fade, params=params)
            return
        self.engine.set_params(params, glide_seconds=max(0.0, seconds) or None)

    def crossfade_to(
        self,
        params: SynthParams,
        seconds: float,
        *,
        restart_beats: bool = False,
        at_beat: float | None = None,
    ) -> None:
        """Start a new engine on ``params`` and crossfade to it over ``seconds``.

        ``restart_beats`` starts the beat count (and the new engine's bars) at 0 on this
        sample, e.g. when a DAW sends MIDI Start: its bar 1 becomes our bar 1. ``at_beat``
        moves the grid so that this sample is that beat (joining an external grid); the
        new engine's tempo carries it on from there.

        During a running crossfade this becomes the pending change (see the module
        docstring); it starts when the outgoing engine has gone.
        """
        beat = 0.0 if restart_beats else at_beat
        anchor = None if beat is None else (self.position, max(0.0, float(beat)))
        if len(self._voices) > 1 or self._build is not None:
            if anchor is None and self._pending is not None:
                anchor = self._pending.anchor
            self._pending = _PendingFade(params, seconds, anchor)
            if len(self._voices) > 1:
                self._hurry_outgoing()
            return
        self._request(_PendingFade(params, seconds, anchor))

    def compose_ahead(self, ahead: int) -> None:
        """Compose every engine's bars ``ahead`` samples early, and build a requested engine.

        For a live performance's composer thread (safe to call while :meth:`render` runs).
        """
        self._release_retired()  # first: a build below takes its buses from the spares
        build = self._build
        if build is not None:
            build.try_build(lambda p, seed, beat: self._composed_engine(p, seed, beat, ahead))
        for voice in list(self._voices):
            voice.engine.compose(ahead)

    def _composed_engine(self, params: SynthParams, seed: int, beat: float, ahead: int) -> Engine:
        engine = self._engine(params, seed, beat)
        engine.compose(ahead)
        return engine

    def _request(self, fade: _PendingFade) -> None:
        self._changes += 1
        seed = (self.seed * 1_000_003 + self._changes) % (2**31)
        lead = round(BUILD_LEAD_SECONDS * self.sample_rate) if self.live else 0
        origin = self.position + lead
        if fade.anchor is None:  # the running grid goes on
            beat = max(0.0, self.beat_at(origin))
        else:  # the grid asked for, carried on to the origin at the new tempo
            at_sample, at_beat = fade.anchor
            spb = 60.0 / fade.params.bpm
            beat = max(0.0, at_beat + (origin - at_sample) / (spb * self.sample_rate))
        self._build = _Build(fade, seed, self.position, origin, beat)
        if not self.live:
            self._build.engine = self._engine(fade.params, seed, beat)
            self._start_build()

    def _start_build(self) -> None:
        """Start the built engine's crossfade at its origin (or build it here if nobody has
        in time); an engine ready late skips what it missed, so it stays on the grid."""
        build = self._build
        if build is None or self.position < build.origin:
            return
        if build.engine is None:
            waited = self.position - build.requested_at
            if waited < BUILD_WAIT_SECONDS * self.sample_rate:
                return
            build.try_build(lambda p, seed, beat: self._composed_engine(p, seed, beat, 0))
            self.render_thread_builds += build.engine is not None
        engine = build.engine
        if engine is None:
            return  # the composer is building it right now
        if engine.params is not build.fade.params:  # knobs moved while it was being built
            engine.set_params(build.fade.params)
        self._build = None
        origin = build.origin
        if self.position > origin and build.fade.anchor is None:
            # ready late: the old grid ran on meanwhile (maybe at another tempo), so the new
            # engine joins at the beat heard now, not where the plan would have put it
            joined = engine.sample_at(self.beat_at(self.position))
            origin = self.position - max(0, round(joined))
        engine.skip(self.position - origin)
        self._start_crossfade(build.fade, engine, origin)

    def _hurry_outgoing(self) -> None:
        """Shorten the outgoing engine's fade so the pending crossfade can start soon."""
        outgoing, incoming = self._voices[0], self._voices[-1]
        quick = round(QUICK_FADE_SECONDS * self.sample_rate)
        hold = round(MIN_HOLD_SECONDS * self.sample_rate)
        end = max(self.position + quick, incoming.fade_start + hold)
        if end < outgoing.fade_start + outgoing.fade_len:
            outgoing.level = outgoing.gain_at(self.position)
            outgoing.fade_start, outgoing.fade_len = self.position, max(1, end - self.position)

    def _start_crossfade(self, fade: _PendingFade, engine: Engine, origin: int) -> None:
        """Fade ``engine`` in from now; its sample 0 is performance sample ``origin``."""
        self.engines_started += 1
        length = max(1, round(max(fade.seconds, 0.005) * self.sample_rate))
        bpm = engine.params.bpm
        for voice in self._voices:
            if voice.fading_in:  # the sounding voice leaves from the level it has reached
                voice.level = voice.gain_at(self.position)
                voice.fading_in = False
                voice.fade_start, voice.fade_len = self.position, length
            old = voice.engine
            tempos = old.tempos_from(self.position - voice.offset)
            if voice.drums_until is None and any(abs(b - bpm) > 1e-3 * bpm for b in tempos):
                # two tempos' drums overlapping would put hits off the one grid (the old one
                # may still be in a bar composed mid-glide): the old engine's rhythm stops
                # here (pads and tails still fade out over the crossfade)
                old.set_params(old.params.with_values(rhythm="none"))
                voice.drums_until = self.position
        self._voices.append(
            _Voice(engine, origin, self.position, length, True, begin=self.position)
        )

    def render(self, n: int) -> NDArray[np.float32]:
        """The next ``n`` samples of the performance (float32, within [-1, 1]).

        A pending crossfade starts on the exact sample the outgoing engine goes silent, so
        the output does not depend on the block sizes used to pull it.
        """
        if self._pending is None and self._build is None:
            return self._render_piece(n)
        out = np.empty(n, dtype=np.float32)
        done = 0
        while done < n:
            self._start_build()
            take = n - done
            if self._build is not None and self.position < self._build.origin:
                take = min(take, self._build.origin - self.position)
            if self._pending is not None and len(self._voices) > 1:
                outgoing = self._voices[0]
                take = min(take, max(1, outgoing.fade_start + outgoing.fade_len - self.position))
            out[done : done + take] = self._render_piece(take)
            done += take
            if self._pending is not None and len(self._voices) == 1 and self._build is None:
                pending, self._pending = self._pending, None
                self._request(pending)
        return out

    def _render_piece(self, n: int) -> NDArray[np.float32]:
        out = np.zeros(n, dtype=np.float32)
        for voice in self._voices:
            block = voice.engine.render(n)
            self._events.extend(voice.due_events(self.position + n))
            gain = voice.gains(self.position, n)
            if isinstance(gain, float):
                if gain > 0.0:
                    out += block if gain == 1.0 else block * np.float32(gain)
            else:
                out += block * gain
        self.position += n
        if any(v.finished(self.position) for v in self._voices):
            for voice in self._voices:
                if voice.finished(self.position) and self.live:
                    self._retire(voice.engine)
            self._voices = [v for v in self._voices if not v.finished(self.position)]
        np.clip(out, -1.0, 1.0, out=out)
        return out

    def _retire(self, engine: Engine) -> None:
        """A live engine has gone silent: its buses go back to the spares on the composer
        thread (:meth:`compose_ahead`), since releasing them waits for the engine's compose
        lock, which the composer may hold for tens of ms while it writes that engine's next
        bar. Only if nobody composes (no composer thread) are they released here."""
        self._retired.append(engine)
        if len(self._retired) > MAX_RETIRED:
            self._release_retired(keep=MAX_RETIRED)

    def _release_retired(self, keep: int = 0) -> None:
        """Release retired engines' buses into the spares (either thread may be first)."""
        while len(self._retired) > keep:
            try:
                engine = self._retired.pop(0)
            except IndexError:  # the other thread took the last one
                return
            self._spare.append(engine.release_buses())

    def drain_events(self) -> list[NoteEvent]:
        """Note events that start in the samples rendered since the last call (every
        sounding engine's, in engine order; held back until due, see ``_Voice.due_events``)."""
        events, self._events = self._events, []
        return events
