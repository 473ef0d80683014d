"""Music theory: scales, diatonic chords and an evolving chord plan.

Everything pitched goes through :class:`Scale`, so every note any layer plays is in the
configured root and mode. Chords are built from scale degrees (0-based: 0 = tonic), so the
same progression works in every mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.params import MODES


@dataclass(frozen=True)
class Scale:
    """A root pitch class (0 = C) and a mode; converts scale degrees to MIDI pitches."""

    root: int
    mode: str

    @property
    def intervals(self) -> tuple[int, ...]:
        return MODES[self.mode]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root + iv) % 12 for iv in self.intervals)

    def pitch(self, degree: int, octave: int = 4) -> int:
        """MIDI pitch of a (possibly negative or > 6) scale degree; octave 4 holds middle C."""
        octs, step = divmod(degree, 7)
        return 12 * (octave + 1 + octs) + self.root + self.intervals[step]

    def degree_near(self, pitch: float) -> int:
        """Scale degree (octave 4 relative) whose pitch is closest to ``pitch``."""
        base = self.pitch(0, 4)
        guess = int(round((pitch - base) * 7 / 12))
        best = min(range(guess - 2, guess + 3), key=lambda d: abs(self.pitch(d, 4) - pitch))
        return best

    def snap(self, pitch: float) -> int:
        """Nearest in-scale MIDI pitch."""
        return self.pitch(self.degree_near(pitch), 4)

    def chord(self, root_degree: int, size: int = 3, octave: int = 3) -> list[int]:
        """Diatonic tertian chord (stacked thirds) on a degree: triad, seventh, ninth..."""
        return [self.pitch(root_degree + 2 * i, octave) for i in range(size)]


# Progressions as scale degrees, one chord per entry. Chosen so that they work in all four
# modes (diatonic), and grouped by character; the planner mixes them under the seed.
PROGRESSIONS: tuple[tuple[int, ...], ...] = (
    (0, 5, 3, 4),  # i  vi  iv  v
    (0, 3, 0, 4),  # i  iv  i   v
    (0, 5, 2, 6),  # i  vi  iii vii
    (0, 2, 3, 1),  # i  iii iv  ii
    (0, 6, 5, 6),  # modal pendulum
    (0, 3, 5, 4),  # i  iv  vi  v
    (0, 4, 5, 3),  # i  v   vi  iv
    (0, 0, 3, 3),  # slow drone-friendly
    (5, 3, 0, 4),  # vi iv  i   v
    (0, 1, 0, 6),  # i  ii  i   vii (dorian / mixolydian colour)
)


@dataclass(frozen=True)
class Chord:
    """The harmony of one bar: degree of the chord root and the scale it lives in."""

    degree: int
    scale: Scale

    def tones(self, size: int = 3, octave: int = 3) -> list[int]:
        return self.scale.chord(self.degree, size, octave)

    def root_pitch(self, octave: int = 2) -> int:
        return self.scale.pitch(self.degree, octave)


class HarmonyPlanner:
    """Chooses one chord per bar: 4-chord progressions, each held 1 or 2 bars, varied per phrase.

    Deterministic under its RNG. The plan never loops verbatim: each 8- or 16-bar phrase
    picks a progression, a chord rhythm and occasionally substitutes one chord.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._queue: list[int] = []

    def next_degree(self, bars_per_chord_hint: float = 1.0) -> int:
        """Degree for the next bar. ``bars_per_chord_hint`` > 1 holds chords longer (slow music)."""
        if not self._queue:
            self._queue = self._phrase(bars_per_chord_hint)
        return self._queue.pop(0)

    def _phrase(self, hint: float) -> list[int]:
        rng = self._rng
        prog = list(PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))])
        if rng.random() < 0.35:  # one substitution keeps phrases from repeating exactly
            i = int(rng.integers(1, len(prog)))
            prog[i] = int((prog[i] + rng.choice([2, 5])) % 7)
        hold = 2 if rng.random() < min(0.9, 0.3 * hint) else 1
        return [d for d in prog for _ in range(hold)]
