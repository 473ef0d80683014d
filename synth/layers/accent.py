"""Accent layer styles: sparse, clearly audible events at musical points.

Accents punctuate: bar starts, phrase starts and phrase ends (``ctx.phrase_bar``), with
rhythmic placement in beats so they follow the tempo. Every pitched accent uses chord or
scale tones. Each sound is synthesised once per (pitch, brightness level) and cached, so a
note costs one multiply.
"""

from __future__ import annotations

import numpy as np

from synth import dsp
from synth.dsp import F32
from synth.events import NoteEvent
from synth.layers._oneshot import (
    band_noise,
    bright_level,
    cached,
    decay,
    fm_bell,
    level_cutoff,
    midi_of_hz,
    modal_fast,
    play,
)
from synth.layers.base import BarContext, LayerStyle, VoiceContext
from synth.params import SAMPLE_RATE

SR = SAMPLE_RATE
# Voices whose events carry the centre of a noise band as pitch, not a note (not in key).
UNPITCHED_VOICES: frozenset[str] = frozenset({"gust"})


def _secs(x: float) -> int:
    return max(2, int(x * SR))


def _chance(ctx: BarContext, p: float) -> bool:
    return bool(ctx.rng.random() < p)


def _pick(ctx: BarContext, items: list[int]) -> int:
    return items[int(ctx.rng.integers(len(items)))]


class AccentStyle(LayerStyle):
    """Base: accent layer; ``sound(pitch, level, rng, take)`` makes one cached one-shot."""

    layer = "accent"
    takes = 1

    def sound(self, pitch: float, level: int, rng: np.random.Generator, take: int) -> F32:
        raise NotImplementedError

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        level = bright_level(vctx.params)
        pitch = event.pitch

        def make(rng: np.random.Generator, take: int) -> F32:
            return self.sound(pitch, level, rng, take)

        key = (self.name, event.voice, pitch, level)
        return play(cached(key, make, self.takes), event.velocity, vctx.rng)


def _bell(freq: float, level: int, seconds: float, index: float, t60: float) -> F32:
    """FM bell (carrier:modulator 1:3.5, the tubular-bell ratio) plus a soft octave hum."""
    n = _secs(seconds)
    x = fm_bell(freq, n, 3.5, index * (0.55 + 0.15 * level), 0.5, t60)
    hum = _secs(0.6 * t60)
    x[:hum] += 0.25 * dsp.sine(2.0 * freq, hum) * decay(hum, 0.6 * t60, 0.002)
    return x


class Bells(AccentStyle):
    """Tubular bells: one or two chord tones struck every second bar (octave 6), a long
    inharmonic FM ring (1:3.5); phrase ends may add an answering bell on beat 3.

    Octave 6 keeps the bell's inharmonic sidebands above 2 kHz, out of the key's way."""

    name = "bells"
    gain = 0.40
    echo_send = 0.8

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        ev: list[NoteEvent] = []
        tones = ctx.chord.tones(3, octave=6)
        if ctx.bar % 2 == 0:
            first = _pick(ctx, tones)
            ev.append(self.note(ctx, 0.0, 2.0, first, 0.85, "bell"))
            if _chance(ctx, 0.5):
                other = _pick(ctx, [t for t in tones if t != first])
                ev.append(
                    self.note(ctx, 1.0 if _chance(ctx, 0.5) else 0.0, 2.0, other, 0.6, "bell")
                )
        elif ctx.phrase_bar == 7 and _chance(ctx, 0.6):
            ev.append(self.note(ctx, min(2.0, ctx.beats_per_bar - 1.0), 2.0, tones[0], 0.6, "bell"))
        return ev

    def sound(self, pitch: float, level: int, rng: np.random.Generator, take: int) -> F32:
        return _bell(dsp.midi_to_hz(pitch), level, 3.6, 2.6, 3.6)


class BellsDense(AccentStyle):
    """Small bells, often: every beat or two a group of two or three chord tones in octaves
    6-7, struck together or rolled in 16ths, short ring (about 1.4 s)."""

    name = "bells_dense"
    gain = 0.52
    echo_send = 0.6

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        ev: list[NoteEvent] = []
        tones = ctx.chord.tones(3, octave=6) + ctx.chord.tones(2, octave=7)
        b = 0.0
        while b < ctx.beats_per_bar:
            k = 2 + int(_chance(ctx, 0.4))
            picks = ctx.rng.choice(len(tones), size=k, replace=False)
            roll = 0.25 if _chance(ctx, 0.5) else 0.0
            for j, i in enumerate(sorted(picks)):
                pos = b + j * roll
                if pos < ctx.beats_per_bar:
                    ev.append(self.note(ctx, pos, 0.5, tones[int(i)], 0.5 - 0.08 * j, "bell"))
            b += 1.0 if _chance(ctx, 0.45) else 2.0
        return ev

    def sound(self, pitch: float, level: int, rng: np.random.Generator, take: int) -> F32:
        return _bell(dsp.midi_to_hz(pitch), level, 1.6, 1.6, 1.4)


