"""ClockFollower: an external MIDI clock (``--clock in``) steering tempo, play and stop.

A DAW sends 24 clock messages per quarter note. The follower timestamps them on arrival,
estimates the tempo over the last beat's worth of ticks (a 24-tick window averages away
USB/driver jitter), smooths that estimate exponentially, and moves the engine's tempo axis
when the smoothed value drifts more than ``threshold_bpm`` from the last one applied. A gap
longer than ``gap_seconds`` (the DAW stopped sending clock) restarts the estimate.

Start and Continue play; Stop stops. The engine plays any tempo in 40..200 BPM exactly; a
tempo outside is folded by octaves (240 BPM plays at 120, half time; 30 at 60, double time),
which keeps the beat aligned with the DAW's, and only then clamped.

Phase: on Start (play from the top) the daemon crossfades, in 50 ms, to a fresh engine whose
bar 1 begins on that sample, so the DAW's bar 1 and ours coincide; from there the locked
tempo keeps the grids together. Continue resumes without touching the grid. Song Position
Pointer (starting mid-song) is not followed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bridge.midi_notes import PPQN
from synth.params import BPM_RANGE, bpm_to_tempo

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


def bpm_to_position(bpm: float) -> float:
    """The tempo axis position that plays ``bpm`` after folding (inverse of ``SynthParams.bpm``)."""
    return bpm_to_tempo(fold_bpm(bpm))


@dataclass
class ClockEvent:
    """What the follower asks the daemon to do: a tempo (BPM), or ``play`` / ``stop``."""

    kind: str
    bpm: float = 0.0
    from_top: bool = False  # play from the beginning (MIDI Start, not Continue)
    at: float = 0.0  # monotonic time the message (play: the Start; align: a tick) arrived
    beat: float = 0.0  # align: the DAW's beat at ``at`` (ticks since Start / 24)


class ClockFollower:
    """Turns clock, start, continue and stop messages into :class:`ClockEvent` calls."""

    def __init__(
        self,
        on_event: Callable[[ClockEvent], None],
        *,
        window: int = PPQN,
        smoothing: float = 0.3,
        threshold_bpm: float = 0.5,
        gap_seconds: float = 0.5,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.on_event = on_event
        self.window = window
        self.smoothing = smoothing
        self.threshold_bpm = threshold_bpm
        self.gap_seconds = gap_seconds
        self.now = now
        self._ticks: deque[float] = deque(maxlen=window + 1)
        self.bpm: float | None = None  # smoothed estimate
        self.applied: float | None = None  # last tempo handed to the engine
        self._since_start: int | None = None  # ticks since Start, until the first alignment

    def handle(self, kind: str, at: float | None = None) -> None:
        """Feed one message type (``clock``, ``start``, ``continue``, ``stop``)."""
        at = self.now() if at is None else at
        if kind == "clock":
            self._tick(at)
        elif kind in ("start", "continue"):
            self._ticks.clear()
            self._since_start = 0 if kind == "start" else None
            self.on_event(ClockEvent("play", from_top=kind == "start", at=at))
        elif kind == "stop":
            self.on_event(ClockEvent("stop"))

    def _fitted_last(self) -> float:
        """When the last tick was sent, by a straight line through the window's arrivals: one
        arrival can be late by a driver period or a busy thread; the line averages that out."""
        times = list(self._ticks)
        n = len(times)
        mean_k, mean_t = (n - 1) / 2, sum(times) / n
        cov = sum((k - mean_k) * (t - mean_t) for k, t in enumerate(times))
        var = sum((k - mean_k) ** 2 for k in range(n))
        slope = cov / var if var else 0.0
        return min(times[-1], mean_t + slope * (n - 1 - mean_k))

    def _tick(self, at: float) -> None:
        if self._ticks and at - self._ticks[-1] > self.gap_seconds:
            self._ticks.clear()
        self._ticks.append(at)
        if self._since_start is not None:
            self._since_start += 1
        if len(self._ticks) < self._ticks.maxlen:  # type: ignore[operator]
            return
        span = self._ticks[-1] - self._ticks[0]
        if span <= 0:
            return
        estimate = 60.0 * (len(self._ticks) - 1) / (span * PPQN)
        if self.bpm is None:
            self.bpm = estimate
        else:
            self.bpm += self.smoothing * (estimate - self.bpm)
        if self._since_start is not None:  # the first beat after Start: tempo and phase now
            # (the first tick after Start is beat 0; this one is tick n - 1 of the song)
            beat = (self._since_start - 1) / PPQN
            self._since_start = None
            self.applied = self.bpm = estimate
            self.on_event(ClockEvent("align", estimate, at=self._fitted_last(), beat=beat))
            return
        if self.applied is None or abs(self.bpm - self.applied) >= self.threshold_bpm:
            self.applied = self.bpm
            self.on_event(ClockEvent("tempo", self.bpm))
