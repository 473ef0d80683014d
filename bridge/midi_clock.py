"""ClockFollower: an external MIDI clock (``--clock in``) steering tempo, play and stop.

A DAW sends 24 clock messages per quarter note. The follower timestamps them on arrival and
fits a straight line through the last four beats of ticks (once one beat is in): its slope is
the tempo, free of the jitter single arrivals have (USB, drivers, a busy thread). The
estimate is smoothed exponentially and handed to the engine when it drifts more than
``threshold_bpm`` from the last one applied (the engine takes an exact BPM at once, so the
threshold is small: a 0.1 BPM error would move the beat 1 ms per beat). A gap
longer than ``gap_seconds`` (the DAW stopped sending clock) restarts the estimate.

Start and Continue play; Stop stops. The engine plays any tempo in 40..200 BPM exactly; a
tempo outside is folded by octaves (240 BPM plays at 120, half time; 30 at 60, double time),
which keeps the beat aligned with the DAW's, and only then clamped.

Phase: on Start (play from the top) the daemon crossfades, in 50 ms, to a fresh engine whose
bar 1 begins on that sample, so the DAW's bar 1 and ours coincide; from there the locked
tempo keeps the grids together. A Song Position Pointer (the DAW starting mid-song) followed
by Continue does the same at the pointer's beat (sixteenths / 4), so our bar and beat are
the DAW's; a bare Continue resumes without touching the grid.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bridge.midi_notes import PPQN
from synth.params import BPM_RANGE

TEMPO_MIN, TEMPO_MAX = BPM_RANGE


def fold_bpm(bpm: float) -> float:
    """Fold ``bpm`` by octaves into the engine's BPM range, then clamp."""
    if bpm <= 0:
        return TEMPO_MIN
    while bpm > TEMPO_MAX:
        bpm /= 2.0
    while bpm < TEMPO_MIN:
        bpm *= 2.0
    return min(TEMPO_MAX, max(TEMPO_MIN, bpm))


@dataclass
class ClockEvent:
    """What the follower asks the daemon to do: a tempo (BPM), or ``play`` / ``stop``."""

    kind: str
    bpm: float = 0.0
    from_top: bool = False  # play from the beginning (MIDI Start, not Continue)
    at: float = 0.0  # monotonic time the message (play: the Start; align: a tick) arrived
    beat: float = 0.0  # the DAW's song beat at ``at`` (play: where Start/Continue began)


class ClockFollower:
    """Turns clock, start, continue and stop messages into :class:`ClockEvent` calls."""

    def __init__(
        self,
        on_event: Callable[[ClockEvent], None],
        *,
        window: int = PPQN,
        history: int = 4 * PPQN,
        smoothing: float = 0.3,
        threshold_bpm: float = 0.02,
        gap_seconds: float = 0.5,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.on_event = on_event
        self.window = window
        self.smoothing = smoothing
        self.threshold_bpm = threshold_bpm
        self.gap_seconds = gap_seconds
        self.now = now
        self._ticks: deque[float] = deque(maxlen=max(window, history) + 1)
        self.bpm: float | None = None  # smoothed estimate
        self.applied: float | None = None  # last tempo handed to the engine
        self._since_start: int | None = None  # ticks since Start, until the first alignment
        self._start_beat = 0.0  # the song beat Start or Continue began at
        self._song_position: int | None = None  # sixteenths, from a pointer not yet used

    def handle(self, kind: str, at: float | None = None, position: int = 0) -> None:
        """Feed one message type (``clock``, ``start``, ``continue``, ``stop``, ``songpos``
        with its ``position`` in sixteenths)."""
        at = self.now() if at is None else at
        if kind == "clock":
            self._tick(at)
        elif kind == "songpos":
            self._song_position = max(0, int(position))
        elif kind == "start" or (kind == "continue" and self._song_position is not None):
            self._start_beat = (self._song_position or 0) / 4.0 if kind == "continue" else 0.0
            self._song_position = None
            self._ticks.clear()
            self._since_start = 0
            event = ClockEvent("play", from_top=True, at=at, beat=self._start_beat)
            self.on_event(event)
        elif kind == "continue":
            self._ticks.clear()
            self._since_start = None
            self.on_event(ClockEvent("play", from_top=False, at=at))
        elif kind == "stop":
            self.on_event(ClockEvent("stop"))

    def _fit(self) -> tuple[float, float]:
        """(seconds per tick, when the last tick was sent) by a least-squares line through
        the arrivals: one arrival can be late by a driver period or a busy thread; the line
        averages that out."""
        times = list(self._ticks)
        n = len(times)
        mean_k, mean_t = (n - 1) / 2, sum(times) / n
        cov = sum((k - mean_k) * (t - mean_t) for k, t in enumerate(times))
        var = sum((k - mean_k) ** 2 for k in range(n))
        slope = cov / var if var else 0.0
        return slope, min(times[-1], mean_t + slope * (n - 1 - mean_k))

    def _tick(self, at: float) -> None:
        if self._ticks and at - self._ticks[-1] > self.gap_seconds:
            self._ticks.clear()
        self._ticks.append(at)
        if self._since_start is not None:
            self._since_start += 1
        if len(self._ticks) < self.window + 1:
            return
        per_tick, last = self._fit()
        if per_tick <= 0:
            return
        estimate = 60.0 / (per_tick * PPQN)
        if self.bpm is None:
            self.bpm = estimate
        else:
            self.bpm += self.smoothing * (estimate - self.bpm)
        if self._since_start in (self.window + 1, self._ticks.maxlen):
            # one beat after Start: tempo and phase at once (close: the line has one beat);
            # once the line spans the whole history, again, exactly (a 1 % tempo error over
            # that first beat would leave the grid 1 % of a beat off for the whole take)
            # (the first tick after Start is beat 0; this one is tick n - 1 of the song)
            assert self._since_start is not None
            beat = self._start_beat + (self._since_start - 1) / PPQN
            if self._since_start == self._ticks.maxlen:
                self._since_start = None
            self.applied = self.bpm = estimate
            self.on_event(ClockEvent("align", estimate, at=last, beat=beat))
            return
        if self.applied is None or abs(self.bpm - self.applied) >= self.threshold_bpm:
            self.applied = self.bpm
            self.on_event(ClockEvent("tempo", self.bpm))
