"""SynthParams: the engine's numeric control surface, and how each number becomes sound.

The engine never sees labels. Every ordered control is a float on a 0..1 axis (``tempo``,
``brightness``, ``space``, ``motion``, ``stereo``, ``echo``, ``human``, ``attack``,
``grain``), ``density`` is a float in 2..6 (fractional values fade the next layer in), and the
categorical controls are plain strings (root pitch class 0..11, mode name, one style per
layer). ``latentscore.params`` maps MusicConfig labels onto these axes (label ``i`` of ``n``
sits at ``i / (n - 1)``), so a controller can also set any value between two labels.

The functions below turn axis positions into physical quantities. Each is interpolated
piecewise-linearly between five anchors, one per label of the 5-label fields, so the labels
land exactly on hand-chosen values and values in between move smoothly.

Tempo is the one axis that reaches past its labels: a BPM set as a number (``MusicConfig.bpm``,
``/latentscore/bpm``, a DAW's clock) may lie anywhere in :data:`BPM_RANGE`, so the tempo
axis extends below 0 and above 1 along its end segments (:func:`bpm_to_tempo`); labels and
faders still cover 0..1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

SAMPLE_RATE = 44100
LAYERS: tuple[str, ...] = ("bass", "pad", "melody", "rhythm", "texture", "accent")
MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}

CONTINUOUS: tuple[str, ...] = (
    "tempo",
    "brightness",
    "space",
    "motion",
    "stereo",
    "echo",
    "human",
    "attack",
    "grain",
)


def _anchors(x: float, values: tuple[float, ...]) -> float:
    """Piecewise-linear interpolation of ``values`` placed evenly on 0..1."""
    pos = min(1.0, max(0.0, x)) * (len(values) - 1)
    i = min(int(pos), len(values) - 2)
    frac = pos - i
    return values[i] + (values[i + 1] - values[i]) * frac


def _log_anchors(x: float, values: tuple[float, ...]) -> float:
    """Like :func:`_anchors` but interpolating in log space (frequencies, times)."""
    return math.exp(_anchors(x, tuple(math.log(v) for v in values)))


# Physical meaning of each axis. Anchors are at the 5 labels (3 for attack and grain).
TEMPO_BPM = (56.0, 70.0, 88.0, 108.0, 132.0)
BPM_RANGE = (40.0, 200.0)  # what a BPM given as a number may be (labels span 56..132)
BRIGHTNESS_CUTOFF_HZ = (420.0, 1100.0, 2800.0, 7000.0, 16000.0)
SPACE_T60_S = (0.25, 1.2, 2.2, 4.0, 9.0)
SPACE_WET = (0.03, 0.21, 0.29, 0.37, 0.48)
MOTION_LFO_HZ = (0.0, 0.07, 0.15, 0.35, 0.9)
MOTION_DEPTH_OCT = (0.0, 0.35, 0.7, 1.1, 1.6)
STEREO_CHORUS_MS = (0.0, 1.5, 3.0, 5.0, 8.0)
STEREO_DETUNE_CENTS = (0.0, 3.0, 6.0, 10.0, 16.0)
ECHO_FEEDBACK = (0.0, 0.22, 0.42, 0.62, 0.86)
ECHO_WET = (0.0, 0.12, 0.22, 0.32, 0.42)
HUMAN_JITTER_S = (0.0, 0.006, 0.016, 0.032, 0.06)
HUMAN_VELOCITY = (0.0, 0.05, 0.1, 0.18, 0.28)
ATTACK_SCALE = (3.0, 1.0, 0.15)
GRAIN_DRIVE = (0.0, 0.45, 1.0)


def tempo_to_bpm(x: float) -> float:
    """BPM at tempo axis position ``x``; past 0 or 1 the end segments' slopes continue."""
    last = len(TEMPO_BPM) - 1
    if x < 0.0:
        return TEMPO_BPM[0] + (TEMPO_BPM[1] - TEMPO_BPM[0]) * x * last
    if x > 1.0:
        return TEMPO_BPM[-1] + (TEMPO_BPM[-1] - TEMPO_BPM[-2]) * (x - 1.0) * last
    return _anchors(x, TEMPO_BPM)


