"""Drum and hand-percussion synthesis for the rhythm layer (rendered once, then cached).

Every sound is built from physical cues a listener recognises: a kick is a sine whose pitch
falls exponentially plus a beater click; a snare is a short membrane tone plus band-passed
wire noise; hats are clusters of inharmonic square waves (the 808 recipe) high-passed so only
the metallic shimmer remains; brushes are noise with a slow attack (a swish, not a hit); the
tabla is a pitched membrane whose harmonic modes ring (dayan) or whose pitch bends (bayan).

The pitched parts of drums (kick body, toms, snare shell, tabla, heartbeat) are tuned to the
key's root or fifth, so drum energy between 55 Hz and 2 kHz stays in key; noisy parts are
kept above ~1 kHz for the same reason.

:func:`strike` is the hot path: a dictionary look-up, one random pick among a few cached takes
and one multiply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from synth import dsp
from synth.dsp import F32
from synth.layers._oneshot import (
    _CACHE,
    band_noise,
    bright_level,
    cached,
    decay,
    drive_level,
    level_cutoff,
    level_drive,
    play,
    sine_cycles,
    sweep_cycles,
    swept_sine,
    tuned_midi,
)
from synth.params import SAMPLE_RATE, SynthParams

SR = SAMPLE_RATE
DrumFn = Callable[[np.random.Generator, float, int], F32]


def _n(seconds: float) -> int:
    return int(seconds * SR)


def _hz(midi: int) -> float:
    return dsp.midi_to_hz(midi)


def _jit(rng: np.random.Generator, amount: float) -> float:
    """1 +/- ``amount``: per-take variation so repeated hits are never sample-identical."""
    return 1.0 + amount * float(rng.uniform(-1.0, 1.0))


def _air_lp(cutoff: float, floor: float, ceil: float = 15000.0) -> float:
    """Lowpass corner for noisy parts: follows brightness but keeps a useful floor."""
    return float(min(ceil, max(floor, 1.6 * cutoff)))


# --- kicks and low thumps ---------------------------------------------------------------
def _kick_root(root: int) -> float:
    """Kick body pitch: the root, fifth or fourth (in every mode) that lands in E1..G#1.

    41-52 Hz keeps most of the boom below 55 Hz, where it cannot blur the key, and the
    tuned tail rings consonantly with the bass.
    """
    for interval in (0, 7, 5):
        midi = tuned_midi((root + interval) % 12, 28)
        if midi <= 32:
            return _hz(midi)
    return _hz(tuned_midi(root, 28))


def kick(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Acoustic kick: moderate sweep, round body, felt beater click."""
    n = _n(0.6)
    f = _kick_root(root)
    body = swept_sine(f * 3.0 * _jit(rng, 0.05), f, n, 0.012 * _jit(rng, 0.15))
    body *= decay(n, 0.5 * _jit(rng, 0.1), 0.002)
    click = band_noise(rng, _n(0.012), 900.0, _air_lp(cutoff, 2500.0, 6000.0))
    click *= decay(click.size, 0.012)
    body[: click.size] += 0.22 * click / max(1e-9, float(np.abs(click).max()))
    return body


