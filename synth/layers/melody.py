"""Melody layer styles: phrase generators with motif memory, each on its own instrument.

Melodies think in scale degrees (octave-4 relative, so ``ctx.scale.pitch(deg, 4)`` is the
note): every pitch is in key by construction, strong beats gravitate to chord tones, and every
8-bar phrase breathes (rests at phrase ends) and cadences on a chord tone at phrase bar 7.
Each style keeps what it played (a motif, a cell, a contour position) and transforms it
(transposes, inverts, re-rhythms) from phrase to phrase, so the line develops instead of
looping.
"""

from __future__ import annotations

import numpy as np

from synth.layers._melody_base import Motif, Note, _Melody, random_motif
from synth.layers._pitched import (
    Osc,
    Struck,
    chord_degree_set,
    nearest_degree,
)
from synth.layers.base import BarContext, LayerStyle
from synth.layers.melody_figures import (
    ArpMelody,
    CallResponse,
    ContemplativeMinor,
    Heroic,
    Ornamental,
)


class Procedural(_Melody):
    """General-purpose phrase generator on a sine electric piano (FM tine).

    A one-bar motif is stated, sequenced on the next chord, inverted, answered with a half
    cadence, restated and developed, and closes on the chord root at phrase bar 7. Each new
    phrase keeps, mutates or replaces the motif, so themes come back changed.
    """

    name = "procedural"
    gain = 0.97
    timbre = Struck("fm", (1.0, 1.7, 0.35, 2.2, 2.4), release=0.3)

    def compose(self, ctx: BarContext) -> list[Note]:
        rng = ctx.rng
        pb = ctx.phrase_bar
        if pb == 0:
            if self._motif is None or rng.random() < 0.35:
                self._motif = random_motif(rng)
            else:
                self._motif = self._motif.mutated(rng)
        motif = self._motif or random_motif(rng)
        here = self.current(ctx)
        chord = chord_degree_set(ctx.chord)
        if pb == 7:
            return self.cadence(ctx, 0.0, 2.5)
        if pb == 3:
            head = self.play_motif(ctx, Motif(motif.rhythm[:2], motif.steps[:2]), here)
            last = head[-1][2] if head else here
            return [*head, (2.0, 1.5, nearest_degree(last, chord), 0.65, "")]
        if pb == 2:
            motif = motif.inverted()
        elif pb == 6:
            motif = motif.rerhythmed(rng)
        anchor = nearest_degree(here + (1 if pb in (1, 5) else 0), chord)
        return self.play_motif(ctx, motif, anchor)


class Contemplative(_Melody):
    """Sparse, stepwise half and whole notes on a breathy flute with gentle vibrato.

    Mostly one or two notes a bar moving by step, long rests at the ends of 4-bar halves: the
    unhurried line of a slow meditation.
    """

    name = "contemplative"
    gain = 0.49
    lo, hi = 64, 84
    timbre = Osc(
        "flute",
        cap=5,
        bright=1.0,
        attack=0.12,
        decay=0.5,
        sustain=0.85,
        release=0.45,
        drift=7.0,
        drift_rates=(5.0,),
        level=0.9,
    )
    _PATTERNS = (
        ((0.0, 2.0), (2.0, 2.0)),
        ((0.0, 3.0),),
        ((0.0, 2.0),),
        ((0.0, 4.0),),
        ((1.0, 3.0),),
        ((0.0, 1.0), (1.0, 3.0)),
    )

    def compose(self, ctx: BarContext) -> list[Note]:
        rng = ctx.rng
        pb = ctx.phrase_bar
        if pb == 7:
            return self.cadence(ctx, 0.0, 3.0)
        if pb == 3 and rng.random() < 0.6:
            return []  # breath
        pattern = self._PATTERNS[int(rng.integers(len(self._PATTERNS)))]
        deg = self.current(ctx)
        d_lo, d_hi = self.bounds(ctx)
        centre = (d_lo + d_hi) / 2
        out: list[Note] = []
        chord = chord_degree_set(ctx.chord)
        for off, dur in pattern:
            step = int(rng.choice([-1, 1, -1, 1, 0, -2, 2]))
            if abs(deg + step - centre) > 4:
                step = -int(np.sign(deg - centre))
            deg = self.keep_in(deg + step, ctx)
            if off == 0.0 and rng.random() < 0.6:
                deg = self.keep_in(nearest_degree(deg, chord, step), ctx)
            out.append((off, dur, deg, 0.62 + 0.1 * rng.random(), ""))
        return out


