"""Bass layer styles (MIDI register about 28..52): the harmonic floor of every config.

Every style follows the chord roots from the harmony planner (``drone`` and ``fifth_drone``
pedal the tonic on purpose) and builds all pitches from ``ctx.scale`` / ``ctx.chord``. Each has
its own rhythm *and* its own instrument, so styles are told apart by ear and by features.
"""

from __future__ import annotations

from synth.dsp import F32
from synth.events import NoteEvent
from synth.layers._pitched import (
    Osc,
    Struck,
    chord_degree_set,
    in_range,
    nearest_degree,
)
from synth.layers.base import BarContext, LayerStyle, VoiceContext
from synth.theory import Chord

BASS_LO = 36  # roots land in C2..B2 (65-123 Hz): deep, yet above the mud where notes blur
BASS_HI = 52


def root_pitch(chord: Chord, lo: int = BASS_LO) -> int:
    """The chord root in the octave starting at ``lo``."""
    return in_range(chord.root_pitch(2), lo, lo + 11)


def degree_pitch(ctx: BarContext, degree: int, lo: int = BASS_LO) -> int:
    """A scale degree placed in the bass octave starting at ``lo``."""
    return in_range(ctx.scale.pitch(degree, 2), lo, lo + 11)


class _Bass(LayerStyle):
    layer = "bass"
    timbre: Osc | Struck

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        return self.timbre.render(event, vctx)


class Drone(_Bass):
    """Tonic pedal held across two bars: rounded saw, slow swell, long overlapping release.

    A drone ignores the chord changes on purpose (the harmony moves above a fixed floor) and
    re-articulates only every second bar; a slow 0.25 Hz drift keeps the held tone alive.
    """

    name = "drone"
    gain = 0.38
    timbre = Osc(
        "soft",
        cap=8,
        bright=0.5,
        attack=1.2,
        decay=1.5,
        sustain=0.85,
        release=2.5,
        drift=3.0,
        drift_rates=(0.25,),
    )

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        if ctx.bar % 2:
            return []
        pitch = ctx.scale.pitch(0, 2)
        pitch = in_range(pitch, BASS_LO - 2, BASS_LO + 9)
        vel = 0.8 + 0.1 * ctx.rng.random()
        return [self.note(ctx, 0.0, 2 * ctx.beats_per_bar + 0.5, pitch, vel)]


class Sustained(_Bass):
    """Chord root held for the bar on a triangle-ish tone; steps to the next root at turns.

    One firm note per chord is the plainest bass there is; at the ends of 4-bar groups it
    sometimes walks a scale step into the next root, which makes the changes audible.
    """

    name = "sustained"
    gain = 0.41
    reverb_send = 0.7
    timbre = Osc("triangle", cap=9, bright=0.6, attack=0.04, decay=0.8, sustain=0.75, release=0.5)

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        root = root_pitch(ctx.chord)
        vel = 0.78 + 0.1 * ctx.rng.random()
        if ctx.phrase_bar in (3, 7) and ctx.rng.random() < 0.7 and bpb >= 3:
            nxt = ctx.next_chord.degree
            step = 1 if ctx.rng.random() < 0.5 else -1
            approach = degree_pitch(ctx, nxt + step)
            approach = min((approach, approach - 12, approach + 12), key=lambda p: abs(p - root))
            return [
                self.note(ctx, 0.0, bpb - 1.05, root, vel),
                self.note(ctx, bpb - 1.0, 0.95, approach, vel * 0.85),
            ]
        return [self.note(ctx, 0.0, bpb - 0.05, root, vel)]


class Pulsing(_Bass):
    """Staccato 8th-note root pulse on a filtered saw whose brightness snaps on each note.

    The motor of driving ambient/synthwave: constant 8ths, an accent pattern chosen per phrase
    (straight, 3+3+2, offbeat) and a fifth or octave pickup at phrase ends. Kept fairly dry.
    """

    name = "pulsing"
    gain = 1.29
    reverb_send = 0.45
    echo_send = 0.4
    timbre = Osc(
        "bass_saw",
        fifth_safe=True,
        cap=14,
        bright=0.35,
        attack=0.004,
        decay=0.18,
        sustain=0.5,
        release=0.12,
        pluck=0.8,
        pluck_s=0.05,
        pluck_cap=30,
    )
    _ACCENTS = ((0, 4), (0, 3, 6), (2, 6), (0, 2, 4, 6))

    def __init__(self) -> None:
        self._accents: tuple[int, ...] = self._ACCENTS[0]

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        rng = ctx.rng
        if ctx.phrase_bar == 0:
            self._accents = self._ACCENTS[int(rng.integers(len(self._ACCENTS)))]
        root = root_pitch(ctx.chord)
        fifth = degree_pitch(ctx, ctx.chord.degree + 4, root + 1)
        steps = 2 * ctx.beats_per_bar
        out = []
        for i in range(steps):
            pitch = root
            if ctx.phrase_bar == 7 and i >= steps - 2:
                pitch = fifth if i == steps - 2 else root + 12
            elif rng.random() < 0.06 and i not in self._accents:
                continue  # a dropped pulse now and then keeps the line breathing
            vel = 0.9 if i in self._accents else 0.62 + 0.08 * rng.random()
            out.append(self.note(ctx, 0.5 * i, 0.32, pitch, vel))
        return out