def _pluck(freq: float, level: int, t60: float, harmonics: int) -> F32:
    """Plucked string: harmonics 1/k, higher ones dying faster; brightness sets how many."""
    cutoff = level_cutoff(level)
    nh = max(3, min(harmonics, int(1.8 * cutoff / freq)))  # darker: fewer harmonics
    partials = tuple((float(k), 1.0 / k, t60 / (1.0 + 0.45 * (k - 1))) for k in range(1, nh + 1))
    n = _secs(t60 * 1.1)
    x = modal_fast(freq, n, partials)
    return x * decay(n, t60 * 1.5, 0.0015)


class Pluck(AccentStyle):
    """Plucked strings on the offbeats: one to three chord tones per bar on 'and's
    (octaves 4-5), the odd double-stop, more on phrase ends."""

    name = "pluck"
    gain = 1.24
    echo_send = 1.0

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        tones = ctx.chord.tones(3, octave=4) + ctx.chord.tones(2, octave=5)
        k = 1 + int(_chance(ctx, 0.5)) + int(ctx.phrase_bar == 7)
        spots = ctx.rng.choice(bpb, size=min(k, bpb), replace=False)
        ev = []
        for b in sorted(spots):
            p = _pick(ctx, tones)
            ev.append(self.note(ctx, b + 0.5, 0.5, p, 0.8, "string"))
            if _chance(ctx, 0.2):
                ev.append(
                    self.note(
                        ctx, b + 0.5, 0.5, ctx.scale.pitch(ctx.chord.degree + 4, 4), 0.55, "string"
                    )
                )
        return ev

    def sound(self, pitch: float, level: int, rng: np.random.Generator, take: int) -> F32:
        return _pluck(dsp.midi_to_hz(pitch), level, 1.3, 10)


def _tube(freq: float, level: int, t60: float) -> F32:
    """Wind-chime tube: free-bar partials 1 : 2.76 : 5.40 (inharmonic), long ring."""
    n = _secs(t60 * 1.1)
    hi = 0.25 + 0.1 * level
    partials = ((1.0, 1.0, t60), (2.76, hi, 0.5 * t60), (5.40, 0.5 * hi, 0.25 * t60))
    return modal_fast(freq, n, partials) * decay(n, t60 * 1.3, 0.001)


class Chime(AccentStyle):
    """Wind chimes: a gust sets off a cluster of four to seven quick high tones (scale
    tones, octaves 6-7) at random moments within about a beat, every other bar."""

    name = "chime"
    gain = 0.47
    echo_send = 0.7

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        if ctx.bar % 2 == 1 and not (ctx.phrase_bar == 7 and _chance(ctx, 0.7)):
            return []
        ev = []
        start = float(ctx.rng.choice([0.0, 0.5, 1.0]))
        tones = [ctx.scale.pitch(d, 6) for d in (0, 2, 4, 5, 7, 9)]
        t = start
        for i in range(int(ctx.rng.integers(4, 8))):
            ev.append(self.note(ctx, t, 0.5, _pick(ctx, tones), 0.75 - 0.06 * i, "tube"))
            t += float(ctx.rng.uniform(0.06, 0.3))
            if t >= ctx.beats_per_bar:
                break
        return ev

    def sound(self, pitch: float, level: int, rng: np.random.Generator, take: int) -> F32:
        return _tube(dsp.midi_to_hz(pitch), level, 2.2)


def _blip(freq: float, seconds: float, t60: float, third: float) -> F32:
    """A short sine (plus optional 3rd harmonic) with a 5 ms onset: a dot, not a click."""
    n = _secs(seconds)
    x = dsp.sine(freq, n) + third * dsp.sine(3.0 * freq, n)
    return x * decay(n, t60, 0.005)


class Blip(AccentStyle):
    """Electronic blips on a regular grid: one short pure sine per beat stepping through
    the chord (an arpeggio of dots), occasional rests, a double at phrase ends."""

    name = "blip"
    gain = 1.26
    echo_send = 1.0

    def __init__(self) -> None:
        self._step = 0

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        tones = [*ctx.chord.tones(3, octave=5), ctx.chord.root_pitch(6)]
        ev = []
        for b in range(ctx.beats_per_bar):
            self._step += 1
            if _chance(ctx, 0.15):
                continue
            ev.append(self.note(ctx, float(b), 0.25, tones[self._step % len(tones)], 0.75, "blip"))
        if ctx.phrase_bar == 7:
            ev.append(self.note(ctx, ctx.beats_per_bar - 0.5, 0.25, tones[-1], 0.6, "blip"))
        return ev

    def sound(self, pitch: float, level: int, rng: np.random.Generator, take: int) -> F32:
        return _blip(dsp.midi_to_hz(pitch), 0.3, 0.16, 0.0)