def bpm_to_tempo(bpm: float) -> float:
    """The tempo axis position that plays ``bpm`` (clamped into :data:`BPM_RANGE`)."""
    bpm = min(BPM_RANGE[1], max(BPM_RANGE[0], bpm))
    last = len(TEMPO_BPM) - 1
    if bpm <= TEMPO_BPM[1]:
        return (bpm - TEMPO_BPM[0]) / (TEMPO_BPM[1] - TEMPO_BPM[0]) / last
    for i in range(1, last):
        lo, hi = TEMPO_BPM[i], TEMPO_BPM[i + 1]
        if bpm <= hi or i == last - 1:
            return (i + (bpm - lo) / (hi - lo)) / last
    raise AssertionError("unreachable")  # pragma: no cover


TEMPO_AXIS = (bpm_to_tempo(BPM_RANGE[0]), bpm_to_tempo(BPM_RANGE[1]))  # reachable positions


@dataclass(frozen=True)
class SynthParams:
    """Numeric engine controls. All floats are clamped into range by :meth:`clamped`."""

    tempo: float = 0.25
    brightness: float = 0.5
    space: float = 0.5
    motion: float = 0.25
    stereo: float = 0.5
    echo: float = 0.25
    human: float = 0.5
    attack: float = 0.5
    grain: float = 0.0
    density: float = 4.0
    root: int = 0
    mode: str = "minor"
    styles: dict[str, str] = field(
        default_factory=lambda: {
            "bass": "drone",
            "pad": "warm_slow",
            "melody": "contemplative",
            "rhythm": "none",
            "texture": "none",
            "accent": "none",
        }
    )

    def clamped(self) -> SynthParams:
        vals: dict[str, Any] = {k: min(1.0, max(0.0, float(getattr(self, k)))) for k in CONTINUOUS}
        vals["tempo"] = min(TEMPO_AXIS[1], max(TEMPO_AXIS[0], float(self.tempo)))
        vals["density"] = min(6.0, max(2.0, float(self.density)))
        vals["root"] = int(self.root) % 12
        if self.mode not in MODES:
            raise ValueError(f"mode: {self.mode!r} not in {sorted(MODES)}")
        return replace(self, **vals)

    def with_values(self, **changes: Any) -> SynthParams:
        """A copy with some controls replaced; ``bass="walking"`` etc. set layer styles."""
        styles = dict(self.styles)
        direct: dict[str, Any] = {}
        for key, value in changes.items():
            if key in LAYERS:
                styles[key] = value
            else:
                direct[key] = value
        return replace(self, styles=styles, **direct).clamped()

    # --- physical quantities -------------------------------------------------------------
    @cached_property
    def bpm(self) -> float:
        return tempo_to_bpm(self.tempo)

    @cached_property
    def cutoff_hz(self) -> float:
        return _log_anchors(self.brightness, BRIGHTNESS_CUTOFF_HZ)

    @cached_property
    def reverb_t60(self) -> float:
        return _log_anchors(self.space, SPACE_T60_S)

    @cached_property
    def reverb_wet(self) -> float:
        return _anchors(self.space, SPACE_WET)

    @cached_property
    def lfo_hz(self) -> float:
        return _anchors(self.motion, MOTION_LFO_HZ)

    @cached_property
    def lfo_depth_oct(self) -> float:
        return _anchors(self.motion, MOTION_DEPTH_OCT)

    @cached_property
    def chorus_ms(self) -> float:
        return _anchors(self.stereo, STEREO_CHORUS_MS)

    @cached_property
    def detune_cents(self) -> float:
        return _anchors(self.stereo, STEREO_DETUNE_CENTS)

    @cached_property
    def echo_feedback(self) -> float:
        return _anchors(self.echo, ECHO_FEEDBACK)

    @cached_property
    def echo_wet(self) -> float:
        return _anchors(self.echo, ECHO_WET)

    @cached_property
    def timing_jitter_s(self) -> float:
        return _anchors(self.human, HUMAN_JITTER_S)

    @cached_property
    def velocity_spread(self) -> float:
        return _anchors(self.human, HUMAN_VELOCITY)

    @cached_property
    def attack_scale(self) -> float:
        """Multiplier on every voice's attack time (soft 3x, medium 1x, sharp 0.15x)."""
        return _log_anchors(self.attack, ATTACK_SCALE)

    @cached_property
    def drive(self) -> float:
        """Saturation amount 0..1 (clean 0, warm 0.45, gritty 1)."""
        return _anchors(self.grain, GRAIN_DRIVE)

    def layer_gain(self, layer: str) -> float:
        """0..1 presence of a layer at this density (fractional density fades it in)."""
        idx = LAYERS.index(layer)
        level = min(1.0, max(0.0, self.density - idx)) if idx >= 2 else 1.0
        return 0.0 if self.styles.get(layer, "none") == "none" else level

    def scale_pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root + iv) % 12 for iv in MODES[self.mode])
