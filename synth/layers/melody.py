"""Melody layer styles: phrase generators with motif memory, each on its own instrument.

Melodies think in scale degrees (octave-4 relative, so ``ctx.scale.pitch(deg, 4)`` is the
note): every pitch is in key by construction, strong beats gravitate to chord tones, and every
8-bar phrase breathes (rests at phrase ends) and cadences on a chord tone at phrase bar 7.
Each style keeps what it played (a motif, a cell, a contour position) and transforms it
(transposes, inverts, re-rhythms) from phrase to phrase, so the line develops instead of
looping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from synth.dsp import F32
from synth.events import NoteEvent
from synth.layers._pitched import (
    Osc,
    Struck,
    chord_degree_set,
    degree_bounds,
    fold_degree,
    harmonic_partials,
    nearest_degree,
)
from synth.layers.base import BarContext, LayerStyle, VoiceContext

# One-bar rhythm cells for 4/4: (offset, duration) in beats.
CELLS: tuple[tuple[tuple[float, float], ...], ...] = (
    ((0.0, 1.0), (1.0, 1.0), (2.0, 2.0)),
    ((0.0, 1.5), (1.5, 0.5), (2.0, 2.0)),
    ((0.0, 0.5), (0.5, 0.5), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0)),
    ((0.0, 2.0), (2.0, 1.0), (3.0, 1.0)),
    ((0.0, 1.0), (1.0, 0.5), (1.5, 0.5), (2.0, 2.0)),
    ((0.5, 0.5), (1.0, 1.0), (2.0, 1.5), (3.5, 0.5)),
    ((0.0, 1.0), (1.5, 0.5), (2.0, 1.0), (3.0, 1.0)),
)


@dataclass
class Motif:
    """A rhythm and the scale steps between its notes (first step is from the anchor)."""

    rhythm: tuple[tuple[float, float], ...]
    steps: tuple[int, ...]

    def inverted(self) -> Motif:
        return Motif(self.rhythm, (self.steps[0], *(-s for s in self.steps[1:])))

    def rerhythmed(self, rng: np.random.Generator) -> Motif:
        """Same contour, new rhythm (steps recycled or trimmed to fit the new cell)."""
        cell = CELLS[int(rng.integers(len(CELLS)))]
        steps = tuple(self.steps[i % len(self.steps)] for i in range(len(cell)))
        return Motif(cell, steps)

    def mutated(self, rng: np.random.Generator) -> Motif:
        """One interval nudged by a step: the motif stays recognisable but moves on."""
        steps = list(self.steps)
        i = int(rng.integers(1, len(steps))) if len(steps) > 1 else 0
        steps[i] += int(rng.choice([-1, 1]))
        return Motif(self.rhythm, tuple(steps))


def random_motif(rng: np.random.Generator, leap: float = 0.2) -> Motif:
    cell = CELLS[int(rng.integers(len(CELLS)))]
    choices = [-1, 1, -2, 2, 0, 3, -3]
    probs = np.array([0.3, 0.3, 0.12, 0.12, 0.06, leap / 2, leap / 2])
    steps = rng.choice(choices, size=len(cell), p=probs / probs.sum())
    return Motif(cell, (0, *(int(s) for s in steps[1:])))


Note = tuple[float, float, int, float, str]  # offset, duration, degree, velocity, voice


class _Melody(LayerStyle):
    """Shared phrase machinery; subclasses implement :meth:`compose` and pick a timbre."""

    layer = "melody"
    lo, hi = 62, 86
    timbre: Osc | Struck

    def __init__(self) -> None:
        self._deg: int | None = None
        self._motif: Motif | None = None

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        return self.timbre.render(event, vctx)

    # --- helpers --------------------------------------------------------------------------
    def bounds(self, ctx: BarContext) -> tuple[int, int]:
        return degree_bounds(ctx.scale, self.lo, self.hi)

    def current(self, ctx: BarContext) -> int:
        d_lo, d_hi = self.bounds(ctx)
        if self._deg is None:
            self._deg = nearest_degree((d_lo + d_hi) // 2, chord_degree_set(ctx.chord))
        return fold_degree(self._deg, d_lo, d_hi)

    def keep_in(self, deg: int, ctx: BarContext) -> int:
        """Reflect a degree that left the register back inside (contour turns around)."""
        d_lo, d_hi = self.bounds(ctx)
        if deg > d_hi:
            deg = 2 * d_hi - deg
        if deg < d_lo:
            deg = 2 * d_lo - deg
        return fold_degree(deg, d_lo, d_hi)

    def play_motif(
        self, ctx: BarContext, motif: Motif, anchor: int, vel: float = 0.7, snap: bool = True
    ) -> list[Note]:
        """Notes of a motif from ``anchor``; downbeat notes snap to chord tones."""
        chord = chord_degree_set(ctx.chord)
        out: list[Note] = []
        deg = anchor
        for (off, dur), step in zip(motif.rhythm, motif.steps, strict=True):
            deg = self.keep_in(deg + step, ctx)
            if snap and off in (0.0, 2.0):
                deg = self.keep_in(nearest_degree(deg, chord, step), ctx)
            accent = 1.0 if off == 0.0 else (0.9 if off == 2.0 else 0.8)
            out.append((off, dur, deg, vel * accent + 0.08 * ctx.rng.random(), ""))
        return out

    def cadence(self, ctx: BarContext, start: float = 0.0, length: float = 3.0) -> list[Note]:
        """A held chord tone (root preferred) near the current degree, then silence."""
        deg = self.current(ctx)
        target = nearest_degree(deg, {ctx.chord.degree % 7})
        if abs(target - deg) > 2:
            target = nearest_degree(deg, chord_degree_set(ctx.chord))
        return [(start, length, self.keep_in(target, ctx), 0.72, "")]

    def compose(self, ctx: BarContext) -> list[Note]:
        raise NotImplementedError

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        notes = self.compose(ctx)
        bpb = ctx.beats_per_bar
        out = []
        for off, dur, deg, vel, voice in notes:
            if bpb != 4:  # rhythms are written in 4/4; squeeze them into other metres
                off, dur = off * bpb / 4.0, dur * bpb / 4.0
            if off >= bpb:
                continue
            pitch = ctx.scale.pitch(deg, 4)
            out.append(self.note(ctx, off, max(0.1, dur), pitch, vel, voice))
        if notes:
            self._deg = notes[-1][2]
        return out


# --- styles ---------------------------------------------------------------------------------
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
        self._run = self._RUNS[0]

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
        self._rhythm = self._RHYTHMS[0]

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


class Ornamental(_Melody):
    """Target notes decorated with turns, mordents and grace notes, on a nasal double reed.

    A slow line of chord-tone targets (quarters and halves), each approached or decorated
    the way folk and baroque wind players do: a grace note from below, a mordent to the upper
    neighbour, or a four-note turn around the target. Ornament notes carry voice "ornament".
    """

    name = "ornamental"
    gain = 0.65
    lo, hi = 64, 86
    timbre = Osc(
        "oboe",
        cap=14,
        bright=0.9,
        attack=0.03,
        decay=0.25,
        sustain=0.85,
        release=0.18,
        drift=9.0,
        drift_rates=(5.5,),
        level=0.9,
    )
    _TARGETS = (
        ((0.0, 2.0), (2.0, 2.0)),
        ((0.0, 1.0), (1.0, 1.0), (2.0, 2.0)),
        ((0.0, 3.0), (3.0, 1.0)),
        ((1.0, 2.0), (3.0, 1.0)),
    )

    def compose(self, ctx: BarContext) -> list[Note]:
        rng = ctx.rng
        pb = ctx.phrase_bar
        chord = chord_degree_set(ctx.chord)
        deg = self.current(ctx)
        if pb == 7:
            notes = self.cadence(ctx, 0.5, 2.5)
            t = notes[0][2]
            return [
                (0.0, 0.25, self.keep_in(t + 1, ctx), 0.5, "ornament"),
                (0.25, 0.25, self.keep_in(t - 1, ctx), 0.5, "ornament"),
                *notes,
            ]
        out: list[Note] = []
        for off, dur in self._TARGETS[int(rng.integers(len(self._TARGETS)))]:
            deg = self.keep_in(nearest_degree(deg + int(rng.choice([-2, -1, 1, 2])), chord), ctx)
            kind = rng.choice(["turn", "mordent", "grace", "plain"], p=[0.3, 0.3, 0.25, 0.15])
            up, down = self.keep_in(deg + 1, ctx), self.keep_in(deg - 1, ctx)
            if kind == "turn" and dur >= 1.0:
                for i, d in enumerate((up, deg, down)):
                    out.append((off + 0.125 * i, 0.125, d, 0.5, "ornament"))
                out.append((off + 0.375, dur - 0.375, deg, 0.7, ""))
            elif kind == "mordent" and dur >= 1.0:
                out.append((off, 0.125, deg, 0.68, "ornament"))
                out.append((off + 0.125, 0.125, up, 0.52, "ornament"))
                out.append((off + 0.25, dur - 0.25, deg, 0.7, ""))
            elif kind == "grace" and off >= 0.125:
                out.append((off - 0.1, 0.1, down, 0.45, "ornament"))
                out.append((off, dur, deg, 0.72, ""))
            else:
                out.append((off, dur, deg, 0.7, ""))
        out.sort(key=lambda n: n[0])
        return out


class ArpMelody(_Melody):
    """Chord-tone arpeggios in 8ths across an octave and a half, on a plucked harp.

    Up, down, up-down or broken-thirds patterns (chosen per two bars) through the chord's
    tones, an occasional passing tone, and a held root to close the phrase. Notes ring past
    their step like open harp strings.
    """

    name = "arp_melody"
    gain = 0.82
    lo, hi = 57, 86
    timbre = Struck("modal", (harmonic_partials(8, 1.1, 2.4, 0.7, 0.0004), 2.6), release=0.3)
    _ORDERS = (
        (0, 1, 2, 3, 4, 5, 4, 3),
        (5, 4, 3, 2, 1, 0, 1, 2),
        (0, 2, 1, 3, 2, 4, 3, 5),
        (0, 1, 2, 3, 2, 1, 2, 3),
        (3, 2, 4, 3, 5, 4, 2, 1),
    )

    def __init__(self) -> None:
        super().__init__()
        self._order = self._ORDERS[0]

    def compose(self, ctx: BarContext) -> list[Note]:
        rng = ctx.rng
        pb = ctx.phrase_bar
        if pb % 2 == 0:
            self._order = self._ORDERS[int(rng.integers(len(self._ORDERS)))]
        d_lo, _ = self.bounds(ctx)
        base = nearest_degree(d_lo + 2 + int(rng.integers(0, 3)), {ctx.chord.degree % 7}, 1)
        tones = [base, base + 2, base + 4, base + 7, base + 9, base + 11]  # triad, 2 octaves
        out: list[Note] = []
        n = 8 if pb != 7 else 4
        for i in range(n):
            deg = tones[self._order[i]]
            if i % 2 == 1 and rng.random() < 0.12:
                deg += 1  # passing tone on a weak 8th
            vel = 0.75 if i % 4 == 0 else 0.58 + 0.06 * rng.random()
            out.append((0.5 * i, 1.0, self.keep_in(deg, ctx), vel, ""))
        if pb == 7:
            out.append((2.0, 2.0, self.keep_in(base + 7, ctx), 0.7, ""))
        return out


class ContemplativeMinor(_Melody):
    """Descending two-note sighs centred on the mode's minor degree, low, on a dark clarinet.

    The line orbits the relative-minor degree (vi in major, ii in mixolydian, the tonic in
    minor and dorian) in the chalumeau register: a stressed upper note falls by a step onto
    a longer one, each sigh a little lower, resting between them; the phrase ends on the centre.
    """

    name = "contemplative_minor"
    gain = 0.50
    lo, hi = 52, 74
    timbre = Osc(
        "clarinet",
        cap=13,
        bright=0.8,
        attack=0.07,
        decay=0.4,
        sustain=0.82,
        release=0.3,
        level=0.95,
    )
    _CENTRE: ClassVar[dict[str, int]] = {"major": 5, "mixolydian": 1, "minor": 0, "dorian": 0}
    _SIGHS = (
        ((0.0, 1.0), (1.0, 2.0)),
        ((0.0, 1.5), (1.5, 1.5)),
        ((1.0, 1.0), (2.0, 2.0)),
        ((0.0, 2.0), (2.0, 1.5)),
    )

    def __init__(self) -> None:
        super().__init__()
        self._height = 4

    def compose(self, ctx: BarContext) -> list[Note]:
        rng = ctx.rng
        pb = ctx.phrase_bar
        d_lo, d_hi = self.bounds(ctx)
        centre = fold_degree(self._CENTRE.get(ctx.scale.mode, 0), d_lo, d_hi)
        if centre + 4 > d_hi:
            centre -= 7 if centre - 7 >= d_lo else 0
        if pb in (0, 4):
            self._height = int(rng.integers(3, 6))
        if pb == 7:
            return [
                (0.0, 1.0, self.keep_in(centre + 1, ctx), 0.72, ""),
                (1.0, 2.5, self.keep_in(centre, ctx), 0.6, ""),
            ]
        if pb == 3 and rng.random() < 0.5:
            return []
        top = self.keep_in(centre + max(1, self._height - (pb % 4)), ctx)
        (o1, l1), (o2, l2) = self._SIGHS[int(rng.integers(len(self._SIGHS)))]
        return [(o1, l1, top, 0.74, ""), (o2, l2, self.keep_in(top - 1, ctx), 0.55, "")]


class CallResponse(_Melody):
    """Two-bar call up high, two-bar answer an octave-ish lower in a darker voice.

    The call ends open (on the fifth or third), the answer reuses the call's rhythm with the
    contour inverted and comes home to the root; ``voice`` marks "call" / "answer", and the
    answer is rendered on a mellower tone, like two players trading phrases.
    """

    name = "call_response"
    gain = 0.46
    lo, hi = 60, 88
    timbre = Osc(
        "triangle",
        cap=9,
        bright=1.0,
        attack=0.03,
        decay=0.3,
        sustain=0.75,
        release=0.25,
        drift=6.0,
        drift_rates=(4.75,),
    )
    answer_timbre = Osc(
        "soft", cap=10, bright=0.6, attack=0.05, decay=0.4, sustain=0.7, release=0.3, detune=5.0
    )

    def __init__(self) -> None:
        super().__init__()
        self._call: list[list[Note]] = [[], []]

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        if event.voice == "answer":
            return self.answer_timbre.render(event, vctx)
        return self.timbre.render(event, vctx)

    def compose(self, ctx: BarContext) -> list[Note]:
        rng = ctx.rng
        q = ctx.phrase_bar % 4
        d_hi = self.bounds(ctx)[1]
        chord = chord_degree_set(ctx.chord)
        if q in (0, 1):
            if q == 0:
                if self._motif is None or rng.random() < 0.5:
                    self._motif = random_motif(rng)
                else:
                    self._motif = self._motif.mutated(rng)
                anchor = nearest_degree(d_hi - 4, chord)
            else:
                anchor = nearest_degree(self.current(ctx), chord)
            motif = self._motif or random_motif(rng)
            notes = self.play_motif(ctx, motif, anchor, 0.72)
            if q == 1:  # end open, on the fifth or third of the chord, with a breath
                open_deg = nearest_degree(
                    notes[-1][2], {(ctx.chord.degree + 4) % 7, (ctx.chord.degree + 2) % 7}
                )
                notes = [n for n in notes if n[0] < 2.0]
                notes.append((2.0, 1.5, self.keep_in(open_deg, ctx), 0.7, ""))
            notes = [(o, d, g, v, "call") for o, d, g, v, _ in notes]
            self._call[q] = notes
            return notes
        # answer: the call's rhythm, contour inverted, about an octave lower, home at the end
        src = self._call[q - 2] or self._call[0]
        out: list[Note] = []
        pivot = src[0][2] if src else d_hi
        for off, dur, deg, vel, _ in src:
            new = self.keep_in(pivot - (deg - pivot) - 5, ctx)
            out.append((off, dur, new, vel * 0.85, "answer"))
        if q == 3 and out:
            home = nearest_degree(out[-1][2], {ctx.chord.degree % 7})
            out = [n for n in out if n[0] < 2.0]
            out.append((2.0, 1.5, self.keep_in(home, ctx), 0.62, "answer"))
        return out


class Heroic(_Melody):
    """Fanfare lines of rising fourths and fifths in dotted rhythms, on a bright brass section.

    Leaps of a fourth or fifth on strong beats, stepwise fall-backs, dotted-quarter/8th and
    dotted-8th/16th figures, and a held high root to end the phrase. The brass voice opens
    with a bright "blat" that closes within a tenth of a second, then two detuned players.
    """

    name = "heroic"
    gain = 0.65
    lo, hi = 58, 84
    timbre = Osc(
        "brass",
        fifth_safe=True,
        cap=14,
        bright=0.8,
        attack=0.035,
        decay=0.35,
        sustain=0.8,
        release=0.2,
        detune=5.0,
        pluck=0.7,
        pluck_s=0.09,
        pluck_cap=28,
    )
    _RHYTHMS = (
        ((0.0, 1.5), (1.5, 0.5), (2.0, 1.0), (3.0, 1.0)),
        ((0.0, 0.75), (0.75, 0.25), (1.0, 2.0), (3.0, 1.0)),
        ((0.0, 1.0), (1.0, 0.75), (1.75, 0.25), (2.0, 2.0)),
        ((0.0, 0.75), (0.75, 0.25), (1.0, 0.75), (1.75, 0.25), (2.0, 2.0)),
    )

    def compose(self, ctx: BarContext) -> list[Note]:
        rng = ctx.rng
        pb = ctx.phrase_bar
        d_hi = self.bounds(ctx)[1]
        chord = chord_degree_set(ctx.chord)
        if pb == 7:
            root = nearest_degree(d_hi - 3, {ctx.chord.degree % 7})
            return [
                (0.0, 0.75, self.keep_in(root - 4, ctx), 0.75, ""),
                (0.75, 0.25, self.keep_in(root - 1, ctx), 0.7, ""),
                (1.0, 2.5, self.keep_in(root, ctx), 0.85, ""),
            ]
        rhythm = self._RHYTHMS[int(rng.integers(len(self._RHYTHMS)))]
        deg = self.current(ctx)
        if deg > d_hi - 4:
            deg -= 7
        deg = nearest_degree(deg, chord)
        out: list[Note] = []
        for i, (off, dur) in enumerate(rhythm):
            if i == 0:
                step = 0
            elif off in (1.0, 2.0) and dur >= 1.0:
                step = int(rng.choice([3, 4, 4, -3]))  # the fanfare leap (4th / 5th)
            else:
                step = int(rng.choice([-1, 1, -1]))
            deg = self.keep_in(deg + step, ctx)
            if off in (0.0, 2.0):
                deg = self.keep_in(nearest_degree(deg, chord), ctx)
            vel = 0.82 if dur >= 1.0 else 0.66
            out.append((off, dur, deg, vel + 0.06 * rng.random(), ""))
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
