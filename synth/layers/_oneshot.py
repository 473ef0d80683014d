"""Cached one-shots and noise beds: how the unpitched / percussive layers stay cheap.

Drums, pings, blips and bells sound the same every time they are struck, give or take a
little: so each sound is synthesised once per ``(sound, variant, brightness level, ...)``
key, peak-normalised, and every later note just picks one of a few pre-rendered variants and
scales it by velocity (a single numpy multiply). Long noise textures read random slices of
a cached, already-filtered noise bed, so no filter runs per note.

Cache contents never depend on the music's RNG: each entry is synthesised with an RNG seeded
from its own key (CRC32 of its ``repr``, stable across processes). A warm or cold cache
therefore renders identical samples, which keeps the engine deterministic.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Hashable

import numpy as np

from synth import dsp
from synth.dsp import F32
from synth.params import SAMPLE_RATE, SynthParams
from synth.sample_cache import SAMPLES

BRIGHT_LEVELS = 5  # one per brightness label; values in between snap to the nearest
_CACHE = SAMPLES  # takes live in the voices' shared, byte-bounded cache


def stable_seed(key: Hashable) -> int:
    """A process-independent seed for a cache key (``hash`` of a str is randomised)."""
    return zlib.crc32(repr(key).encode())


def bright_level(params: SynthParams) -> int:
    """Brightness snapped to one of :data:`BRIGHT_LEVELS` cache levels."""
    return round(params.brightness * (BRIGHT_LEVELS - 1))


def level_cutoff(level: int) -> float:
    """Tone cutoff (Hz) of a brightness cache level (the same curve as ``params.cutoff_hz``)."""
    return SynthParams(brightness=level / (BRIGHT_LEVELS - 1)).cutoff_hz


def drive_level(params: SynthParams) -> int:
    """Grain snapped to clean / warm / gritty (0, 1, 2)."""
    return round(params.grain * 2)


def level_drive(level: int) -> float:
    return (0.0, 0.45, 1.0)[level]


def finish(x: F32, attack_s: float = 0.001, fade_s: float = 0.004, peak: float = 1.0) -> F32:
    """Peak-normalise, ramp the first ``attack_s`` and fade the last ``fade_s`` to zero."""
    x = np.asarray(x, dtype=np.float32).copy()
    mag = np.abs(x)
    m = float(mag.max())
    if m > 0.0:
        x *= np.float32(peak / m)
        # Drop the tail below -60 dB: inaudible, and every later note would copy it.
        audible = np.flatnonzero(mag > np.float32(1e-3 * m))
        keep = int(audible[-1]) + 1 + int(fade_s * SAMPLE_RATE)
        x = x[: max(keep, int(0.01 * SAMPLE_RATE))]
    a = min(x.size, max(2, int(attack_s * SAMPLE_RATE)))
    x[:a] *= np.linspace(0.0, 1.0, a, dtype=np.float32)
    f = min(x.size, max(2, int(fade_s * SAMPLE_RATE)))
    x[x.size - f :] *= np.linspace(1.0, 0.0, f, dtype=np.float32)
    x[-1] = 0.0
    return x


def cached(
    key: Hashable,
    make: Callable[[np.random.Generator, int], F32],
    variants: int = 1,
    normalise: bool = True,
) -> list[F32]:
    """The ``variants`` pre-rendered takes of ``key``, synthesised by ``make(rng, i)`` once."""
    got: list[F32] | None = _CACHE.get(key)
    if got is None:
        rng = np.random.default_rng(stable_seed(key))
        got = [finish(make(rng, i)) if normalise else make(rng, i) for i in range(variants)]
        _CACHE.put(key, got)
    return got


def play(takes: list[F32], velocity: float, rng: np.random.Generator) -> F32:
    """One of the cached takes, scaled to peak ``velocity`` (a new array)."""
    take = takes[int(rng.random() * len(takes))] if len(takes) > 1 else takes[0]
    return take * np.float32(velocity)


def band_noise(
    rng: np.random.Generator,
    n: int,
    low_hz: float | None = None,
    high_hz: float | None = None,
    order: int = 2,
) -> F32:
    """White noise through ``order`` cascaded 2-pole high- and low-passes (for one-shots)."""
    x = dsp.noise(n, rng)
    for _ in range(order // 2):
        if low_hz is not None:
            x = dsp.biquad(x, "highpass", low_hz)
        if high_hz is not None:
            x = dsp.biquad(x, "lowpass", high_hz)
    return x


def sine_cycles(cycles: np.ndarray) -> F32:
    """sin(2 pi x) for phases in cycles, by wavetable look-up (~3x cheaper than np.sin)."""
    idx = (cycles * np.float32(dsp.TABLE_SIZE)).astype(np.int64)
    idx &= dsp.TABLE_SIZE - 1
    return dsp.harmonic_table("sine", 1)[idx]


def sweep_cycles(f_start: float, f_end: float, n: int, tau_s: float) -> np.ndarray:
    """Phase (cycles, float64) of an exponential glide from ``f_start`` to ``f_end``.

    Closed-form integral of f(t) = f_end + (f_start - f_end) exp(-t / tau): no cumsum needed.
    """
    t = dsp.ramp(n) / np.float32(SAMPLE_RATE)  # float32: exp is 4x cheaper, phase error tiny
    glide = np.float32((f_start - f_end) * tau_s) * (1.0 - np.exp(t * np.float32(-1.0 / tau_s)))
    return t * np.float32(f_end) + glide


def swept_sine(f_start: float, f_end: float, n: int, tau_s: float, phase0: float = 0.0) -> F32:
    """Sine gliding exponentially from ``f_start`` to ``f_end`` (membranes, kicks)."""
    return sine_cycles(sweep_cycles(f_start, f_end, n, max(tau_s, 1e-4)) + phase0)


def decay(n: int, t60: float, attack_s: float = 0.001) -> F32:
    """Percussive amplitude envelope (linear attack, exponential decay to -60 dB at t60)."""
    return dsp.perc_env(n, attack_s, t60)


class NoiseBed:
    """Random non-repeating slices of a long cached, circular (filtered) noise buffer.

    Each call returns a slice at a random offset at least a quarter of the bed away from the
    previous one of the same ``slot``, so consecutive notes never reuse the same noise.
    """

    def __init__(self) -> None:
        self._last: dict[Hashable, int] = {}

    def take(
        self,
        bed: F32,
        n: int,
        rng: np.random.Generator,
        slot: Hashable = 0,
        env: F32 | None = None,
    ) -> F32:
        """``n`` samples of ``bed`` (wrapping around if needed) from a fresh random offset,
        times ``env`` if given (see :func:`loop_read`)."""
        size = bed.size
        last = self._last.get(slot, -size)
        off = int(rng.integers(size))
        if abs(off - last) < size // 4:
            off = (off + size // 2) % size
        self._last[slot] = off
        return loop_read(bed, off, n, env)


def noise_bed(
    key: Hashable,
    make: Callable[[np.random.Generator, int], F32],
    seconds: float,
    peak_norm: bool = False,
) -> F32:
    """A cached, seamlessly circular noise bed of ``seconds``, RMS-normalised to 0.25 (or
    peak-normalised to 1 for spiky material such as crackle).

    ``make(rng, n)`` returns ``n`` samples of (filtered) noise; the bed is made circular by
    cross-fading its overshoot into its start, so reads that wrap around never click.
    """

    def build(rng: np.random.Generator, _i: int) -> F32:
        n = int(seconds * SAMPLE_RATE)
        f = int(0.05 * SAMPLE_RATE)
        x = make(rng, n + f).astype(np.float32)
        ramp_in = np.linspace(0.0, 1.0, f, dtype=np.float32)
        x[:f] = x[:f] * ramp_in + x[n : n + f] * (1.0 - ramp_in)
        x = x[:n]
        if peak_norm:
            return (x / np.float32(max(1e-9, float(np.abs(x).max())))).astype(np.float32)
        rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
        return (x * np.float32(0.25 / max(rms, 1e-9))).astype(np.float32)

    return cached(("bed", key, seconds, peak_norm), build, 1, normalise=False)[0]


def loop_read(buf: F32, off: int, n: int, env: F32 | None = None) -> F32:
    """``n`` samples of circular ``buf`` from ``off`` (a new array; plain copies, no gather).

    With ``env`` (``n`` samples), the read is multiplied by it as it is written: one pass
    instead of a copy, a concatenation and a multiply.
    """
    size = buf.size
    off %= size
    if env is None:
        if off + n <= size:
            return buf[off : off + n].copy()
        pieces = [buf[off:]]
        have = size - off
        while have < n:
            pieces.append(buf[: min(size, n - have)])
            have += pieces[-1].size
        return np.concatenate(pieces)
    out = np.empty(n, dtype=np.float32)
    pos = 0
    while pos < n:
        k = min(size - off, n - pos)
        np.multiply(buf[off : off + k], env[pos : pos + k], out=out[pos : pos + k])
        pos += k
        off = 0
    return out


def loop_tone(
    pitch: float,
    partials: tuple[tuple[float, float], ...],
    detune_cents: float = 0.0,
    trem_hz: float = 0.0,
    trem_depth: float = 0.0,
) -> F32:
    """A cached 2 s circular tone: sine partials (ratio, amp), optionally doubled with a
    copy ``detune_cents`` sharp (slow beating, like a chorus of two) and with a tremolo of
    ``trem_hz`` baked in.

    Every frequency is nudged (< 2 cents above 400 Hz; tremolo to 0.5 Hz steps) to a whole
    number of cycles in the buffer, so reading across its end is seamless and long notes can
    loop the buffer.
    """
    seconds = 2.0
    n = int(seconds * SAMPLE_RATE)

    def build(rng: np.random.Generator, _i: int) -> F32:
        t = dsp.ramp(n).astype(np.float64) / SAMPLE_RATE
        x = np.zeros(n, dtype=np.float32)
        f0 = dsp.midi_to_hz(pitch)
        copies = [(f0, 1.0)]
        if detune_cents:
            copies.append((f0 * 2.0 ** (detune_cents / 1200.0), 0.8))
        for base, g in copies:
            for ratio, amp in partials:
                f = round(base * ratio * seconds) / seconds
                if 0 < f < 0.45 * SAMPLE_RATE:
                    cyc = (f * t + rng.random()).astype(np.float32)
                    x += np.float32(amp * g) * sine_cycles(cyc)
        if trem_hz > 0.0 and trem_depth > 0.0:
            rate = max(0.5, round(trem_hz * seconds) / seconds)
            cyc = (rate * t + rng.random()).astype(np.float32)
            x *= np.float32(1.0 - trem_depth) + np.float32(trem_depth) * (
                0.5 + 0.5 * sine_cycles(cyc)
            )
        return x / np.float32(max(1e-9, float(np.abs(x).max())))

    key = ("tone", pitch, partials, detune_cents, round(trem_hz * 2) / 2, trem_depth)
    return cached(key, build, 1, normalise=False)[0]


@SAMPLES.memoize("fade_curve")  # note-length arrays: bounded by bytes with the rest
def fade_curve(kind: str, n: int) -> F32:
    """Cached equal-power quarter-sine fade of ``n`` samples, ``in`` (0->1) or ``out``."""
    u = np.linspace(0.0, 1.0, max(2, n), dtype=np.float32)
    if kind == "in":
        return np.sin(np.float32(np.pi / 2) * u)
    return np.cos(np.float32(np.pi / 2) * u)


@SAMPLES.memoize("swell")  # note-length arrays: bounded by bytes with the rest
def swell(n: int, fade_in: int, fade_out: int) -> F32:
    """Equal-power fade-in / hold / fade-out envelope, so overlapping noise notes sum evenly.

    Cached per shape (tempo-derived lengths repeat): treat the result as read-only.
    """
    env = np.ones(n, dtype=np.float32)
    fi = max(2, min(fade_in, n // 2))
    fo = max(2, min(fade_out, n - fi))
    env[:fi] = fade_curve("in", fi)
    env[n - fo :] = fade_curve("out", fo)
    env[-1] = 0.0
    return env


@SAMPLES.memoize("shape")  # note-length arrays: bounded by bytes with the rest
def shape(kind: str, n: int, peak: float = 0.5) -> F32:
    """Cached smooth one-hump envelope of ``n`` samples peaking at fraction ``peak``.

    ``kind``: ``hump`` (raised-sine rise and fall), ``late`` (slow rise, quicker fall),
    ``early`` (quick rise, long fall). Starts and ends at zero. Treat as read-only.
    """
    u = np.linspace(0.0, 1.0, max(4, n), dtype=np.float32)
    p = np.float32(min(0.95, max(0.05, peak)))
    rise = np.sin(np.float32(np.pi / 2) * np.minimum(u / p, 1.0)) ** 2
    fall = np.cos(np.float32(np.pi / 2) * np.clip((u - p) / (1.0 - p), 0.0, 1.0)) ** 2
    env = np.where(u < p, rise, fall).astype(np.float32)
    if kind == "late":
        env = env**1.5
    elif kind == "early":
        env = np.sqrt(env)
    env[0] = 0.0
    env[-1] = 0.0
    return env[:n]


def fm_bell(
    freq: float, n: int, ratio: float, index: float, index_decay_s: float, t60: float = 0.0
) -> F32:
    """Two-operator phase-modulation tone (like :func:`dsp.fm_tone`) at ~3x the speed.

    The carrier phase comes from an integer accumulator (exact, no float modulo), the sine is
    a table look-up, the modulator a fixed-phase wavetable oscillator, and the index (and,
    if ``t60`` > 0, the amplitude) envelopes are computed at control rate.
    """
    steps = dsp.ramp(n // 16 + 2) * np.float32(16.0 / SAMPLE_RATE)
    depth = np.exp(steps * np.float32(-1.0 / max(index_decay_s, 1e-3)))
    depth = dsp.expand_control(depth * np.float32(index / (2.0 * np.pi)), n)
    depth *= dsp.sine(freq * ratio, n)
    inc = int(round(freq / SAMPLE_RATE * 2.0**32))
    ph = (dsp.iramp(n) * inc) & 0xFFFFFFFF
    cyc = ph.astype(np.float32) * np.float32(2.0**-32)
    cyc += depth
    out = sine_cycles(cyc)
    if t60 > 0.0:
        out *= dsp.expand_control(np.exp(steps * np.float32(-6.9 / t60)), n)
    return out


def modal_fast(
    freq: float, n: int, partials: tuple[tuple[float, float, float], ...], floor_db: float = 50.0
) -> F32:
    """Like :func:`dsp.modal` (decaying sine partials: ratio, amp, t60) at about half the cost.

    Each partial is a fixed-phase wavetable oscillator times a control-rate exponential
    envelope, and stops once it has decayed by ``floor_db`` (inaudible under the others).
    """
    out = np.zeros(n, dtype=np.float32)
    table = dsp.harmonic_table("sine", 1)
    for i, (ratio, amp, t60) in enumerate(partials):
        f = freq * ratio
        if f >= 0.45 * SAMPLE_RATE:
            continue
        m = min(n, int(t60 * floor_db / 60.0 * SAMPLE_RATE))
        if m < 64:
            continue
        steps = dsp.ramp(m // 16 + 2) * np.float32(-6.9 * 16 / (t60 * SAMPLE_RATE))
        env = dsp.expand_control(np.exp(steps) * np.float32(amp), m)
        out[:m] += dsp.fixed_phase_osc(table, f, m, 0.13 * i) * env
    return out


def qlen(n: int, quantum: int = 2048) -> int:
    """Round a note length up to a multiple of ``quantum`` so cached envelopes get reused."""
    return (n + quantum - 1) // quantum * quantum


def midi_of_hz(hz: float) -> float:
    """MIDI number of a frequency (events of unpitched sounds carry their band centre)."""
    return float(69.0 + 12.0 * np.log2(max(hz, 1.0) / 440.0))


def tuned_midi(root: int, low: int) -> int:
    """The MIDI note of pitch class ``root`` in the octave starting at ``low`` (low..low+11)."""
    return low + (root - low) % 12
