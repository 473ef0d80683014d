"""Melody styles built on figures: ornaments, arpeggios, minor-key song, call and
response, heroic themes (the lyrical ones are in :mod:`synth.layers.melody`)."""

from __future__ import annotations

from typing import ClassVar

from synth.dsp import F32
from synth.events import NoteEvent
from synth.layers._melody_base import Note, _Melody, random_motif
from synth.layers._pitched import (
    Osc,
    Struck,
    chord_degree_set,
    fold_degree,
    harmonic_partials,
    nearest_degree,
)
from synth.layers.base import BarContext, VoiceContext


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