class Walking(_Bass):
    """Quarter-note walking line on a plucked upright (modal strike, dry and woody).

    Beat 1 states the root, the middle beats move through chord tones and passing scale
    tones, and the last beat approaches the next root by a scale step, as a jazz bassist would.
    """

    name = "walking"
    gain = 0.93
    reverb_send = 0.5
    echo_send = 0.3
    timbre = Struck(
        "modal",
        (
            (
                (1.0, 0.7, 3.0),
                (2.0, 0.8, 2.2),
                (3.0, 0.28, 1.0),
                (4.0, 0.25, 0.6),
                (6.0, 0.06, 0.2),
            ),
            3.0,
        ),
        release=0.12,
    )

    def __init__(self) -> None:
        self._last: float = 0
        self._dir = 1

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        rng = ctx.rng
        bpb = ctx.beats_per_bar
        root = root_pitch(ctx.chord, 36)
        if self._last and abs(root - 12 - self._last) < abs(root - self._last) and root - 12 >= 33:
            root -= 12
        chord_set = chord_degree_set(ctx.chord, 4)
        deg = ctx.scale.degree_near(root)
        if rng.random() < 0.35:
            self._dir = -self._dir
        if ctx.scale.pitch(deg, 4) > 42:
            self._dir = -1
        elif ctx.scale.pitch(deg, 4) < 36:
            self._dir = 1
        nxt = ctx.next_chord.degree
        degs = [deg]
        cur = deg
        for _ in range(1, bpb - 1):
            step = self._dir * (2 if rng.random() < 0.55 else 1)
            cand = cur + step
            if rng.random() < 0.6:
                cand = nearest_degree(cand, chord_set, self._dir)
                if cand == cur:
                    cand = cur + self._dir
            cur = cand
            degs.append(cur)
        # approach tone: a step above or below the next root, whichever is nearer the line
        target = nearest_degree(cur, {nxt % 7}, -self._dir)
        approach = target + (1 if cur > target else -1)
        if approach == cur:
            approach = target - (1 if cur > target else -1)
        degs.append(approach)
        out = []
        for i, d in enumerate(degs[:bpb]):
            pitch = in_range(ctx.scale.pitch(d, 4), 28, 52)
            vel = (0.86 if i == 0 else 0.72) + 0.08 * rng.random()
            out.append(self.note(ctx, float(i), 0.9, pitch, vel))
        self._last = out[-1].pitch
        return out


class FifthDrone(_Bass):
    """Tonic and fifth held together for two bars on a hollow, slowly beating tone.

    The open fifth is the oldest drone there is (bagpipe, tanpura); it sits under any chord of
    the mode. A 0.5 Hz tremolo and slight drift make it breathe where ``drone`` is still.
    """

    name = "fifth_drone"
    gain = 0.51
    timbre = Osc(
        "hollow",
        cap=8,
        bright=0.6,
        attack=0.9,
        decay=2.0,
        sustain=0.9,
        release=2.0,
        tremolo=0.35,
        trem_hz=0.5,
        detune=1.5,
    )

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        if ctx.bar % 2:
            return []
        tonic = in_range(ctx.scale.pitch(0, 2), BASS_LO, BASS_LO + 11)
        fifth = in_range(ctx.scale.pitch(4, 2), tonic + 1, tonic + 12)
        dur = 2 * ctx.beats_per_bar + 0.25
        vel = 0.72 + 0.08 * ctx.rng.random()
        return [self.note(ctx, 0.0, dur, tonic, vel), self.note(ctx, 0.0, dur, fifth, vel * 0.8)]