class Rising(_Melody):
    """Two-bar arcs that climb from a low chord tone to a held peak, each arc a little higher.

    Runs of 8ths and quarters step or skip upward, the peak is a chord tone held into a rest,
    then the next arc restarts above the last one's start until the phrase resets: hope,
    ascent. Played on a soft, slightly chorused square lead.
    """

    name = "rising"
    gain = 0.58
    timbre = Osc(
        "square",
        cap=15,
        bright=0.7,
        attack=0.02,
        decay=0.3,
        sustain=0.7,
        release=0.25,
        detune=4.0,
        level=0.85,
    )
    _RUNS = (
        ((0.0, 0.5), (0.5, 0.5), (1.0, 0.5), (1.5, 0.5), (2.0, 1.0), (3.0, 1.0)),
        ((0.0, 1.0), (1.0, 0.5), (1.5, 0.5), (2.0, 1.0), (3.0, 1.0)),
        ((0.0, 1.5), (1.5, 0.5), (2.0, 0.5), (2.5, 0.5), (3.0, 1.0)),
    )

    def __init__(self) -> None:
        super().__init__()
        self._start = 0
        self._run: tuple[tuple[float, float], ...] = self._RUNS[0]

    def compose(self, ctx: BarContext) -> list[Note]:
        rng = ctx.rng
        pb = ctx.phrase_bar
        d_lo, d_hi = self.bounds(ctx)
        chord = chord_degree_set(ctx.chord)
        if pb % 2 == 0:  # arc start: low, rising run
            if pb == 0:
                self._start = d_lo + int(rng.integers(0, 3))
                self._run = self._RUNS[int(rng.integers(len(self._RUNS)))]
            else:
                self._start = min(d_hi - 8, self._start + int(rng.integers(1, 3)))
            deg = nearest_degree(self._start, chord, 1)
            out: list[Note] = []
            for i, (off, dur) in enumerate(self._run):
                out.append((off, dur, self.keep_in(deg, ctx), 0.58 + 0.04 * i, ""))
                deg += 1 if rng.random() < 0.7 else 2
            return out
        # arc top: climb to a chord-tone peak and hold it, then breathe
        deg = self.current(ctx)
        peak = nearest_degree(min(d_hi, deg + 3), chord, 1)
        out = [
            (0.0, 0.5, self.keep_in(deg + 1, ctx), 0.72, ""),
            (0.5, 0.5, self.keep_in(peak - 1, ctx), 0.74, ""),
        ]
        hold = 2.5 if pb == 7 else 2.0
        out.append((1.0, hold, self.keep_in(peak, ctx), 0.8, ""))
        return out


