"""Texture layer styles: the quiet, long background surface under the music.

Textures sit below the pad. Pitched ones (shimmer, stars, crystal, pad_whisper, glitch
tones) use chord / scale tones only; noisy ones keep their energy above ~1-2 kHz, so they add
air without smearing the key. Long sounds are read from cached circular buffers (tones with
their tremolo baked in, pre-filtered noise beds) at random offsets and shaped by cached
envelopes, so a bar of texture costs a couple of vector multiplies and never repeats a slice.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from synth import dsp
from synth.dsp import F32
from synth.events import NoteEvent
from synth.layers._oneshot import (
    NoiseBed,
    band_noise,
    bright_level,
    cached,
    decay,
    drive_level,
    fade_curve,
    fm_bell,
    level_cutoff,
    loop_read,
    loop_tone,
    midi_of_hz,
    noise_bed,
    play,
    qlen,
    shape,
    swell,
)
from synth.layers.base import BarContext, LayerStyle, VoiceContext
from synth.params import SAMPLE_RATE

SR = SAMPLE_RATE
# Voices whose events carry the centre of a noise band as pitch, not a note (not in key).
UNPITCHED_VOICES: frozenset[str] = frozenset(
    {"surface", "in", "out", "noise", "tick", "wave", "air"}
)


def _secs(x: float) -> int:
    return max(2, int(x * SR))


def _bar_secs(ctx: BarContext | VoiceContext, beats: float) -> float:
    return beats * ctx.seconds_per_beat


class TextureStyle(LayerStyle):
    """Base: texture layer, per-instance noise-bed reader (no slice reused back to back)."""

    layer = "texture"

    def __init__(self) -> None:
        self._beds = NoiseBed()

    def _bed_note(
        self, bed: F32, env: F32, velocity: float, vctx: VoiceContext, slot: object = 0
    ) -> F32:
        out = self._beds.take(bed, env.size, vctx.rng, slot, env)
        out *= np.float32(velocity)
        return out


def _tone_note(buf: F32, env: F32, velocity: float, rng: np.random.Generator) -> F32:
    out = loop_read(buf, int(rng.integers(buf.size)), env.size, env)
    out *= np.float32(velocity)
    return out


class Shimmer(TextureStyle):
    """High sparkle: the chord's tones two to three octaves up, each with its own fast
    tremolo (about 16th-note rate, never slower than 5 Hz), held continuously.

    The flicker of independent tremolos on pure high tones is what reads as "shimmer".
    """

    name = "shimmer"
    gain = 0.21
    echo_send = 0.6

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        ev = []
        for i, p in enumerate(ctx.chord.tones(3, octave=6)):
            lift = 12 if (i == 2 and ctx.rng.random() < 0.5) else 0
            ev.append(self.note(ctx, 0.0, bpb, p + lift, 0.3 + 0.15 * ctx.rng.random(), str(i)))
        if ctx.rng.random() < 0.5:  # a brief extra glint an octave higher
            p = ctx.chord.tones(3, octave=7)[int(ctx.rng.integers(3))]
            off = float(ctx.rng.integers(bpb)) + 0.5 * float(ctx.rng.integers(2))
            ev.append(self.note(ctx, min(off, bpb - 1.0), 1.0, p, 0.25, "glint"))
        return ev

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        rate = max(5.0, 4.0 / vctx.seconds_per_beat)
        rate *= {"1": 1.13, "2": 0.88, "glint": 1.3}.get(event.voice, 1.0)
        buf = loop_tone(event.pitch, ((1.0, 1.0), (2.0, 0.12)), 0.0, rate, 0.8)
        gate = vctx.gate_samples(event)
        rel = _secs(0.35)
        fade_in = _secs(min(0.3 * vctx.params.attack_scale, 0.5 * gate / SR))
        return _tone_note(buf, swell(gate + rel, fade_in, rel), event.velocity, vctx.rng)


class ShimmerSlow(TextureStyle):
    """The shimmer register, but breathing: chord tones (octaves 5-6) swell in over most of
    a bar and fade over another, staggered, as slightly detuned pairs that beat slowly.

    No tremolo; motion comes from overlapping swells, so it glows rather than flickers.
    """

    name = "shimmer_slow"
    gain = 0.22
    echo_send = 0.4

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        tones = [*ctx.chord.tones(3, octave=5), ctx.chord.root_pitch(6)]
        k = 1 + int(ctx.rng.random() < 0.6)
        picks = ctx.rng.choice(len(tones), size=k, replace=False)
        ev = []
        for j, i in enumerate(picks):
            off = 0.0 if j == 0 else float(bpb // 2)
            ev.append(self.note(ctx, off, 2 * bpb, tones[int(i)], 0.4 + 0.2 * ctx.rng.random()))
        return ev

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        buf = loop_tone(event.pitch, ((1.0, 1.0), (3.0, 0.06)), 5.0)
        gate = vctx.gate_samples(event)
        n = gate + _secs(min(4.0, 0.5 * gate / SR))
        peak = min(0.7, 0.4 * vctx.params.attack_scale**0.5)
        return _tone_note(buf, shape("hump", n, peak), event.velocity, vctx.rng)


class VinylCrackle(TextureStyle):
    """A record's surface: sparse ticks and the odd louder pop over a quiet, high hiss that
    wobbles at 33 rpm. All above ~2 kHz, dry (it is on the record, not in the room).

    Continuous: one event per bar, cross-faded, each reading a fresh stretch of the surface.
    """

    name = "vinyl_crackle"
    gain = 0.73
    reverb_send = 0.15
    echo_send = 0.0

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        vel = 0.8 + 0.2 * ctx.rng.random()
        return [self.note(ctx, 0.0, ctx.beats_per_bar, midi_of_hz(4500.0), vel, "surface")]

    @staticmethod
    def _surface(level: int, grit: int) -> F32:
        lp = min(12000.0, max(5000.0, 1.5 * level_cutoff(level)))

        def make(rng: np.random.Generator, n: int) -> F32:
            t = dsp.ramp(n) / np.float32(SR)
            hiss = band_noise(rng, n, 3500.0, lp, order=2)
            hiss *= 1.0 + 0.35 * np.sin(np.float32(2 * np.pi * 0.55) * t)
            ticks = np.zeros(n, dtype=np.float32)
            k = int(n / SR * 14.0)
            ticks[rng.integers(0, n, k)] = rng.uniform(0.3, 1.0, k).astype(np.float32) ** 2
            ticks = dsp.biquad(dsp.biquad(ticks, "highpass", 2500.0), "lowpass", lp)
            pops = np.zeros(n, dtype=np.float32)
            m = int(n / SR * (0.7 + 0.8 * grit))
            pops[rng.integers(0, n, m)] = rng.uniform(0.6, 1.0, m).astype(np.float32)
            pops = dsp.biquad(pops, "bandpass", 2600.0, 1.5)
            x = 0.3 * hiss / np.float32(np.sqrt(np.mean(hiss**2)))
            x += 8.0 * ticks / np.float32(np.abs(ticks).max())
            x += 12.0 * pops / np.float32(np.abs(pops).max())
            return np.tanh(0.25 * x)  # rounds the loudest pops: crackle, not gunshots

        return noise_bed(("vinyl", level, grit), make, 8.0, peak_norm=True)

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        bed = self._surface(bright_level(vctx.params), drive_level(vctx.params))
        fade = _secs(0.15)
        env = swell(vctx.gate_samples(event) + fade, fade, fade)
        return self._bed_note(bed, env, event.velocity, vctx)


class Breath(TextureStyle):
    """Breathing: band-passed air drawn in (higher, slowly rising) and let out (lower,
    falling), one breath per bar so the breathing follows the tempo.

    Sometimes a deeper breath, sometimes a held one (no audible exhale).
    """

    name = "breath"
    gain = 0.41
    reverb_send = 0.6
    echo_send = 0.2

    _BANDS: ClassVar[dict[str, tuple[float, float, float]]] = {
        "in": (2200.0, 6000.0, 3600.0),
        "out": (1700.0, 4200.0, 2700.0),
    }

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        split = bpb * (0.4 + 0.08 * ctx.rng.random())
        deep = 1.0 if ctx.rng.random() < 0.8 else 1.3
        ev = [self.note(ctx, 0.0, split, midi_of_hz(3600.0), 0.55 * deep, "in")]
        if ctx.rng.random() < 0.9:
            ev.append(self.note(ctx, split, bpb - split, midi_of_hz(2700.0), 0.75 * deep, "out"))
        return ev

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        voice = event.voice if event.voice in self._BANDS else "out"
        lo, hi, _centre = self._BANDS[voice]
        hi = min(hi, max(lo * 1.6, 1.2 * vctx.params.cutoff_hz))
        level = bright_level(vctx.params)

        def make(rng: np.random.Generator, n: int) -> F32:
            return band_noise(rng, n, lo, hi, order=4)

        bed = noise_bed(("breath", voice, level), make, 6.0)
        gate = vctx.gate_samples(event)
        if voice == "in":
            env = shape("late", qlen(gate + _secs(0.1)), 0.85)
        else:
            env = shape("early", qlen(int(gate * 1.1)), 0.2)
        return self._bed_note(bed, env, event.velocity, vctx, voice)


class Stars(TextureStyle):
    """Tiny high pings scattered at random moments (off the grid), scale tones in octaves
    6-7, each a pure sine that rings briefly: a night sky of points of light."""

    name = "stars"
    gain = 0.36
    echo_send = 1.0

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        count = int(ctx.rng.poisson(1.1 * bpb))
        chord = ctx.chord.tones(3, octave=6)
        ev = []
        for _ in range(count):
            if ctx.rng.random() < 0.6:
                p = chord[int(ctx.rng.integers(3))] + 12 * int(ctx.rng.integers(2))
            else:
                p = ctx.scale.pitch(int(ctx.rng.integers(0, 14)), 6)
            off = float(ctx.rng.uniform(0.0, bpb))
            ev.append(self.note(ctx, off, 0.25, p, 0.3 + 0.4 * ctx.rng.random(), "star"))
        return ev

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        freq = dsp.midi_to_hz(event.pitch)

        def make(rng: np.random.Generator, i: int) -> F32:
            n = _secs(1.4)
            x = dsp.sine(freq, n, rng.random()) + 0.05 * dsp.sine(2 * freq, n)
            return x * decay(n, 0.6 + 0.5 * i, 0.002)

        return play(cached(("star", event.pitch), make, 2), event.velocity, vctx.rng)


class Glitch(TextureStyle):
    """Broken-machine stutters on the 16th grid: short bit-crushed fragments (a chord tone
    through a crushed square wave, a crushed noise burst, or a digital tick) repeated 2-6
    times at 16th or 32nd rate, a few bursts per bar. Dry and rhythmic.

    Crush depth follows grain; fragments are cut hard to the stutter length (with a 2 ms
    fade) which is the signature of a buffer-repeat effect.
    """

    name = "glitch"
    gain = 0.33
    reverb_send = 0.1
    echo_send = 0.15

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        steps = ctx.beats_per_bar * 4
        used: set[int] = set()
        ev = []
        for _ in range(int(ctx.rng.integers(2, 5))):
            s = int(ctx.rng.integers(steps))
            rate = 0.25 if ctx.rng.random() < 0.6 else 0.125
            reps = int(ctx.rng.choice([2, 3, 4, 6]))
            span = set(range(s, min(steps, s + int(np.ceil(reps * rate / 0.25)))))
            if span & used:
                continue
            used |= span
            r = ctx.rng.random()
            if r < 0.55:
                voice = "tone"
                pitch = float(ctx.chord.tones(3, octave=5)[int(ctx.rng.integers(3))])
            elif r < 0.85:
                voice, pitch = "noise", midi_of_hz(3500.0)
            else:
                voice, pitch = "tick", midi_of_hz(6000.0)
            drop = voice == "tone" and ctx.rng.random() < 0.3  # stutter falling an octave
            vel = 0.6 + 0.3 * ctx.rng.random()
            for j in range(reps):
                pos = s * 0.25 + j * rate
                if pos >= ctx.beats_per_bar:
                    break
                p = pitch - 12 if (drop and j >= reps // 2) else pitch
                ev.append(self.note(ctx, pos, 0.8 * rate, p, vel * (1.0 - 0.08 * j), voice))
        return ev

    @staticmethod
    def _crush(x: F32, hold: int, bits: int) -> F32:
        held = np.repeat(x[::hold], hold)[: x.size]
        q = np.float32(2 ** (bits - 1))
        return (np.round(held * q) / q).astype(np.float32)

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        grit = drive_level(vctx.params)
        level = bright_level(vctx.params)
        voice = event.voice if event.voice in ("tone", "noise", "tick") else "tone"
        pitch = round(event.pitch) if voice == "tone" else 0

        def make(rng: np.random.Generator, i: int) -> F32:
            n = _secs(0.16)
            if voice == "tone":
                x = dsp.osc("square", dsp.midi_to_hz(pitch), n, cutoff_hz=level_cutoff(level))
                x = x * (0.6 + 0.4 * decay(n, 0.25))
            elif voice == "noise":
                x = band_noise(rng, n, 1800.0, 9000.0) * 3.0 * decay(n, 0.12)
            else:
                x = band_noise(rng, n, 3000.0) * 3.0 * decay(n, 0.012)
            x = np.clip(x, -1.0, 1.0)
            return self._crush(x, 3 + 2 * grit + i, 6 - grit)

        frag = play(
            cached(("glitch", voice, pitch, level, grit), make, 2), event.velocity, vctx.rng
        )
        m = min(frag.size, max(_secs(0.01), vctx.gate_samples(event)))
        out = frag[:m]
        f = min(m, _secs(0.002))
        # The hard cut of a buffer repeat, minus the click.
        out[m - f :] *= fade_curve("out", f) ** 2
        return out


class NoiseWash(TextureStyle):
    """Distant surf: slow noise swells every two bars, each wave rising over ~40% of its
    length and rolling back; the crest adds a brighter hiss (spray). Band-limited (about
    1.8-7 kHz) so it stays an airy wash rather than a roar, and clear of the key."""

    name = "noise_wash"
    gain = 0.37
    reverb_send = 0.7
    echo_send = 0.1

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        if ctx.bar % 2 == 1:
            if ctx.rng.random() < 0.25:  # a small wave in between
                return [self.note(ctx, bpb / 2, bpb, midi_of_hz(2000.0), 0.4, "wave")]
            return []
        vel = 0.6 + 0.35 * ctx.rng.random()
        return [self.note(ctx, 0.0, 2 * bpb, midi_of_hz(2000.0), vel, "wave")]

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        level = bright_level(vctx.params)
        lp = min(4500.0, max(2800.0, level_cutoff(level)))

        def dark(rng: np.random.Generator, n: int) -> F32:
            return band_noise(rng, n, 1800.0, lp, order=4)

        def spray(rng: np.random.Generator, n: int) -> F32:
            return band_noise(rng, n, 2800.0, min(9000.0, 2.5 * lp), order=2)

        gate = vctx.gate_samples(event)
        n = int(gate * 1.4)
        out = self._bed_note(
            noise_bed(("wash", level), dark, 8.0), shape("hump", n, 0.4), 1.0, vctx
        )
        crest = self._bed_note(
            noise_bed(("spray", level), spray, 6.0), shape("late", n, 0.42), 0.5, vctx, "spray"
        )
        out += crest
        out *= np.float32(event.velocity)
        return out


class Crystal(TextureStyle):
    """Glass: occasional high FM tones with a non-integer (3.53) ratio, so the overtones are
    inharmonic like struck crystal, ringing for a few seconds. At most one or two per bar."""

    name = "crystal"
    gain = 0.26
    echo_send = 0.7

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        ev = []
        p_note = 0.75 if ctx.phrase_bar in (0, 4) else 0.45
        if ctx.rng.random() < p_note:
            tones = ctx.chord.tones(3, octave=6)
            p = tones[int(ctx.rng.integers(3))] + (12 if ctx.rng.random() < 0.25 else 0)
            off = 0.5 * float(ctx.rng.integers(2 * bpb))
            ev.append(self.note(ctx, off, 1.0, p, 0.55 + 0.35 * ctx.rng.random(), "glass"))
            if ctx.rng.random() < 0.2 and off + 0.5 < bpb:
                ev.append(self.note(ctx, off + 0.5, 1.0, p + 12, 0.4, "glass"))
        return ev

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        level = bright_level(vctx.params)
        freq = dsp.midi_to_hz(event.pitch)

        def make(rng: np.random.Generator, i: int) -> F32:
            n = _secs(2.6)
            ratio = 3.53 if round(event.pitch) % 2 else 4.47
            index = 0.6 + 0.35 * level
            x = fm_bell(freq, n, ratio, index, 0.6)
            return x * decay(n, 2.3, 0.006)

        return play(cached(("crystal", event.pitch, level), make, 1), event.velocity, vctx.rng)


class PadWhisper(TextureStyle):
    """Breathy pad: noise filtered into narrow resonances at the chord tones (octave 4), plus
    a little high air, held bar to bar: a choir of whispers that still carries the harmony."""

    name = "pad_whisper"
    gain = 0.26
    echo_send = 0.3

    def bar(self, ctx: BarContext) -> list[NoteEvent]:
        bpb = ctx.beats_per_bar
        ev = [
            self.note(ctx, 0.0, bpb, p, 0.6 + 0.15 * ctx.rng.random(), "voice")
            for p in ctx.chord.tones(3, octave=4)
        ]
        ev.append(self.note(ctx, 0.0, bpb, midi_of_hz(5000.0), 0.35, "air"))
        return ev

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        level = bright_level(vctx.params)
        if event.voice == "air":

            def make(rng: np.random.Generator, n: int) -> F32:
                return band_noise(rng, n, 4000.0, min(12000.0, 2.0 * level_cutoff(level)))

            bed = noise_bed(("whisper_air", level), make, 5.0)
            slot: object = "air"
        else:
            freq = dsp.midi_to_hz(round(event.pitch))
            q = 45.0

            def make(rng: np.random.Generator, n: int) -> F32:
                x = dsp.noise(n, rng)
                return dsp.biquad(dsp.biquad(x, "bandpass", freq, q), "bandpass", freq, q)

            bed = noise_bed(("whisper", round(event.pitch)), make, 3.0)
            slot = round(event.pitch)
        gate = vctx.gate_samples(event)
        rel = _secs(min(3.0, 0.4 * gate / SR))
        fade_in = _secs(min(0.45 * gate / SR, 0.35 * vctx.params.attack_scale * gate / SR))
        return self._bed_note(bed, swell(gate + rel, fade_in, rel), event.velocity, vctx, slot)


STYLES: dict[str, type[LayerStyle]] = {
    cls.name: cls
    for cls in (
        Shimmer,
        ShimmerSlow,
        VinylCrackle,
        Breath,
        Stars,
        Glitch,
        NoiseWash,
        Crystal,
        PadWhisper,
    )
}
