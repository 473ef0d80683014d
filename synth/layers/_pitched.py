"""Shared machinery for the pitched layers (bass, pad, melody): cheap voices and theory helpers.

Speed is the reason this module exists. ``dsp.osc`` costs about 3 ns per sample and
``dsp.adsr`` about the same; a pad of four voices with two oscillators each would spend most of
the engine's budget on them. So the voices here use three tricks:

* **Seamless loops.** A constant-pitch oscillator is periodic, so we render one loop of
  2048..8192 samples whose length holds a whole number of cycles (pitch error under 0.2 cent),
  cache it, and ``np.tile`` it (0.2 ns per sample). Notes start at a random point of the loop,
  so repeated notes never share a phase.
* **Modulated loops.** Slow pitch drift and vibrato are baked into a 4 s loop whose modulation
  and phase both complete whole cycles, cached per pitch and read from a random offset.
* **Control-rate envelopes.** Envelopes are computed every 32 samples and expanded by a single
  broadcast multiply-add, fused with the multiply into the signal.

Struck and plucked timbres (marimba, harp, upright bass, electric piano, bells) ring the same
way every time they are struck, so each pitch is synthesised once per brightness bucket and
cached like a sampler's multisample; a note is the cached strike times its release envelope.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from synth import dsp
from synth.dsp import F32, TABLE_SIZE
from synth.events import NoteEvent
from synth.layers.base import VoiceContext
from synth.params import MODES, SAMPLE_RATE
from synth.sample_cache import SAMPLES
from synth.theory import Chord, Scale

SR = SAMPLE_RATE
CTRL = 32  # envelope control step (samples)
_FRAC = (np.arange(CTRL, dtype=np.float32) / np.float32(CTRL))[None, :]
_LOOP_MIN, _LOOP_MAX = 2048, 8192
_FIX = 30  # fixed-point fraction bits of loop phase accumulators
_MOD_LOOP_S = 4.0  # modulated loops last 4 s: drift/vibrato rates are multiples of 0.25 Hz
_MIN_FLAT = 16  # rows: shorter runs of one envelope value are not worth their own multiply


def _key_safe(even: float, fundamental: float, second: float, n: int = 40) -> tuple[float, ...]:
    """A 1/k spectrum (even harmonics scaled by ``even``) built to stay in key in the bass.

    Short low notes smear over a semitone or more (a 0.25 s note at 80 Hz spans about one
    semitone on each side), so energy moved from the fundamental to the octave (where a
    semitone is twice as wide) reads more in key; harmonics other than octaves and fifths
    (k not of the form 2^a 3^b: 5, 7, 10, 11, 13, 14, ...) sound thirds, flat sevenths and
    tritones of the note, which are outside the scale for many degrees, so they are kept at
    30 %. Returns amplitudes of harmonics 1..n.
    """
    amps = []
    for k in range(1, n + 1):
        a = (even if k % 2 == 0 else 1.0) / k
        r = k
        for p in (2, 3):
            while r % p == 0:
                r //= p
        amps.append(a if r == 1 else 0.3 * a)
    amps[0], amps[1] = fundamental, second
    return tuple(amps)


# --- wave tables ----------------------------------------------------------------------------
# Extra spectra (harmonic amplitudes 1..n) on top of dsp.harmonic_table's shapes.
_SPECTRA: dict[str, tuple[float, ...]] = {
    # flute: strong fundamental, a little 2nd and 3rd, almost nothing above
    "flute": (1.0, 0.32, 0.12, 0.05, 0.02),
    # clarinet (chalumeau): odd harmonics, even ones nearly absent
    # (5th and 7th kept modest: their thirds and flat sevenths would sound out of key)
    "clarinet": (1.0, 0.04, 0.6, 0.03, 0.14, 0.02, 0.07, 0.01, 0.1, 0.01, 0.03, 0.0, 0.03),
    # oboe-like double reed: weak fundamental, formant around harmonics 3..5 (nasal)
    "oboe": (0.55, 0.8, 1.0, 0.9, 0.7, 0.45, 0.3, 0.2, 0.14, 0.1, 0.07, 0.05, 0.035, 0.02),
    # brass: saw-like with a bump at harmonics 2..4 (the "blat")
    "brass": (1.0, 0.9, 0.75, 0.6, 0.46, 0.36, 0.28, 0.22, 0.17, 0.13, 0.1, 0.08, 0.06, 0.05),
    # sub: sine with a touch of 2nd harmonic so it speaks on small speakers
    "sub": (1.0, 0.18, 0.04),
    # hollow: odd-heavy, softer than square (fifth drones, woody basses)
    "hollow": (1.0, 0.12, 0.42, 0.06, 0.2, 0.03, 0.1, 0.02),
    # glass: sine with sparse high partials (thin high pads)
    "glass": (1.0, 0.0, 0.08, 0.0, 0.0, 0.0, 0.03),
    # drawbar organ pulled out on the octaves (16' 8' 4' 2'), the quints (3, 6) only a touch:
    # the 3rd harmonic of the scale's tritone degree (B in C major) is a note outside the key,
    # and a quintal stack keeps landing on that degree
    "drawbar": (1.0, 0.8, 0.2, 0.6, 0.0, 0.1, 0.0, 0.35),
    # key-safe basses: the fundamental under the octave, and the partials that are not octaves
    # or fifths (5 7 10 11 13 14 ...: thirds, flat sevenths, tritones) at 30 % (see _key_safe)
    "bass_saw": _key_safe(1.0, 0.5, 0.7),
    "bass_square": _key_safe(0.4, 0.6, 0.6),
}


_NO_FIFTHS = "/no5"  # shape suffix: a _SPECTRA shape without harmonics 3, 6, 9, ...


@lru_cache(maxsize=256)
def table(shape: str, n_harmonics: int) -> F32:
    """A peak-normalised single-cycle table: dsp shapes or one of :data:`_SPECTRA`.

    A :data:`_SPECTRA` name followed by ``/no5`` drops every harmonic that is a multiple of 3
    (the fifths and ninths of the note): see :attr:`Osc.fifth_safe`.
    """
    base = shape.removesuffix(_NO_FIFTHS)
    if base not in _SPECTRA:
        return dsp.harmonic_table(shape, n_harmonics)
    amps = np.array(_SPECTRA[base][: max(1, n_harmonics)], dtype=np.float64)
    k = np.arange(1, amps.size + 1, dtype=np.float64)
    if base != shape:  # the fifth-free variant: harmonics 3, 6, 9, ... removed
        amps[2::3] = 0.0
    phase = np.arange(TABLE_SIZE) / TABLE_SIZE
    tab = (amps[:, None] * np.sin(2 * np.pi * k[:, None] * phase[None, :])).sum(axis=0)
    tab /= max(1e-9, np.abs(tab).max())
    return tab.astype(np.float32)


def n_harmonics(freq: float, cutoff_hz: float, cap: int) -> int:
    """Harmonics under the tone cutoff, quantised so the loop cache stays small."""
    h = dsp.harmonics_for(freq, cutoff_hz, cap)
    if h > 8:
        h = int(2 ** (np.floor(np.log2(h) * 2) / 2)) if h < cap else cap
    return max(1, min(cap, h))


# --- loops ----------------------------------------------------------------------------------
@SAMPLES.memoize("rich_loop")
def rich_loop(
    shape: str,
    nh: int,
    freq: float,
    detune: float = 0.0,
    drift: float = 0.0,
    rates: tuple[float, ...] = (),
) -> F32:
    """A seamless loop (a whole number of CTRL rows): ``shape`` at ``freq``, plus (if
    ``detune`` > 0) a twin oscillator ``detune`` cents sharp, both wandering by up to ``drift``
    cents at ``rates`` (Hz). Returned with shape (rows, CTRL).

    Baking the twin and the wander into one cached loop makes a chorused, drifting voice cost
    the same as a plain one. The loop holds whole cycles of every oscillator and every drift
    rate (about 4 s long, so rates and the twins' beat are rounded to multiples of 1/4 Hz;
    plain loops last about 1 s), so it joins without a seam; the main pitch is within
    0.2 cent (0.6 cent for plain loops). A twin sum is scaled by 0.55.
    """
    slow = drift > 0 and min(rates) < 1.0
    seconds = _MOD_LOOP_S if detune > 0 or slow else 1.0
    k1 = max(1, round(freq * seconds))
    n = max(CTRL, round(k1 * SR / freq / CTRL) * CTRL)
    rows = n // CTRL
    tab = table(shape, nh)
    # drift is smooth, so it is computed per CTRL row; phase is exact within each row
    t = np.arange(rows, dtype=np.float64) * (CTRL / SR)
    devs = (np.zeros(rows), np.zeros(rows))
    if drift > 0:
        for i, r in enumerate(rates):
            rr = max(1, round(r * n / SR)) * SR / n
            devs[0][:] += np.sin(2 * np.pi * rr * t + 1.7 * i) / len(rates)
            if detune > 0:
                devs[1][:] += np.sin(2 * np.pi * rr * t + 4.1 + 2.3 * i) / len(rates)
    j = np.arange(CTRL, dtype=np.int64)[None, :]
    unit = float(TABLE_SIZE << _FIX)  # one cycle in fixed-point table units

    def read(f: float, cycles: int, d: np.ndarray) -> F32:
        # integer phase accumulator (table index << _FIX): exact, cheap, no float wrap-around
        if drift <= 0:
            idx = dsp.iramp(n) * round(cycles * unit / n)
        else:
            inc = 2.0 ** (drift * d / 1200.0)  # relative per-sample increment, one per row
            inc = np.round(inc * (cycles * unit / (inc.sum() * CTRL))).astype(np.int64)
            start = np.concatenate(([0], np.cumsum(inc[:-1] * CTRL)))
            idx = (start[:, None] + inc[:, None] * j).ravel()
        idx >>= _FIX
        idx &= TABLE_SIZE - 1
        return tab[idx]

    out = read(freq, k1, devs[0])
    if detune > 0:
        f2 = freq * 2.0 ** (detune / 1200.0)
        k2 = max(k1 + 1, round(f2 * n / SR))
        out = (out + read(f2, k2, devs[1])) * np.float32(0.55)
    return np.ascontiguousarray(out, dtype=np.float32).reshape(n // CTRL, CTRL)


# --- envelopes ------------------------------------------------------------------------------
def _ctrl_times(m: int) -> F32:
    return dsp.ramp(m + 1) * np.float32(CTRL)


def adsr_ctrl(
    m: int,
    attack_s: float,
    decay_s: float,
    sustain: float,
    release_s: float,
    gate: int,
    swell: float = 0.0,
) -> F32:
    """Control-rate ADSR (m + 1 points, one per CTRL samples), ending at exactly zero.

    Linear attack (at least 2.2 ms; ``swell`` > 0 bends it into a slow crescendo, x^(1+swell)),
    exponential decay to ``sustain``, exponential release from the gate reaching -40 dB at
    ``release_s``. The release starts from wherever the envelope was, so short notes never jump.
    Each segment is computed only where it applies (exponentials stop once they have settled).
    """
    env = np.empty(m + 1, dtype=np.float32)
    a = max(0.0022 * SR, attack_s * SR) / CTRL  # in control steps
    g = min(gate, m * CTRL) / CTRL
    gi = min(m, int(np.ceil(g)))
    ia = min(int(np.ceil(a)), gi)
    x = dsp.ramp(ia) / np.float32(a)
    env[:ia] = x ** np.float32(1.0 + swell) if swell > 0 else x
    kd = 4.6 * CTRL / (max(decay_s, 0.001) * SR)
    nexp = min(gi - ia, int(10.0 / kd) + 1)
    if nexp > 0:
        tt = dsp.ramp(nexp) + np.float32(ia - a)
        env[ia : ia + nexp] = sustain + (1.0 - sustain) * np.exp(-np.float32(kd) * tt)
    env[ia + nexp : gi] = sustain
    if g < a:
        level = (g / a) ** (1.0 + swell)
    else:
        level = sustain + (1.0 - sustain) * float(np.exp(-kd * (g - a)))
    kr = 4.6 * CTRL / (max(release_s, 0.01) * SR)
    tt = dsp.ramp(m + 1 - gi) + np.float32(gi - g)
    env[gi:] = np.float32(level) * np.exp(-np.float32(kr) * tt)
    env[-1] = 0.0
    return env


def _interp(env: F32) -> F32:
    """Rows of linear ramps between consecutive control points: shape (len - 1, CTRL)."""
    v0 = env[:-1, None]
    e = (env[1:, None] - v0) * _FRAC
    e += v0
    return e


def env_read(src: F32, row0: int, env: F32, zipper: float = 0.012, wrap: bool = True) -> F32:
    """Samples of ``src`` (rows of CTRL, a loop if ``wrap``) from row ``row0``, times ``env``.

    One pass: each output row is read from the loop and scaled as it is written. Where the
    envelope moves fast (attacks, short releases) it is interpolated linearly; where it changes
    by less than ``zipper`` of its own level per 32-sample step (sustains, slow swells and
    decays, long releases, anything 70 dB down) each row is scaled by one value. That step
    error is a ripple below -50 dB relative to the note itself, so it is masked by the note.
    Runs of rows whose control value does not change at all (held sustains, a struck note
    before its damping) are scaled by that one value in a single contiguous multiply, which
    gives the same products about three times faster than the per-row broadcast.
    """
    m = env.size - 1
    rows = src.shape[0]
    out = np.empty((m, CTRL), dtype=np.float32)
    lo, hi = env[:-1], env[1:]
    step = hi - lo
    flat = step == 0.0
    np.abs(step, out=step)
    limit = np.maximum(lo, hi)
    limit *= np.float32(zipper)
    limit += np.float32(3e-4 * float(env.max()))
    kind = (step > limit).view(np.int8)  # 1: fast (interpolate), 0: slow (one value per row)
    if np.count_nonzero(flat) >= _MIN_FLAT:
        edge = np.zeros(m + 2, dtype=np.int8)
        edge[1:-1] = flat
        ends = np.flatnonzero(edge[1:] != edge[:-1])
        for a, b in zip(ends[0::2].tolist(), ends[1::2].tolist(), strict=True):
            if b - a >= _MIN_FLAT:
                kind[a:b] = 2  # 2: flat (one value for the whole run)
    cuts = (np.flatnonzero(kind[1:] != kind[:-1]) + 1).tolist()
    if wrap:
        first = rows - row0 if row0 else rows
        if first < m:
            cuts = sorted({*cuts, *range(first, m, rows)})
    bounds = [0, *cuts, m]
    for a, b in itertools.pairwise(bounds):
        s0 = (row0 + a) % rows if wrap else row0 + a
        seg = src[s0 : s0 + b - a]
        k = kind[a]
        if k == 1:
            np.multiply(seg, _interp(env[a : b + 1]), out=out[a:b])
        elif k == 2:
            np.multiply(seg, env[a], out=out[a:b])
        else:
            np.multiply(seg, env[a:b, None], out=out[a:b])
    return out.ravel()


def note_len(gate: int, release_s: float, cap: int) -> tuple[int, int, int]:
    """(gate, n, m): gate capped, total length rounded up to whole control steps.

    A release reaches -40 dB at ``release_s``; the note stops at 80 % of that (about -37 dB,
    inaudible under the rest of the mix and the reverb), which saves a fifth of every tail.
    """
    gate = max(CTRL, min(gate, cap))
    n = gate + int(0.8 * release_s * SR) + CTRL  # ends ~37 dB down, then a 32-sample ramp
    m = -(-n // CTRL)
    return gate, m * CTRL, m


# --- timbres --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Osc:
    """A sustained oscillator voice built from cached loops.

    Attributes:
        shape: wave table (dsp shape or a :data:`_SPECTRA` name).
        cap: harmonic count at full brightness; ``bright`` scales params.cutoff_hz, so dark
            settings drop harmonics (cheaper and darker at once).
        detune: cents of a second oscillator (0 = single); ``width`` adds that fraction of
            params.detune_cents (the stereo control).
        pluck: amount of a bright-to-dark "filter" decay over ``pluck_s`` (bright loop faded
            into the normal one): plucked basses and brass bite.
        fifth_safe: on the scale degree whose perfect fifth is outside the key (B in C major),
            play the ``/no5`` variant of the table: that note's 3rd, 6th and 9th harmonics would
            sound pitch classes outside the scale (an audible clash against the chord's
            diminished fifth). Only for :data:`_SPECTRA` shapes.
        tremolo / trem_hz: amplitude wobble depth (0..1) and rate, baked into the envelope.
        drift: cents of slow pitch wander (``drift_rates`` Hz), vibrato when the rates are ~5 Hz.
        level: output scale so voices peak near the event velocity.
    """

    shape: str
    cap: int = 24
    bright: float = 1.0
    attack: float = 0.01
    decay: float = 0.4
    sustain: float = 0.8
    release: float = 0.4
    swell: float = 0.0
    detune: float = 0.0
    width: float = 0.0
    pluck: float = 0.0
    pluck_s: float = 0.12
    pluck_cap: int = 40
    fifth_safe: bool = False
    tremolo: float = 0.0
    trem_hz: float = 0.0
    drift: float = 0.0
    drift_rates: tuple[float, ...] = (0.25, 0.5)
    max_s: float = 10.0
    level: float = 1.0

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        p = vctx.params
        if self.fifth_safe and _fifth_outside(p.root, p.mode, round(event.pitch) % 12):
            return _no_fifths(self).render(event, vctx)
        gate = vctx.gate_samples(event)
        if self.sustain <= 0.0:  # a pure decay is silent (-60 dB) after 1.5 decay times
            gate = min(gate, int(1.5 * self.decay * SR))
        gate, n, m = note_len(gate, self.release, int(self.max_s * SR))
        freq = dsp.midi_to_hz(event.pitch)
        nh = n_harmonics(freq, p.cutoff_hz * self.bright, self.cap)
        cents = round(self.detune + self.width * p.detune_cents, 1)
        attack = round(self.attack * p.attack_scale, 4)
        nb = n_harmonics(freq, p.cutoff_hz * self.bright * 3.0, self.pluck_cap) if self.pluck else 0
        if n <= _SHORT_NOTE:
            # short notes repeat (pulses, arpeggios): synthesise each shape once, like a sampler
            unit = _short_note(self, round(freq, 3), gate, m, nh, nb, attack, cents)
            return unit * np.float32(event.velocity)
        return self._synth(freq, gate, m, nh, attack, cents, event.velocity, vctx.rng, nb)

    def _synth(
        self,
        freq: float,
        gate: int,
        m: int,
        nh: int,
        attack: float,
        cents: float,
        velocity: float,
        rng: np.random.Generator,
        nb: int = 0,
    ) -> F32:
        f1 = round(freq, 3)
        lp = rich_loop(self.shape, nh, f1, cents, self.drift, self.drift_rates)
        row0 = int(rng.integers(lp.shape[0]))
        env = adsr_ctrl(m, attack, self.decay, self.sustain, self.release, gate, self.swell)
        if self.tremolo > 0:
            t = _ctrl_times(m) / np.float32(SR)
            ph = np.float32(2 * np.pi * self.trem_hz) * t + np.float32(rng.random() * 6.28)
            env *= 1.0 - np.float32(self.tremolo) * (0.5 - 0.5 * np.cos(ph))
        env *= np.float32(self.level * velocity)
        out = env_read(lp, row0, env)
        if self.pluck > 0 and nb > nh:
            # bright-to-dark "filter" decay: add (bright - normal) under a fast-decaying env
            kr = min(m, int(self.pluck_s * 3.0 * SR) // CTRL)
            if kr > 1:
                tt = dsp.ramp(kr + 1) * np.float32(CTRL / (self.pluck_s * SR))
                pe = np.float32(self.pluck) * np.exp(-tt) * env[: kr + 1]
                pe[-1] = 0.0
                bright = rich_loop(self.shape, nb, f1, cents)
                b0 = row0 * bright.shape[0] // lp.shape[0]
                out[: kr * CTRL] += env_read(bright, b0, pe)
                out[: kr * CTRL] -= env_read(lp, row0, pe)
        return out


_SHORT_NOTE = int(0.7 * SR)


@lru_cache(maxsize=512)
def _fifth_outside(root: int, mode: str, pc: int) -> bool:
    """Whether the perfect fifth above pitch class ``pc`` is outside the scale."""
    return (pc + 7 - root) % 12 not in MODES[mode]


@lru_cache(maxsize=64)
def _no_fifths(timbre: Osc) -> Osc:
    """``timbre`` on its fifth-free table (see :attr:`Osc.fifth_safe`)."""
    return replace(timbre, shape=timbre.shape + _NO_FIFTHS, fifth_safe=False)


@SAMPLES.memoize("short_note")
def _short_note(
    timbre: Osc, freq: float, gate: int, m: int, nh: int, nb: int, attack: float, cents: float
) -> F32:
    """Unit-velocity short note, phase fixed (cached: see :meth:`Osc.render`)."""
    rng = np.random.default_rng(int(freq * 1000) + gate)
    return timbre._synth(freq, gate, m, nh, attack, cents, 1.0, rng, nb)


@SAMPLES.memoize("strike")
def _strike(kind: str, spec: tuple, freq: float, bright: int) -> F32:
    """Cached, peak-normalised strike of one pitch (see :class:`Struck`)."""
    if kind == "modal":
        partials, length_s = spec
        n = int(length_s * SR) // CTRL * CTRL
        out = np.zeros(n, dtype=np.float32)
        limit = min(0.45 * SR, 1500.0 * 2.0**bright)
        for ratio, amp, t60 in partials:
            f = freq * ratio
            if f >= limit:
                continue
            k = min(n, int(t60 * 1.1 * SR) // CTRL * CTRL + CTRL)
            m = k // CTRL
            env = np.exp(-_ctrl_times(m) * np.float32(6.9 / (t60 * SR))) * np.float32(amp)
            env[-1] = 0.0
            out[:k] += dsp.fixed_phase_osc(table("sine", 1), f, k) * dsp.expand_control(
                env, k, CTRL
            )
    else:  # fm: (ratio, index, index decay s, t60 s, length s)
        ratio, index, idecay, t60, length_s = spec
        n = int(length_s * SR) // CTRL * CTRL
        index *= (0.55, 0.8, 1.0, 1.2, 1.35)[bright]
        sine = table("sine", 1)
        m_idx = (dsp.iramp(n) * int(round(freq * ratio / SR * 2**32))) >> (32 - dsp.TABLE_BITS)
        mod = sine[m_idx & (TABLE_SIZE - 1)]
        tc = _ctrl_times(n // CTRL)
        ienv = np.exp(-tc / np.float32(idecay * SR)) * np.float32(index * TABLE_SIZE / (2 * np.pi))
        mod = env_read(mod.reshape(-1, CTRL), 0, ienv, wrap=False)
        c_idx = (dsp.iramp(n) * int(round(freq / SR * 2**32))) >> (32 - dsp.TABLE_BITS)
        c_idx += mod.astype(np.int64)
        out = sine[c_idx & (TABLE_SIZE - 1)]
        aenv = np.exp(-tc * np.float32(6.9 / (t60 * SR)))
        aenv[-1] = 0.0
        out = env_read(out.reshape(-1, CTRL), 0, aenv, wrap=False)
    a = int(0.0025 * SR)
    out[:a] *= np.linspace(0.0, 1.0, a, dtype=np.float32)
    out /= max(1e-6, float(np.abs(out).max()))
    return out


def _bright_bucket(cutoff_hz: float) -> int:
    """0..4: which brightness anchor a cutoff is nearest (420 Hz .. 16 kHz)."""
    x = math.log(max(cutoff_hz, 1.0) / 420.0) / math.log(16000.0 / 420.0) * 4.0
    return min(4, max(0, round(x)))


@dataclass(frozen=True)
class Struck:
    """A struck or plucked voice: the cached strike of its pitch, damped at the gate.

    ``kind`` is ``modal`` (``spec`` = (partials, length_s), partials as (ratio, amp, t60)) or
    ``fm`` (``spec`` = (ratio, index, index_decay_s, t60_s, length_s)). ``release`` is how fast
    a note is damped after its gate (a player's hand stopping the string).
    """

    kind: str
    spec: tuple
    release: float = 0.25
    level: float = 1.0

    def render(self, event: NoteEvent, vctx: VoiceContext) -> F32:
        freq = round(dsp.midi_to_hz(event.pitch), 3)
        base = _strike(self.kind, self.spec, freq, _bright_bucket(vctx.params.cutoff_hz))
        gate, n, m = note_len(vctx.gate_samples(event), self.release, base.size)
        n = min(n, base.size)
        m = n // CTRL
        level = np.float32(self.level * event.velocity)
        env = np.full(m + 1, level, dtype=np.float32)
        gi = min(m, -(-gate // CTRL))
        tt = dsp.ramp(m + 1 - gi) + np.float32(gi - gate / CTRL)
        env[gi:] = level * np.exp(tt * np.float32(-4.6 * CTRL / (self.release * SR)))
        env[-1] = 0.0
        return env_read(base.reshape(-1, CTRL), 0, env, wrap=False)


def harmonic_partials(
    n: int, tilt: float, t60: float, t60_tilt: float, inharm: float = 0.0
) -> tuple[tuple[float, float, float], ...]:
    """Partials of a plucked string: amplitude k^-tilt, decay t60 * k^-t60_tilt, stiffness."""
    return tuple(
        (k * (1.0 + inharm * k * k), k**-tilt, t60 * k**-t60_tilt) for k in range(1, n + 1)
    )


# --- theory helpers -------------------------------------------------------------------------
def in_range(pitch: int, lo: int, hi: int) -> int:
    """Move ``pitch`` by octaves into [lo, hi] (hi - lo >= 11)."""
    while pitch < lo:
        pitch += 12
    while pitch > hi:
        pitch -= 12
    return pitch


def chord_degree_set(chord: Chord, size: int = 3) -> set[int]:
    return {(chord.degree + 2 * i) % 7 for i in range(size)}


def nearest_degree(deg: int, allowed: set[int], prefer: int = 0) -> int:
    """The degree closest to ``deg`` whose class (mod 7) is in ``allowed``; ``prefer`` breaks ties
    (+1 upward, -1 downward)."""
    for dist in range(0, 7):
        cands = (deg + dist, deg - dist) if prefer >= 0 else (deg - dist, deg + dist)
        for c in cands:
            if c % 7 in allowed:
                return c
    return deg


@lru_cache(maxsize=256)
def degree_bounds(scale: Scale, lo: int, hi: int) -> tuple[int, int]:
    """Lowest and highest scale degree (octave-4 relative) whose pitch lies in [lo, hi]."""
    d_lo = scale.degree_near(lo)
    while scale.pitch(d_lo, 4) < lo:
        d_lo += 1
    d_hi = scale.degree_near(hi)
    while scale.pitch(d_hi, 4) > hi:
        d_hi -= 1
    return d_lo, d_hi


def fold_degree(deg: int, d_lo: int, d_hi: int) -> int:
    """Move a degree by octaves (7 steps) into [d_lo, d_hi]."""
    while deg < d_lo:
        deg += 7
    while deg > d_hi:
        deg -= 7
    return deg


def voicing(
    scale: Scale,
    root_degree: int,
    offsets: tuple[int, ...],
    lo: int,
    hi: int,
    prev: list[int] | None,
    invert: bool = True,
) -> list[int]:
    """Pitches of a chord shape (degree ``offsets`` above the root) led smoothly from ``prev``.

    Candidates are every inversion (if ``invert``; open shapes keep their spacing) in every
    octave that fits [lo, hi]; the winner moves the voices least from ``prev`` (sorted voice
    against sorted voice), with a pull toward the middle of the register so pads do not creep.
    """
    shapes = [list(offsets)]
    if invert:
        offs = sorted(offsets)
        for i in range(1, len(offs)):
            shapes.append(sorted(offs[i:] + [o + 7 for o in offs[:i]]))
    centre = 0.5 * (lo + hi)
    best: list[int] | None = None
    best_cost = 1e9
    for shape in shapes:
        for octv in range(-3, 4):
            pitches = sorted(scale.pitch(root_degree + o + 7 * octv, 4) for o in shape)
            if pitches[0] < lo or pitches[-1] > hi:
                continue
            mid = 0.5 * (pitches[0] + pitches[-1])
            cost = 0.25 * abs(mid - centre)
            if prev and len(prev) == len(pitches):
                cost += float(sum(abs(a - b) for a, b in zip(pitches, prev, strict=True)))
            if cost < best_cost:
                best, best_cost = pitches, cost
    if best is None:  # register too narrow for the shape: fold each note instead
        best = sorted(in_range(scale.pitch(root_degree + o, 4), lo, hi) for o in offsets)
    return best
