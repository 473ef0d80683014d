"""Vectorised DSP building blocks for voices: oscillators, envelopes, noise, simple filters.

Voices render a whole note at once (one numpy expression per stage), which is what makes a
pure-numpy synth fast: the per-sample work happens in C, and Python only runs once per note.
Everything returns float32 and takes an explicit sample count, so callers control lengths.

Oscillators are band-limited by construction: wavetables are built additively with only the
harmonics that fit under Nyquist (and under a caller-given ``max_harmonic`` for dark tones),
so there is no aliasing to filter away afterwards.
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import numpy as np
from numpy.typing import NDArray

from synth.iir import lfilter
from synth.params import SAMPLE_RATE

F32 = NDArray[np.float32]
TABLE_BITS = 14
TABLE_SIZE = 1 << TABLE_BITS
_PHASE_BITS = 32
_ENV_STEP = 16  # envelopes are computed every 16 samples, then linearly interpolated
_TWO_PI = np.float32(2.0 * np.pi)


def midi_to_hz(pitch: float) -> float:
    return float(440.0 * 2.0 ** ((pitch - 69.0) / 12.0))


@lru_cache(maxsize=16)
def _ramp(n: int) -> F32:
    return np.arange(n, dtype=np.float32)


@lru_cache(maxsize=16)
def _iramp(n: int) -> NDArray[np.int64]:
    return np.arange(n, dtype=np.int64)


# Ramps up to 2**17 (3 s) are cached, about 3 MB in all. Longer ones are made afresh: cheap
# beside the note that needs them, and cached they would hold up to 48 MB that a live daemon
# only reaches after minutes of long notes (its memory crept while it played).
_RAMP_CACHED = 1 << 17


def ramp(n: int) -> F32:
    """0, 1, ..., n-1 as float32 (cached for common lengths; treat as read-only)."""
    if n <= _RAMP_CACHED:
        return _ramp(1 << max(10, (n - 1).bit_length()))[:n]
    return np.arange(n, dtype=np.float32)


def iramp(n: int) -> NDArray[np.int64]:
    """0, 1, ..., n-1 as int64 (cached for common lengths; read-only)."""
    if n <= _RAMP_CACHED:
        return _iramp(1 << max(10, (n - 1).bit_length()))[:n]
    return np.arange(n, dtype=np.int64)


@lru_cache(maxsize=512)
def harmonic_table(shape: str, n_harmonics: int) -> F32:
    """One cycle of a band-limited waveform with at most ``n_harmonics`` partials.

    Shapes: ``sine``, ``saw`` (1/k), ``square`` (odd 1/k), ``triangle`` (odd 1/k^2),
    ``organ`` (drawbar-like 1, 2, 3, 4, 6, 8), ``reed`` (odd-heavy, for clarinet-ish tones),
    ``soft`` (1/k^2 all harmonics: a rounded saw). Peak-normalised to 1.
    """
    n_harmonics = max(1, n_harmonics)
    k = np.arange(1, n_harmonics + 1, dtype=np.float64)
    if shape == "sine":
        amps = np.zeros_like(k)
        amps[0] = 1.0
    elif shape == "saw":
        amps = 1.0 / k
    elif shape == "square":
        amps = np.where(k % 2 == 1, 1.0 / k, 0.0)
    elif shape == "triangle":
        amps = np.where(k % 2 == 1, 1.0 / k**2, 0.0)
    elif shape == "organ":
        amps = np.where(np.isin(k, (1, 2, 3, 4, 6, 8)), 1.0 / np.sqrt(k), 0.0)
    elif shape == "reed":
        amps = np.where(k % 2 == 1, 1.0 / k, 0.25 / k)
    elif shape == "soft":
        amps = 1.0 / k**2
    else:
        raise ValueError(f"unknown wave shape {shape!r}")
    phase = np.arange(TABLE_SIZE) / TABLE_SIZE
    table = (amps[:, None] * np.sin(2 * np.pi * k[:, None] * phase[None, :])).sum(axis=0)
    table /= max(1e-9, np.abs(table).max())
    return table.astype(np.float32)


def harmonics_for(freq: float, cutoff_hz: float, max_harmonics: int = 64) -> int:
    """How many harmonics of ``freq`` fit under both Nyquist and a tone cutoff."""
    limit = min(cutoff_hz, 0.45 * SAMPLE_RATE)
    return int(max(1, min(max_harmonics, limit // max(freq, 1.0))))


def phase_ramp(freq: float | F32, n: int, phase0: float = 0.0, sr: int = SAMPLE_RATE) -> F32:
    """Phase in cycles (0..1) for a constant or per-sample frequency."""
    if np.isscalar(freq):
        ph = ramp(n) * np.float32(float(cast(float, freq)) / sr) + np.float32(phase0)
    else:
        ph = np.cumsum(np.asarray(freq, dtype=np.float64) / sr) + phase0
    return np.asarray(ph % 1.0, dtype=np.float32)


def table_osc(table: F32, phase: F32) -> F32:
    """Read a wavetable at phases in cycles (0..1), nearest sample (16k-point tables)."""
    idx = (phase * np.float32(TABLE_SIZE)).astype(np.int64)
    idx &= TABLE_SIZE - 1
    return table[idx]


def fixed_phase_osc(table: F32, freq: float, n: int, phase0: float = 0.0) -> F32:
    """Constant-frequency wavetable read with an integer phase accumulator.

    Phase is kept as a 32-bit fraction of a cycle in int64 arithmetic, so there is no float
    wrap-around error and each sample costs one multiply, one shift and one gather: the
    cheapest oscillator numpy can run (about 3 ns per sample here).
    """
    inc = int(round(freq / SAMPLE_RATE * (1 << _PHASE_BITS)))
    start = int((phase0 % 1.0) * (1 << _PHASE_BITS))
    out = np.empty(n, dtype=np.float32)
    chunk = 1 << 15  # keep the int64 phase temporaries inside the CPU cache
    base = iramp(chunk)
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        ph = base[:m] * inc
        ph += start + lo * inc
        ph >>= _PHASE_BITS - TABLE_BITS
        ph &= TABLE_SIZE - 1
        np.take(table, ph, out=out[lo : lo + m])
    return out


def osc(
    shape: str,
    freq: float,
    n: int,
    *,
    cutoff_hz: float = 20000.0,
    max_harmonics: int = 64,
    phase0: float = 0.0,
    vibrato_hz: float = 0.0,
    vibrato_cents: float = 0.0,
) -> F32:
    """A band-limited oscillator note: ``shape`` at ``freq`` for ``n`` samples."""
    table = harmonic_table(shape, harmonics_for(freq, cutoff_hz, max_harmonics))
    if vibrato_cents > 0.0 and vibrato_hz > 0.0:
        t = ramp(n) / np.float32(SAMPLE_RATE)
        ratio = 2.0 ** (vibrato_cents / 1200.0 * np.sin(_TWO_PI * vibrato_hz * t))
        return table_osc(table, phase_ramp(freq * ratio, n, phase0))
    return fixed_phase_osc(table, freq, n, phase0)


def sine(freq: float | F32, n: int, phase0: float = 0.0) -> F32:
    """Sine oscillator (constant or per-sample frequency)."""
    if np.isscalar(freq):
        return fixed_phase_osc(harmonic_table("sine", 1), float(cast(float, freq)), n, phase0)
    return np.sin(_TWO_PI * phase_ramp(freq, n, phase0)).astype(np.float32)


def expand_control(values: F32, n: int, step: int = _ENV_STEP) -> F32:
    """Linearly interpolate control-rate ``values`` (one per ``step`` samples) to ``n`` samples.

    Works in cache-sized chunks: for long notes this is memory-bound, and 256 kB temporaries
    stay in L2 where whole-note temporaries would not.
    """
    v = np.asarray(values, dtype=np.float32)
    frac = (_ramp(1024)[:step] / np.float32(step))[None, :]
    out = np.empty(n, dtype=np.float32)
    rows = 4096
    total = min(v.size - 1, -(-n // step))
    for a in range(0, total, rows):
        b = min(total, a + rows)
        seg = v[a : b + 1]
        block = seg[:-1, None] + (seg[1:] - seg[:-1])[:, None] * frac
        lo = a * step
        hi = min(n, b * step)
        out[lo:hi] = block.ravel()[: hi - lo]
    return out


def adsr(
    n: int,
    attack: float,
    decay: float,
    sustain: float,
    release: float,
    gate: int,
    sr: int = SAMPLE_RATE,
) -> F32:
    """Linear-attack, exponential decay/release envelope of ``n`` samples.

    ``gate`` is the note-off sample; the release starts there from whatever level the
    envelope reached, so short notes never jump. Attack is at least 2 ms (no clicks) and the
    envelope always ends at exactly zero. Computed every 16 samples and interpolated, which
    is inaudible for envelopes and ~10x cheaper than per-sample maths.
    """
    n = max(1, n)
    step = _ENV_STEP
    m = n // step + 2
    t = ramp(m) * np.float32(step)  # sample time of each control point
    a = max(2.0, max(attack, 0.002) * sr)
    g = float(max(1, min(gate, n)))
    d_rate = np.float32(4.6 / (max(decay, 0.001) * sr))
    r_rate = np.float32(4.6 / (max(release, 0.005) * sr))

    def pre_gate(tt: F32) -> F32:
        att = np.minimum(tt / np.float32(a), 1.0)
        dec = sustain + (1.0 - sustain) * np.exp(-np.maximum(tt - a, 0.0) * d_rate)
        return np.where(tt < a, att, dec).astype(np.float32)

    env = pre_gate(t)
    level = float(pre_gate(np.array([g], dtype=np.float32))[0])
    after = t >= g
    env[after] = level * np.exp(-(t[after] - g) * r_rate)
    env[-2:] = 0.0
    out = expand_control(env, n, step)
    fade = min(n, int(0.002 * sr))
    out[n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return out


def perc_env(n: int, attack: float, t60: float, sr: int = SAMPLE_RATE) -> F32:
    """Percussive envelope: short linear attack then exponential decay reaching -60 dB at t60."""
    n = max(1, n)
    t = ramp(n)
    a = max(2, int(max(attack, 0.0005) * sr))
    env = np.exp(-np.maximum(t - a, 0.0) * np.float32(6.9 / max(t60 * sr, 1.0)))
    env[:a] *= t[:a] / a
    fade = min(n, int(0.002 * sr))
    env[n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return env.astype(np.float32)


def noise(n: int, rng: np.random.Generator) -> F32:
    """White noise in -1..1 (float32)."""
    return rng.uniform(-1.0, 1.0, n).astype(np.float32)


def filter_block(
    b: NDArray[np.float64], a: NDArray[np.float64], x: NDArray, zi: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``lfilter(b, a, x, zi=zi)`` for 1-D float blocks with normalised ``a`` (a[0] == 1).

    The engine filters one quantum at a time; see :mod:`synth.iir` for why this avoids
    ``scipy.signal``.
    """
    y, zf = lfilter(b, a, x, zi=zi)
    return y, zf