class Falling(_Melody):
    """Descending phrases on a glassy FM celesta: each bar falls from a high chord tone.

    Dotted and even rhythms step and skip downward like drops, the phrase as a whole sinks
    and the cadence lands low on the root; the next phrase starts high again.
    """

    name = "falling"
    gain = 0.61
    lo, hi = 64, 91
    timbre = Struck("fm", (4.0, 1.4, 0.5, 2.6, 2.8), release=0.35)
    _RHYTHMS = (
        ((0.0, 1.5), (1.5, 0.5), (2.0, 1.0), (3.0, 1.0)),
        ((0.0, 1.0), (1.0, 1.0), (2.0, 0.5), (2.5, 0.5), (3.0, 1.0)),
        ((0.0, 0.75), (0.75, 0.25), (1.0, 1.0), (2.0, 2.0)),
    )

    def __init__(self) -> None:
        super().__init__()
        self._top = 10
        self._rhythm: tuple[tuple[float, float], ...] = self._RHYTHMS[0]

    def compose(self, ctx: BarContext) -> list[Note]:
        rng = ctx.rng
        pb = ctx.phrase_bar
        d_lo, d_hi = self.bounds(ctx)
        chord = chord_degree_set(ctx.chord)
        if pb == 0:
            self._top = d_hi - int(rng.integers(0, 3))
        if pb % 2 == 0:
            self._rhythm = self._RHYTHMS[int(rng.integers(len(self._RHYTHMS)))]
        if pb == 7:
            return [(0.0, 0.5, self.keep_in(d_lo + 3, ctx), 0.6, ""), *self.cadence(ctx, 0.5, 2.5)]
        top = max(d_lo + 4, self._top - pb)  # each bar starts a step lower
        deg = nearest_degree(top, chord, -1)
        out: list[Note] = []
        for off, dur in self._rhythm:
            out.append((off, dur, self.keep_in(deg, ctx), 0.75 - 0.03 * len(out), ""))
            deg -= 1 if rng.random() < 0.6 else 2
        if pb == 3:
            out = out[:-1]  # breathe mid-phrase
        return out


class Minimal(_Melody):
    """A two- or three-note cell repeated in steady 8ths on a marimba, shifting by one note.

    Minimalism (Reich, Glass): the cell cycles against the bar so its accents drift, follows
    the chord, and changes one note or one rest every few bars rather than all at once.
    """

    name = "minimal"
    gain = 0.96
    lo, hi = 60, 84
    timbre = Struck(
        "modal", (((1.0, 1.0, 1.1), (4.0, 0.32, 0.28), (10.0, 0.07, 0.07)), 1.4), release=0.2
    )

    def __init__(self) -> None:
        super().__init__()
        self._cell: list[int] = [0, 2]
        self._mask: list[bool] = [True] * 8
        self._pos = 0

    def compose(self, ctx: BarContext) -> list[Note]:
        rng = ctx.rng
        pb = ctx.phrase_bar
        if self._pos == 0 or (pb == 0 and rng.random() < 0.3):
            size = int(rng.integers(2, 4))
            self._cell = [0, *(int(x) for x in rng.choice([-2, -1, 1, 2, 3, 4], size - 1))]
            self._mask = [True] * 8
            self._mask[int(rng.integers(1, 8))] = False
        elif pb % 2 == 0:
            if rng.random() < 0.5:  # one note of the cell moves a step
                i = int(rng.integers(len(self._cell)))
                self._cell[i] += int(rng.choice([-1, 1]))
            else:  # one 8th toggles between note and rest
                j = int(rng.integers(1, 8))
                self._mask[j] = not self._mask[j]
        anchor = nearest_degree(self.current(ctx), chord_degree_set(ctx.chord))
        out: list[Note] = []
        steps = 8 if pb != 7 else 5
        for i in range(steps):
            deg = anchor + self._cell[self._pos % len(self._cell)]
            self._pos += 1
            if not self._mask[i]:
                continue
            vel = 0.78 if self._pos % len(self._cell) == 1 else 0.6
            out.append((0.5 * i, 0.45, self.keep_in(deg, ctx), vel + 0.05 * rng.random(), ""))
        if pb == 7:
            out.append((2.5, 1.5, self.keep_in(anchor, ctx), 0.72, ""))
        if out:
            out[-1] = (*out[-1][:2], anchor, *out[-1][3:])  # keep the line anchored
        return out


STYLES: dict[str, type[LayerStyle]] = {
    cls.name: cls
    for cls in (
        Procedural,
        Contemplative,
        Rising,
        Falling,
        Minimal,
        Ornamental,
        ArpMelody,
        ContemplativeMinor,
        CallResponse,
        Heroic,
    )
}