class SubPulse(_Bass):
    """Deep sine sub an octave below the usual bass, struck on beats 1 and 3 with slow decays.

    Felt more than heard: a near-pure sine (with a trace of 2nd harmonic so small speakers
    show it) that swells and dies away twice a bar, sometimes with an 8th-note pickup.
    """

    name = "sub_pulse"
    gain = 1.20
    reverb_send = 0.4
    timbre = Osc("sub", cap=3, attack=0.012, decay=0.9, sustain=0.0, release=0.5)

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        rng = ctx.rng
        bpb = ctx.beats_per_bar
        root = in_range(ctx.chord.root_pitch(1), 26, 37)
        half = bpb / 2.0
        out = [
            self.note(ctx, 0.0, half * 0.9, root, 0.92),
            self.note(ctx, half, half * 0.9, root, 0.78 + 0.08 * rng.random()),
        ]
        if rng.random() < 0.3:
            nxt = in_range(ctx.next_chord.root_pitch(1), 26, 37)
            out.append(self.note(ctx, bpb - 0.5, 0.45, nxt, 0.6))
        return out


class Octave(_Bass):
    """Alternating root / octave 8ths on a reedy synth bass: the disco-octave bounce.

    The high note is shorter and softer than the low one, so the line bounces; phrase ends
    swap in a fifth or descend the chord to set up the next phrase.
    """

    name = "octave"
    gain = 0.91
    reverb_send = 0.6
    timbre = Osc(
        "bass_square",
        fifth_safe=True,
        cap=12,
        bright=0.45,
        attack=0.004,
        decay=0.22,
        sustain=0.55,
        release=0.12,
        pluck=0.4,
        pluck_s=0.04,
        pluck_cap=20,
    )

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        rng = ctx.rng
        root = root_pitch(ctx.chord, 33)
        fifth = degree_pitch(ctx, ctx.chord.degree + 4, root + 1)
        steps = 2 * ctx.beats_per_bar
        use_fifth = rng.random() < 0.25
        out = []
        for i in range(steps):
            high = i % 2 == 1
            pitch = root + 12 if high else root
            if high and use_fifth and i in (3, 7):
                pitch = fifth
            if ctx.phrase_bar == 7 and i >= steps - 3:
                pitch = ctx.scale.pitch(ctx.chord.degree + 4 - 2 * (i - steps + 3), 2)
                pitch = in_range(pitch, root, root + 12)
            vel = 0.62 + 0.06 * rng.random() if high else 0.88
            out.append(self.note(ctx, 0.5 * i, 0.28 if high else 0.4, pitch, vel))
        return out


class ArpBass(_Bass):
    """Chord-tone arpeggio in 16ths (8ths at fast tempi): a bright plucked sequencer bass.

    Root, third, fifth and octave in a pattern chosen per phrase (up, up-down, root-pedal,
    broken); legato notes on a saw whose brightness snaps open on each step and closes
    within a few hundredths of a second, like a filter-enveloped sequencer line.
    """

    name = "arp_bass"
    gain = 0.69
    reverb_send = 0.6
    timbre = Osc(
        "bass_saw",
        fifth_safe=True,
        cap=24,
        bright=0.8,
        attack=0.003,
        decay=0.4,
        sustain=0.6,
        release=0.1,
        pluck=1.0,
        pluck_s=0.035,
        pluck_cap=32,
    )
    _PATTERNS = (
        (0, 1, 2, 3),
        (0, 1, 2, 3, 2, 1),
        (0, 2, 0, 3, 0, 2, 0, 1),
        (0, 2, 1, 3),
        (0, 3, 2, 1),
    )

    def __init__(self) -> None:
        self._pattern: tuple[int, ...] = self._PATTERNS[0]
        self._pos = 0

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        rng = ctx.rng
        if ctx.phrase_bar % 4 == 0:
            self._pattern = self._PATTERNS[int(rng.integers(len(self._PATTERNS)))]
        step = 0.25 if 60.0 / ctx.seconds_per_beat < 100 else 0.5
        root = root_pitch(ctx.chord, 35)  # octave on top stays at or under A#3
        tones = [
            in_range(ctx.scale.pitch(ctx.chord.degree + o, 2), root, root + 11) for o in (0, 2, 4)
        ]
        tones.append(root + 12)
        n = int(round(ctx.beats_per_bar / step))
        out = []
        for i in range(n):
            idx = self._pattern[self._pos % len(self._pattern)]
            self._pos += 1
            if ctx.phrase_bar == 7 and i >= n - n // 4:
                idx = 3 - (i % 4)  # a closing downward sweep
            vel = 0.85 if i % 4 == 0 else 0.6 + 0.1 * rng.random()
            out.append(self.note(ctx, i * step, step * 0.95, tones[idx], vel))
        return out


STYLES: dict[str, type[LayerStyle]] = {
    cls.name: cls
    for cls in (Drone, Sustained, Pulsing, Walking, FifthDrone, SubPulse, Octave, ArpBass)
}
