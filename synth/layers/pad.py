"""Pad layer styles: sustained chords that voice the planner's harmony.

Every pad voices ``ctx.chord`` as a shape of scale-degree offsets above the chord root (triad,
seventh, ninth, quintal, open add9...), and each new chord is voiced by
:func:`~synth.layers._pitched.voicing`, which moves the voices as little as possible from the
previous chord. A chord that lasts two bars is played once with a two-bar gate rather than
struck twice. Styles differ in shape, register, envelope and instrument.
"""

from __future__ import annotations

import numpy as np

from synth.dsp import F32
from synth.events import NoteEvent
from synth.layers._pitched import Osc, voicing
from synth.layers.base import BarContext, LayerStyle, VoiceContext


class _Pad(LayerStyle):
    """Shared chord logic; subclasses choose shape, register and timbre."""

    layer = "pad"
    timbre: Osc
    shapes: tuple[tuple[int, ...], ...] = ((0, 2, 4),)
    lo, hi = 52, 74
    invert = True
    velocity = 0.36
    overlap_beats = 0.5  # gate past the bar line so the next chord's attack overlaps the release

    def __init__(self) -> None:
        self._prev: list[int] | None = None
        self._hold_until = -1
        self._shape = self.shapes[0]

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        return self.timbre.render(event, vctx)

    def choose_shape(self, ctx: BarContext) -> tuple[int, ...]:
        if ctx.phrase_bar == 0 or ctx.rng.random() < 0.15:
            self._shape = self.shapes[int(ctx.rng.integers(len(self.shapes)))]
        return self._shape

    def bars_held(self, ctx: BarContext) -> int:
        return 2 if ctx.next_chord.degree == ctx.chord.degree and ctx.phrase_bar % 2 == 0 else 1

    def chord_pitches(self, ctx: BarContext) -> list[int]:
        shape = self.choose_shape(ctx)
        pitches = voicing(
            ctx.scale, ctx.chord.degree, shape, self.lo, self.hi, self._prev, self.invert
        )
        self._prev = pitches
        return pitches

    def voice_velocities(self, ctx: BarContext, n: int) -> list[float]:
        base = self.velocity * (0.92 + 0.12 * ctx.rng.random())
        # the top voice sings a little above the rest, as a string section's firsts would
        return [base * (1.08 if i == n - 1 else 0.95) for i in range(n)]

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        if ctx.bar < self._hold_until:
            return []
        held = self.bars_held(ctx)
        self._hold_until = ctx.bar + held
        pitches = self.chord_pitches(ctx)
        dur = held * ctx.beats_per_bar + self.overlap_beats
        vels = self.voice_velocities(ctx, len(pitches))
        return [self.note(ctx, 0.0, dur, p, v) for p, v in zip(pitches, vels, strict=True)]


class WarmSlow(_Pad):
    """Close triads on a rounded saw with a slow attack and a gently detuned twin oscillator.

    The classic warm pad: three voices in close position led smoothly chord to chord, the
    second oscillator a few cents sharp (more with ``stereo``) for a slow chorus-like beat.
    """

    name = "warm_slow"
    gain = 0.71
    shapes = ((0, 2, 4),)
    lo, hi = 52, 74
    timbre = Osc(
        "soft",
        cap=14,
        bright=0.55,
        attack=1.4,
        decay=2.5,
        sustain=0.85,
        release=1.5,
        detune=3.5,
        width=0.6,
        max_s=9.0,
    )


class DarkSustained(_Pad):
    """Low, open root-fifth-tenth voicing on a triangle, very slow in and a long release.

    Sits an octave below the other pads with almost no upper harmonics, so it reads as a dark
    bowed or organ-pipe floor; the long release lets each chord bleed into the next.
    """

    name = "dark_sustained"
    gain = 0.68
    shapes = ((0, 4, 9),)
    lo, hi = 38, 64
    invert = False
    overlap_beats = 0.5
    timbre = Osc(
        "triangle",
        cap=5,
        bright=0.3,
        attack=2.2,
        decay=3.0,
        sustain=0.9,
        release=2.4,
        width=0.25,
        max_s=9.0,
    )


class Cinematic(_Pad):
    """Wide four-voice spread (root, fifth, tenth, double octave) that swells into each bar.

    Rich detuned saws with a crescendo-shaped attack (an orchestra leaning into the chord),
    and dynamics that build through each 8-bar phrase, like a film cue.
    """

    name = "cinematic"
    gain = 1.17
    shapes = ((0, 4, 9, 14), (0, 7, 11, 16))
    lo, hi = 36, 82
    invert = False
    timbre = Osc(
        "saw",
        cap=36,
        bright=0.9,
        attack=2.6,
        decay=3.0,
        sustain=1.0,
        release=1.2,
        swell=1.6,
        detune=6.0,
        width=0.5,
        max_s=9.0,
        level=0.9,
    )

    def bars_held(self, ctx: BarContext) -> int:
        return 1  # every bar swells again

    def voice_velocities(self, ctx: BarContext, n: int) -> list[float]:
        build = 0.26 + 0.035 * ctx.phrase_bar + 0.04 * ctx.rng.random()
        return [build * (0.8 if i == 0 else 1.0) for i in range(n)]