def kick909(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Drum-machine kick: deep fast sweep, long boom, saturated, hard click."""
    n = _n(0.75)
    f = _kick_root(root)
    body = swept_sine(f * 5.5 * _jit(rng, 0.04), f, n, 0.017 * _jit(rng, 0.1))
    body = dsp.soft_clip(body * decay(n, 0.7 * _jit(rng, 0.08), 0.001), 0.35)
    click = band_noise(rng, _n(0.006), 2000.0, _air_lp(cutoff, 4000.0, 10000.0))
    click *= decay(click.size, 0.006)
    body[: click.size] += 0.3 * click / max(1e-9, float(np.abs(click).max()))
    return body


def kick_soft(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Soft felt kick: small sweep, slow-ish attack, short round decay, almost no click."""
    n = _n(0.4)
    f = _kick_root(root)
    body = swept_sine(f * 1.7 * _jit(rng, 0.05), f, n, 0.02 * _jit(rng, 0.1))
    body *= decay(n, 0.36 * _jit(rng, 0.1), 0.005)
    body += 0.1 * swept_sine(f * 3.4, 2 * f, n, 0.02) * decay(n, 0.08, 0.004)
    return body


def bass_drum(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Concert (military) bass drum: large slack head, slow pitch drop, long boom."""
    n = _n(1.2)
    f = _kick_root(root)
    body = swept_sine(f * 1.35 * _jit(rng, 0.04), f, n, 0.03 * _jit(rng, 0.1))
    body *= decay(n, 1.0 * _jit(rng, 0.1), 0.003)
    body += 0.15 * swept_sine(3 * f * 1.2, 3 * f, n, 0.03) * decay(n, 0.3, 0.003)
    return body


def lub(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """First heart sound: deep, soft-edged thump (valves closing)."""
    n = _n(0.3)
    f = _kick_root(root)
    x = swept_sine(f * 1.3 * _jit(rng, 0.04), f, n, 0.02)
    x += 0.2 * swept_sine(2.6 * f, 2 * f, n, 0.02)
    return x * decay(n, 0.24 * _jit(rng, 0.1), 0.014)


def dub(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Second heart sound: shorter, snappier and a touch brighter (more octave)."""
    n = _n(0.22)
    f = _kick_root(root)
    x = swept_sine(f * 1.5 * _jit(rng, 0.04), f, n, 0.025)
    x += 0.35 * swept_sine(3.0 * f, 2 * f, n, 0.02)
    return x * decay(n, 0.13 * _jit(rng, 0.1), 0.007)


def brush_kick(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Jazz kick feathered with a felt beater: a quiet low bump."""
    n = _n(0.3)
    f = _kick_root(root)
    return swept_sine(f * 1.5, f, n, 0.015) * decay(n, 0.28 * _jit(rng, 0.1), 0.006)


# --- snares, claps, rims ----------------------------------------------------------------
def _shell(root: int) -> float:
    return _hz(tuned_midi(root, 50))  # D3..C#4: the snare shell rings on the tonic


def snare(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Acoustic snare: shell tone (tonic + octave) and bright wire noise."""
    n = _n(0.45)
    f = _shell(root) * _jit(rng, 0.01)
    tone = dsp.sine(f, n) * decay(n, 0.14, 0.001) + 0.35 * dsp.sine(2 * f, n) * decay(n, 0.07)
    wires = band_noise(rng, n, 1900.0, _air_lp(cutoff, 5000.0, 12000.0))
    wires *= decay(n, 0.3 * _jit(rng, 0.12), 0.001)
    return 0.5 * tone + wires / max(1e-9, float(np.abs(wires).max()))


def military_snare(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Field snare: tight high head, crisp and long-buzzing wires."""
    n = _n(0.5)
    f = 2 * _shell(root) * _jit(rng, 0.01)
    tone = dsp.sine(f, n) * decay(n, 0.07, 0.001)
    wires = band_noise(rng, n, 2200.0, _air_lp(cutoff, 7000.0, 13000.0))
    wires *= decay(n, 0.4 * _jit(rng, 0.1), 0.001)
    return 0.35 * tone + wires / max(1e-9, float(np.abs(wires).max()))


def rim(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Side stick: a woody click, two short high modes plus a snap of noise."""
    n = _n(0.12)
    f = _hz(tuned_midi(root, 84))  # above 1 kHz: a woody tick, tuned to the tonic
    # A 2.5 ms onset and a band-limited snap: sparse ticks must not read as clicks in a soft mix.
    x = dsp.sine(f, n) * decay(n, 0.07, 0.0025)
    x += 0.2 * dsp.sine(f * 2.0, n) * decay(n, 0.03, 0.0025)
    snap = band_noise(rng, n, 2000.0, _air_lp(cutoff, 4000.0, 5000.0)) * decay(n, 0.015, 0.0025)
    return x + 0.5 * snap / max(1e-9, float(np.abs(snap).max()))


def clap(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Hand clap: four quick noise bursts (several hands) then a short room tail."""
    n = _n(0.32)
    x = band_noise(rng, n, 1500.0, _air_lp(cutoff, 4500.0, 7000.0))
    t = dsp.ramp(n) / np.float32(SR)
    env = np.zeros(n, dtype=np.float32)
    starts = np.array([0.0, 0.011, 0.021, 0.033]) * _jit(rng, 0.15)
    for i, s in enumerate(starts):
        dt = np.maximum(t - np.float32(s), 0.0)
        burst = np.exp(-dt / 0.004) * (t >= s)
        env = np.maximum(env, burst.astype(np.float32) * (0.7 + 0.1 * i))
    tail = np.exp(-np.maximum(t - np.float32(starts[-1]), 0.0) / 0.06) * (t >= starts[-1])
    env = np.maximum(env, 0.55 * tail.astype(np.float32))
    return x * env


# --- metal ------------------------------------------------------------------------------
_808_HZ = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)


def _metal(rng: np.random.Generator, n: int, scale: float) -> F32:
    """Six detuned square waves: the inharmonic cluster behind analogue hats and cymbals.

    Naive (integer phase-accumulator) squares like the analogue original; the aliasing is
    buried under the high-pass and the noise, and it costs ~1 ns per sample per oscillator.
    """
    x = np.zeros(n, dtype=np.int64)
    ramp = dsp.iramp(n)
    for f in _808_HZ:
        inc = int(f * scale * _jit(rng, 0.01) / SR * (1 << 32))
        x += ((ramp * inc + int(rng.integers(1 << 32))) >> 31) & 1
    return (x.astype(np.float32) - np.float32(3.0)) * np.float32(1.0 / 3.0)


def _hat(rng: np.random.Generator, cutoff: float, t60: float, length: float, hp: float) -> F32:
    n = _n(length)
    x = _metal(rng, n, 1.0) + 2.0 * dsp.noise(n, rng)
    x = dsp.biquad(dsp.biquad(x, "highpass", hp), "highpass", hp)
    x = dsp.biquad(x, "lowpass", _air_lp(cutoff, 8000.0, 16000.0))
    return x * decay(n, t60 * _jit(rng, 0.12), 0.0012)


def hat_closed(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    return _hat(rng, cutoff, 0.06, 0.12, 7000.0)


def hat_pedal(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    return _hat(rng, cutoff, 0.04, 0.09, 5500.0)


def hat_open(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    return _hat(rng, cutoff, 0.5, 0.65, 6500.0)


def ride(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Ride: lower, longer metal wash with a few ringing pings (stick on the bow)."""
    n = _n(1.4)
    x = _metal(rng, n, 1.37) + 1.0 * dsp.noise(n, rng)
    x = dsp.biquad(dsp.biquad(x, "highpass", 3800.0), "highpass", 3800.0)
    x = dsp.biquad(x, "lowpass", _air_lp(cutoff, 7000.0, 14000.0))
    x *= decay(n, 1.2 * _jit(rng, 0.1), 0.001)
    x /= max(1e-9, float(np.abs(x).max()))
    for f, a, t in ((3170.0, 0.35, 0.9), (4730.0, 0.25, 0.7), (6120.0, 0.15, 0.5)):
        x += a * dsp.sine(f * _jit(rng, 0.005), n) * decay(n, t, 0.001)
    return x


def ride_bell(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Ride bell: the cup, mostly clear pings over a little wash."""
    n = _n(1.2)
    x = 0.3 * ride(rng, cutoff, root)[:n]
    for f, a, t in ((2380.0, 1.0, 1.0), (3570.0, 0.6, 0.8), (5450.0, 0.3, 0.5)):
        x += a * dsp.sine(f * _jit(rng, 0.004), n) * decay(n, t, 0.001)
    return x


def crash(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    n = _n(1.9)
    x = 0.6 * _metal(rng, n, 1.9) + 2.0 * dsp.noise(n, rng)
    x = dsp.biquad(dsp.biquad(x, "highpass", 3000.0), "highpass", 3000.0)
    x = dsp.biquad(x, "lowpass", _air_lp(cutoff, 7000.0, 15000.0))
    return x * decay(n, 1.5 * _jit(rng, 0.1), 0.002)


# --- toms, shakers, brushes -------------------------------------------------------------
def _tom(offset: int) -> DrumFn:
    def tom(rng: np.random.Generator, cutoff: float, root: int) -> F32:
        n = _n(0.6)
        f = _hz(tuned_midi(root, 40) + offset)  # root, fifth, octave: in every mode
        x = swept_sine(f * 1.45 * _jit(rng, 0.03), f, n, 0.04) * decay(n, 0.5, 0.0015)
        stick = band_noise(rng, _n(0.02), 1500.0, _air_lp(cutoff, 4000.0, 8000.0))
        x[: stick.size] += 0.2 * stick * decay(stick.size, 0.015)
        return x

    return tom


def shaker(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Shaker: a burst of seed noise with a soft 10 ms onset (grains, not a stick)."""
    n = _n(0.16)
    x = band_noise(rng, n, 4500.0, _air_lp(cutoff, 9000.0, 12000.0))
    return x * decay(n, 0.09 * _jit(rng, 0.15), 0.012 * _jit(rng, 0.3))


def brush_tap(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Brush tapped on the snare: soft diffuse noise with a short tail of wires."""
    n = _n(0.22)
    x = band_noise(rng, n, 2000.0, _air_lp(cutoff, 5000.0, 8000.0))
    return x * decay(n, 0.13 * _jit(rng, 0.15), 0.003)


def brush_swish(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Brush swept across the head: slow 90 ms rise, band drifting upward, soft fall."""
    n = _n(0.55)
    low = band_noise(rng, n, 1500.0, _air_lp(cutoff, 3500.0, 5000.0))
    high = band_noise(rng, n, 3000.0, _air_lp(cutoff, 6000.0, 9000.0))
    mix = np.linspace(0.0, 1.0, n, dtype=np.float32)
    x = low * (1.0 - mix) + high * mix
    t = dsp.ramp(n) / np.float32(SR)
    rise = 0.09 * _jit(rng, 0.25)
    env = np.where(
        t < rise,
        np.sin(0.5 * np.pi * t / np.float32(rise)) ** 2,
        np.exp(-(t - np.float32(rise)) / np.float32(0.11 * _jit(rng, 0.2))),
    )
    return x * env.astype(np.float32)


# --- tabla ------------------------------------------------------------------------------
def _membrane(
    rng: np.random.Generator,
    f0: float,
    n: int,
    modes: tuple[tuple[float, float, float], ...],
    bend: float,
    bend_tau: float,
    glide: float = 1.0,
    glide_s: float = 0.3,
) -> F32:
    """Pitched drum head: harmonic modes (ratio, amp, t60) sharing one bending phase.

    The pitch starts ``bend`` above ``f0`` (the head is stretched by the stroke) and falls
    back within ``bend_tau``; ``glide`` > 1 lets it rise afterwards (bayan heel press).
    """
    if glide == 1.0:
        ph = sweep_cycles(f0 * (1.0 + bend), f0, n, bend_tau)
    else:
        t = dsp.ramp(n) / np.float32(SR)
        f = f0 * (1.0 + bend * np.exp(t * np.float32(-1.0 / bend_tau)))
        f *= 1.0 + (glide - 1.0) * (1.0 - np.exp(t * np.float32(-1.0 / glide_s)))
        ph = np.cumsum(f, dtype=np.float64) / SR
    t32 = dsp.ramp(n) / np.float32(SR)
    x = np.zeros(n, dtype=np.float32)
    for ratio, amp, t60 in modes:
        if f0 * ratio < 0.45 * SR:
            m = min(n, int(t60 * 1.2 * SR))
            env = np.exp(t32[:m] * np.float32(-6.9 / t60)) * np.float32(amp)
            x[:m] += sine_cycles(ratio * ph[:m] + rng.uniform(0, 0.05)) * env
    return x


def _dayan_hz(root: int) -> float:
    return _hz(tuned_midi(root, 57))  # A3..G#4: the dayan is tuned to Sa (the tonic)


def _bayan_hz(root: int) -> float:
    return _hz(tuned_midi(root, 38))  # D2..C#3


def _strike(rng: np.random.Generator, n: int, cutoff: float, t60: float) -> F32:
    x = band_noise(rng, n, 2500.0, _air_lp(cutoff, 6000.0, 10000.0))
    return x * decay(n, t60, 0.001) / max(1e-9, float(np.abs(x).max()))


def tabla_na(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Na / ta: rim stroke; the harmonic overtones ring bright, fundamental weaker."""
    n = _n(0.8)
    modes = ((1, 0.45, 0.35), (2, 1.0, 0.7), (3, 0.7, 0.5), (4, 0.4, 0.35), (5, 0.25, 0.25))
    x = _membrane(rng, _dayan_hz(root), n, modes, 0.03 * _jit(rng, 0.3), 0.015)
    return x + 0.5 * _strike(rng, n, cutoff, 0.01)


def tabla_tin(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Tin: open stroke on the sur, fundamental-heavy and long ringing."""
    n = _n(1.1)
    modes = ((1, 1.0, 1.0), (2, 0.45, 0.6), (3, 0.2, 0.4), (4, 0.08, 0.3))
    x = _membrane(rng, _dayan_hz(root), n, modes, 0.02 * _jit(rng, 0.3), 0.02)
    return x + 0.25 * _strike(rng, n, cutoff, 0.008)


def tabla_te(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Te / ti / re: closed, damped finger stroke: a dry tick with a dull tone."""
    n = _n(0.12)
    x = _membrane(rng, _dayan_hz(root), n, ((1, 1.0, 0.05), (2, 0.4, 0.03)), 0.05, 0.01)
    return 0.6 * x + 0.6 * _strike(rng, n, cutoff, 0.025)


def tabla_ge(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Ge: open bayan stroke; half the takes glide up a whole tone (heel press)."""
    n = _n(0.9)
    glide = 2.0 ** (2 / 12) if rng.random() < 0.5 else 1.0
    modes = ((1, 1.0, 0.7), (2, 0.35, 0.45), (3, 0.12, 0.3))
    return _membrane(rng, _bayan_hz(root), n, modes, 0.08 * _jit(rng, 0.3), 0.02, glide, 0.12)


def tabla_ke(rng: np.random.Generator, cutoff: float, root: int) -> F32:
    """Ke / ka: flat-palm slap on the bayan, no ring."""
    n = _n(0.12)
    thud = _membrane(rng, _bayan_hz(root), n, ((1, 1.0, 0.06),), 0.1, 0.01)
    slap = band_noise(rng, n, 1200.0, _air_lp(cutoff, 3500.0, 5000.0)) * decay(n, 0.04)
    return thud + 2.0 * slap


@dataclass(frozen=True)
class DrumVoice:
    """How to make one drum sound: GM note, synth function, tuned to root?, cached takes."""

    gm: int
    make: DrumFn | None
    tuned: bool = False
    takes: int = 4
    parts: tuple[tuple[str, float], ...] = ()  # two-hand bols: mixes of other voices' takes


VOICES: dict[str, DrumVoice] = {
    "kick": DrumVoice(36, kick, True),
    "kick909": DrumVoice(36, kick909, True, 3),
    "kick_soft": DrumVoice(36, kick_soft, True),
    "bass_drum": DrumVoice(35, bass_drum, True, 3),
    "brush_kick": DrumVoice(36, brush_kick, True, 3),
    "lub": DrumVoice(36, lub, True),
    "dub": DrumVoice(35, dub, True),
    "rim": DrumVoice(37, rim, True),
    "snare": DrumVoice(38, snare, True),
    "military_snare": DrumVoice(38, military_snare, True, 5),
    "clap": DrumVoice(39, clap),
    "brush_tap": DrumVoice(38, brush_tap, False, 5),
    "brush_swish": DrumVoice(40, brush_swish, False, 5),
    "hat_closed": DrumVoice(42, hat_closed, False, 5),
    "hat_pedal": DrumVoice(44, hat_pedal),
    "hat_open": DrumVoice(46, hat_open),
    "crash": DrumVoice(49, crash, False, 2),
    "ride": DrumVoice(51, ride, False, 3),
    "ride_bell": DrumVoice(53, ride_bell, False, 2),
    "tom_low": DrumVoice(41, _tom(0), True, 3),
    "tom_mid": DrumVoice(45, _tom(7), True, 3),
    "tom_high": DrumVoice(48, _tom(12), True, 3),
    "shaker": DrumVoice(70, shaker, False, 5),
    "ge": DrumVoice(60, tabla_ge, True),
    "ke": DrumVoice(61, tabla_ke, True, 3),
    "na": DrumVoice(62, tabla_na, True),
    "tin": DrumVoice(63, tabla_tin, True),
    "te": DrumVoice(64, tabla_te, True, 5),
    "dha": DrumVoice(65, None, True, 4, (("na", 1.0), ("ge", 0.8))),  # dha = na + ge
    "dhin": DrumVoice(66, None, True, 4, (("tin", 1.0), ("ge", 0.8))),  # dhin = tin + ge
}

# Events without a voice hint (e.g. notes from a MIDI controller) fall back on GM numbers.
BY_GM: dict[int, str] = {}
for _name, _v in VOICES.items():
    BY_GM.setdefault(_v.gm, _name)


def _takes(voice: str, bl: int, dl: int, root: int) -> list[F32]:
    """The cached takes of a voice at brightness level ``bl``, drive level ``dl``, root."""
    spec = VOICES[voice]
    root = root if spec.tuned else 0
    key = ("drum", voice, bl, dl, root)
    takes = _CACHE.get(key)
    if takes is None:
        cutoff = level_cutoff(bl)
        drive = 0.6 * level_drive(dl)
        parts = [(_takes(v, bl, dl, root), g) for v, g in spec.parts]

        def make(r: np.random.Generator, _i: int) -> F32:
            if parts:  # struck together: mix takes of the component strokes, no new synthesis
                picks = [(t[int(r.integers(len(t)))], g) for t, g in parts]
                x = np.zeros(max(p.size for p, _ in picks), dtype=np.float32)
                for p, g in picks:
                    x[: p.size] += np.float32(g) * p
                return x
            assert spec.make is not None
            x = spec.make(r, cutoff, root)
            return dsp.soft_clip(x / np.float32(max(1e-9, float(np.abs(x).max()))), drive)

        takes = cached(key, make, spec.takes)
    return takes


def strike(voice: str, velocity: float, params: SynthParams, rng: np.random.Generator) -> F32:
    """One hit of ``voice`` at peak ``velocity`` (cached per brightness / grain / root)."""
    voice = voice if voice in VOICES else "rim"
    takes = _takes(voice, bright_level(params), drive_level(params), params.root)
    return play(takes, velocity, rng)


def voice_for(pitch: float, voice: str) -> str:
    """The drum voice an event asks for (its hint, or its GM number)."""
    if voice in VOICES:
        return voice
    return BY_GM.get(round(pitch), "rim")