class BlipRandom(AccentStyle):
    """Blips at random moments (off any grid) on random scale tones across two octaves,
    a little hollow (odd harmonic): a computer thinking out loud."""

    name = "blip_random"
    gain = 1.15
    echo_send = 1.0

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        ev = []
        for _ in range(int(ctx.rng.poisson(2.5))):
            pitch = ctx.scale.pitch(int(ctx.rng.integers(0, 14)), 5)
            off = float(ctx.rng.uniform(0.0, ctx.beats_per_bar))
            ev.append(self.note(ctx, off, 0.2, pitch, 0.5 + 0.4 * ctx.rng.random(), "blip"))
        return ev

    def sound(self, pitch: float, level: int, rng: np.random.Generator, take: int) -> F32:
        return _blip(dsp.midi_to_hz(pitch), 0.22, 0.1, 0.3)


class BrassHit(AccentStyle):
    """Brass stab at the start of every 4-bar phrase: the chord (root, third, fifth, octave
    in octaves 3-4) as detuned saws whose brightness snaps open and closes within 100 ms,
    short and punchy. Phrase ends sometimes get an off-beat pickup stab."""

    name = "brass_hit"
    gain = 0.76
    echo_send = 0.5

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        ev: list[NoteEvent] = []
        if ctx.bar % 4 == 0:
            chord = [*ctx.chord.tones(3, octave=3), ctx.chord.root_pitch(4)]
            ev += [self.note(ctx, 0.0, 0.5, p, 0.45, "stab") for p in chord]
        elif ctx.phrase_bar == 7 and _chance(ctx, 0.5):
            chord = ctx.next_chord.tones(3, octave=3)
            ev += [self.note(ctx, ctx.beats_per_bar - 0.5, 0.25, p, 0.35, "stab") for p in chord]
        return ev

    def sound(self, pitch: float, level: int, rng: np.random.Generator, take: int) -> F32:
        freq = dsp.midi_to_hz(pitch)
        n = _secs(0.55)
        cutoff = level_cutoff(level)
        k = dsp.harmonics_for(freq, max(2500.0, 2.0 * cutoff), 32)
        k = 1 << (k.bit_length() - 1)  # power of two: a handful of shared wavetables
        bright_t, dark_t = dsp.harmonic_table("saw", k), dsp.harmonic_table("saw", 3)
        up, down = freq * 2 ** (7 / 1200), freq * 2 ** (-7 / 1200)
        bright = dsp.fixed_phase_osc(bright_t, freq, n) + dsp.fixed_phase_osc(bright_t, up, n, 0.3)
        dark = dsp.fixed_phase_osc(dark_t, freq, n) + dsp.fixed_phase_osc(dark_t, down, n, 0.6)
        t = dsp.ramp(n) / np.float32(SR)
        opening = np.exp(-t / np.float32(0.07))  # the "blat": harmonics flare then close
        x = dark + (bright - dark) * opening
        amp = dsp.adsr(n, 0.012, 0.12, 0.55, 0.12, _secs(0.3))
        return x * amp


class Wind(AccentStyle):
    """A gust of wind: noise whose band sweeps up and back down (a whoosh) over two beats,
    leading into phrase starts and sometimes on its own."""

    name = "wind"
    gain = 0.59
    reverb_send = 1.0
    echo_send = 0.3
    takes = 4

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        if ctx.bar % 4 == 3 or (ctx.bar % 4 == 1 and _chance(ctx, 0.35)):
            off = max(0.0, bpb - 2.0 - 0.5 * float(ctx.rng.integers(2)))
            return [
                self.note(ctx, off, 2.0, midi_of_hz(2200.0), 0.7 + 0.3 * ctx.rng.random(), "gust")
            ]
        return []

    def sound(self, pitch: float, level: int, rng: np.random.Generator, take: int) -> F32:
        # A bank of fixed noise bands (shared by all takes); each gust moves a bump of gain
        # across them, up and back down, which the ear hears as a sweeping band-pass.
        n = _secs(2.2)
        t = np.linspace(0.0, 1.0, n, dtype=np.float32)
        peak = np.float32(rng.uniform(0.35, 0.6))
        top = rng.uniform(3.2, 5.0)
        pos = np.where(t < peak, t / peak, 1.0 - 0.7 * (t - peak) / (1.0 - peak)) * np.float32(top)
        x = np.zeros(n, dtype=np.float32)
        for k, band in enumerate(_wind_bands(level)):
            off = int(rng.integers(band.size - n))
            x += band[off : off + n] * np.exp(-((pos - np.float32(k)) ** 2) * np.float32(0.9))
        amp = np.sin(np.float32(np.pi) * t) ** 2 * (0.3 + pos / np.float32(top))
        return x * amp