class ThinHigh(_Pad):
    """Just two high chord tones (third and fifth, or root and third) in soft glassy sines.

    A halo rather than a chord: high, sparse and quiet, with a slow shimmer, for airy configs
    where a full pad would crowd the melody.
    """

    name = "thin_high"
    gain = 0.62  # about 1.5 dB under the other pads: a halo, not a chord
    shapes = ((2, 4), (0, 2), (4, 7))
    lo, hi = 74, 93
    velocity = 0.42
    timbre = Osc(
        "glass",
        cap=7,
        bright=1.0,
        attack=0.9,
        decay=2.0,
        sustain=0.9,
        release=1.4,
        tremolo=0.25,
        trem_hz=0.35,
        width=0.4,
        max_s=9.0,
    )


class AmbientDrift(_Pad):
    """Seventh and ninth chords whose voices enter one by one and overlap across bar lines.

    Each voice starts at its own moment and rings for about a bar, so chords blur
    into each other; every note's pitch drifts by a few cents (slow, incommensurate rates),
    which gives the unsteady, tape-like float of ambient music.
    """

    name = "ambient_drift"
    gain = 0.62
    shapes = ((0, 2, 4, 6), (0, 4, 6, 8), (0, 2, 6, 8))
    lo, hi = 50, 79
    timbre = Osc(
        "triangle",
        cap=9,
        bright=0.7,
        attack=1.6,
        decay=2.0,
        sustain=0.8,
        release=1.5,
        drift=9.0,
        drift_rates=(0.25, 0.5, 0.75),
        max_s=8.0,
    )

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        pitches = self.chord_pitches(ctx)
        rng = ctx.rng
        bpb = ctx.beats_per_bar
        order = rng.permutation(len(pitches))
        out = []
        for k, i in enumerate(order):
            start = k * bpb / (len(pitches) + 0.5) * (0.6 + 0.4 * rng.random())
            if k == 0:
                start = 0.0
            dur = bpb * 1.1 - start * 0.5
            vel = 0.3 * (0.8 + 0.3 * rng.random())
            out.append(self.note(ctx, start, dur, pitches[i], vel))
        return out


class StackedFifths(_Pad):
    """A quintal stack (root, fifth, ninth, and sometimes the thirteenth) on a drawbar organ.

    Fifths stacked in the scale make the open, modern sound of quartal/quintal harmony; the
    organ table speaks quickly and holds a flat sustain, unlike the swelling string pads.
    """

    name = "stacked_fifths"
    gain = 0.74  # level 0.9: the octave-rich drawbar table peaks higher in chords
    shapes = ((0, 4, 8), (0, 4, 8, 12))
    lo, hi = 45, 79
    invert = False
    timbre = Osc(
        "drawbar",
        cap=8,
        bright=0.8,
        attack=0.09,
        decay=0.3,
        sustain=1.0,
        release=0.5,
        width=0.4,
        max_s=9.0,
        level=0.9,
    )


class BrightOpen(_Pad):
    """Open add9 / sus2 voicings (root, fifth, ninth, tenth or twelfth) on a bright saw.

    No close thirds at the bottom, seconds at the top: the shimmering, hopeful sound of
    post-rock and modern worship pads, with plenty of harmonics and a medium attack.
    """

    name = "bright_open"
    gain = 0.87
    shapes = ((0, 4, 8, 9), (0, 4, 8, 11), (0, 1, 4, 8))
    lo, hi = 48, 86
    invert = False
    timbre = Osc(
        "saw",
        cap=60,
        bright=1.5,
        attack=0.45,
        decay=1.5,
        sustain=0.8,
        release=1.3,
        detune=5.0,
        width=0.7,
        max_s=9.0,
    )

    def voice_velocities(self, ctx: BarContext, n: int) -> list[float]:
        base = self.velocity * (0.9 + 0.15 * ctx.rng.random())
        return list(np.linspace(0.85, 1.05, n) * base)


STYLES: dict[str, type[LayerStyle]] = {
    cls.name: cls
    for cls in (
        WarmSlow,
        DarkSustained,
        Cinematic,
        ThinHigh,
        AmbientDrift,
        StackedFifths,
        BrightOpen,
    )
}