def one_pole_lowpass(x: F32, cutoff_hz: float, sr: int = SAMPLE_RATE) -> F32:
    """6 dB/oct lowpass (stateless: whole-note processing)."""
    a = float(np.exp(-2.0 * np.pi * min(cutoff_hz, 0.45 * sr) / sr))
    return lfilter([1.0 - a], [1.0, -a], x).astype(np.float32)


def biquad_coeffs(
    kind: str, freq: float, q: float = 0.707, sr: int = SAMPLE_RATE
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """RBJ-cookbook biquad (``lowpass``, ``highpass``, ``bandpass``) as normalised (b, a)."""
    w0 = 2.0 * np.pi * min(max(freq, 10.0), 0.45 * sr) / sr
    cw, sw = np.cos(w0), np.sin(w0)
    alpha = sw / (2.0 * q)
    if kind == "lowpass":
        b = np.array([(1 - cw) / 2, 1 - cw, (1 - cw) / 2])
    elif kind == "highpass":
        b = np.array([(1 + cw) / 2, -(1 + cw), (1 + cw) / 2])
    elif kind == "bandpass":
        b = np.array([alpha, 0.0, -alpha])
    else:
        raise ValueError(f"unknown biquad kind {kind!r}")
    a = np.array([1 + alpha, -2 * cw, 1 - alpha])
    return b / a[0], a / a[0]


def biquad(x: F32, kind: str, freq: float, q: float = 0.707, sr: int = SAMPLE_RATE) -> F32:
    """Apply one RBJ biquad to a whole note (stateless)."""
    b, a = biquad_coeffs(kind, freq, q, sr)
    return lfilter(b, a, x).astype(np.float32)


def soft_clip(x: F32, drive: float) -> F32:
    """tanh saturation normalised so that small signals keep unit gain."""
    if drive <= 0.0:
        return x
    g = np.float32(1.0 + 4.0 * drive)
    return (np.tanh(x * g) / g).astype(np.float32)