def _wind_bands(level: int) -> list[F32]:
    """Six band-passed noise beds, 900 Hz to 5.4 kHz (brightness trims the top bands)."""
    centres = (900.0, 1300.0, 1900.0, 2700.0, 3800.0, 5400.0)
    top = 1.5 * level_cutoff(level) + 1000.0

    def make(rng: np.random.Generator, k: int) -> F32:
        x = dsp.biquad(dsp.noise(_secs(4.0), rng), "bandpass", centres[k], 1.6)
        return x * np.float32(1.0 if centres[k] < top else 0.3)

    return cached(("wind_bands", level), make, len(centres), normalise=False)


class ArpAccent(AccentStyle):
    """A quick upward arpeggio flourish of the chord in 16ths (six to eight notes climbing
    from octave 5), at the end of every 4-bar phrase, leading into the next downbeat."""

    name = "arp_accent"
    gain = 0.44
    echo_send = 0.8

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        if ctx.bar % 4 != 3:
            return []
        bpb = ctx.beats_per_bar
        count = int(ctx.rng.integers(6, 9))
        deg = ctx.chord.degree
        start_oct = 4 if _chance(ctx, 0.5) else 5
        ev = []
        for i in range(count):
            pitch = ctx.scale.pitch(deg + 2 * i, start_oct)
            pos = bpb - 0.25 * count + 0.25 * i
            ev.append(self.note(ctx, max(0.0, pos), 0.25, pitch, 0.55 + 0.35 * i / count, "arp"))
        return ev

    def sound(self, pitch: float, level: int, rng: np.random.Generator, take: int) -> F32:
        freq = dsp.midi_to_hz(pitch)
        n = _secs(0.9)
        x = dsp.fixed_phase_osc(dsp.harmonic_table("triangle", 7), freq, n)
        return (x + 0.3 * dsp.sine(2 * freq, n)) * decay(n, 0.6, 0.0015)


class PianoNote(AccentStyle):
    """A single piano note now and then: a chord tone in octaves 4-5 on a strong beat, with
    stretched (slightly sharp) upper partials, three detuned strings beating, a two-stage
    decay and a felt-hammer thump at the attack."""

    name = "piano_note"
    gain = 1.01
    echo_send = 0.8

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        p_play = 0.8 if ctx.phrase_bar in (0, 4) else 0.35
        if not _chance(ctx, p_play):
            return []
        tones = [*ctx.chord.tones(3, octave=4), ctx.chord.root_pitch(5)]
        off = 0.0 if _chance(ctx, 0.6) else float(min(2, ctx.beats_per_bar - 1))
        return [self.note(ctx, off, 2.0, _pick(ctx, tones), 0.75 + 0.2 * ctx.rng.random(), "key")]

    def sound(self, pitch: float, level: int, rng: np.random.Generator, take: int) -> F32:
        freq = dsp.midi_to_hz(pitch)
        n = _secs(4.0)
        b_coef = 0.0004
        nh = max(4, min(10, int(2.0 * level_cutoff(level) / freq)))
        partials = []
        for k in range(1, nh + 1):
            ratio = k * np.sqrt(1.0 + b_coef * k * k)
            t60 = min(4.0, 5.0 / (1.0 + 0.5 * k))
            amp = 1.0 / k**1.1
            partials.append((float(ratio), amp, t60))
            if k <= 2:  # a second string a cent sharp: the slow beating of a real piano
                partials.append((float(ratio) * 2 ** (1.2 / 1200), 0.6 * amp, 0.5 * t60))
        x = modal_fast(freq, n, tuple(partials))
        thump = band_noise(rng, _secs(0.03), 80.0, 1200.0) * decay(_secs(0.03), 0.02, 0.001)
        x[: thump.size] += 0.25 * thump / np.float32(max(1e-9, float(np.abs(thump).max())))
        return x


STYLES: dict[str, type[LayerStyle]] = {
    cls.name: cls
    for cls in (
        Bells,
        Pluck,
        Chime,
        BellsDense,
        Blip,
        BlipRandom,
        BrassHit,
        Wind,
        ArpAccent,
        PianoNote,
    )
}
