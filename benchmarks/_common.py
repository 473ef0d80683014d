"""Synth experiments shared by the quality tests and the benchmark scripts.

One place defines how a config is rendered for measurement, which base config and audio
feature test each ordinal field, how style distinctness is scored and which configs the
in-key check plays, so ``tests/test_synth_quality.py`` asserts on exactly the figures
``benchmarks/synth_quality.py`` prints. Feature code itself lives in :mod:`synth.analysis`.

The engine is driven directly (``Engine(to_synth_params(config), seed)``, pulled in 1 s
blocks), not through ``latentscore.render``, so these figures measure the synth alone.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentscore.config import FIELDS, MusicConfig
from latentscore.params import to_synth_params
from synth import analysis as an
from synth.engine import Engine
from synth.events import NoteEvent
from synth.params import MODES, SAMPLE_RATE

SR = SAMPLE_RATE
REPO_ROOT = Path(__file__).resolve().parents[1]
# A copy of /work/shared/bench/reference_configs.json lives in the repo so a fresh clone (CI)
# has it; tests check the copy still matches the shared original when that is present.
REFERENCE_CONFIGS_PATH = REPO_ROOT / "benchmarks" / "reference_configs.json"
SHARED_REFERENCE_CONFIGS_PATH = REPO_ROOT.parent / "shared" / "bench" / "reference_configs.json"
WARMUP_S = 1.0  # discarded before measuring, so reverb and echo have reached steady state


def load_reference_configs(path: Path = REFERENCE_CONFIGS_PATH) -> dict[str, MusicConfig]:
    """The six reference MusicConfigs by name (the ``_about`` entry skipped)."""
    raw = json.loads(path.read_text())
    return {name: MusicConfig(**cfg) for name, cfg in raw.items() if not name.startswith("_")}


def pull(engine: Engine, n: int, block: int = SR) -> np.ndarray:
    """Pull ``n`` samples from ``engine`` in ``block``-sized calls, as a player would."""
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, block):
        out[start : start + block] = engine.render(min(block, n - start))
    return out


def render(
    config: MusicConfig, seconds: float, seed: int = 0, warmup_s: float = 0.0, block: int = SR
) -> np.ndarray:
    """``seconds`` of a config from a fresh engine, after discarding ``warmup_s``."""
    engine = Engine(to_synth_params(config), seed=seed)
    skip = round(warmup_s * SR)
    if skip:
        pull(engine, skip, block)
    return pull(engine, round(seconds * SR), block)


def render_with_events(
    config: MusicConfig, seconds: float, seed: int = 0
) -> tuple[np.ndarray, list[NoteEvent]]:
    """Audio plus every note event the engine emitted while rendering it."""
    engine = Engine(to_synth_params(config), seed=seed)
    events: list[NoteEvent] = []
    out = np.empty(round(seconds * SR), dtype=np.float32)
    for start in range(0, out.size, SR):
        out[start : start + SR] = engine.render(min(SR, out.size - start))
        events.extend(engine.drain_events())
    return out, events


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """RMS of ``a - b`` relative to the RMS of ``b`` (0 = identical)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ref = math.sqrt(float(np.mean(b64 * b64)))
    return math.sqrt(float(np.mean((a64 - b64) ** 2))) / ref if ref > 0 else math.inf


def bpm_of(config: MusicConfig) -> float:
    return to_synth_params(config).bpm


# --- ordinal fields --------------------------------------------------------------------------
Measure = Callable[[np.ndarray, MusicConfig], float]


@dataclass(frozen=True)
class OrdinalExperiment:
    """How one ordered field is shown to move its audio feature monotonically.

    ``base`` is rendered once per label of ``field`` (only that field changes) for each seed,
    ``features[primary]`` is averaged over seeds and must move strictly in ``direction``
    (+1 rising, -1 falling). Other features are reported by the benchmark only.
    """

    field: str
    primary: str
    direction: int
    base: MusicConfig
    features: dict[str, Measure]
    seconds: float = 25.0
    seeds: tuple[int, ...] = (0, 1)

    @property
    def labels(self) -> tuple[str | int, ...]:
        return FIELDS[self.field].labels

    def config(self, label: str | int) -> MusicConfig:
        return self.base.with_(**{self.field: label})


def _echo_at_delay(x: np.ndarray, cfg: MusicConfig) -> float:
    # The engine's echo delay is a dotted eighth: 0.75 beat.
    return an.echo_similarity(x, SR, 0.75 * 60.0 / bpm_of(cfg))


def _feature(fn: Callable[[np.ndarray, int], float]) -> Measure:
    return lambda x, _cfg: float(fn(x, SR))


# Percussive base: clear onsets, no reverb or echo smearing them, no humanisation.
_PULSE = MusicConfig(
    tempo="slow",
    density=4,
    bass="pulsing",
    pad="warm_slow",
    melody="minimal",
    rhythm="soft_four",
    space="dry",
    echo="none",
    human="robotic",
    attack="sharp",
    motion="static",
)
# Pitched base: sustained bass, a harmonically rich pad and an arpeggiated melody (partials
# up to the top octave, so every brightness step moves the centroid), little effect colouring.
_PITCHED = MusicConfig(
    density=3,
    bass="sustained",
    pad="bright_open",
    melody="arp_melody",
    space="small",
    echo="none",
    motion="static",
    grain="clean",
)

ORDINAL_EXPERIMENTS: tuple[OrdinalExperiment, ...] = (
    OrdinalExperiment(
        "brightness",
        "spectral centroid (Hz)",
        +1,
        _PITCHED,
        {"spectral centroid (Hz)": _feature(an.spectral_centroid)},
    ),
    OrdinalExperiment(
        "tempo",
        "onset rate (/s)",
        +1,
        _PULSE,
        {
            "onset rate (/s)": _feature(an.onset_rate),
            "tempo estimate (BPM)": _feature(an.tempo_estimate),
        },
    ),
    OrdinalExperiment(
        "space",
        "envelope modulation depth (dB)",
        -1,
        _PULSE,
        {
            "envelope modulation depth (dB)": _feature(an.envelope_modulation_depth),
            "decay time (s)": _feature(an.decay_time),
            "reverb tail ratio (dB)": _feature(an.reverb_tail_ratio),
        },
    ),
    OrdinalExperiment(
        # Sparse plucks and a sparse melody over a drone: the echo has room to be heard.
        "echo",
        "envelope autocorr at echo delay",
        +1,
        MusicConfig(
            tempo="slow",
            density=6,
            bass="drone",
            pad="warm_slow",
            melody="minimal",
            rhythm="none",
            texture="none",
            accent="pluck",
            space="dry",
            attack="sharp",
            human="robotic",
            motion="static",
        ),
        {
            "envelope autocorr at echo delay": _echo_at_delay,
            "envelope autocorr max 120-900 ms": _feature(an.envelope_autocorr_max),
        },
    ),
    OrdinalExperiment(
        # Each added layer fills a different part of the spectrum: melody the mids, hats the
        # highs, shimmer the top octave, bells the upper mids.
        "density",
        "spectral entropy",
        +1,
        MusicConfig(
            bass="drone",
            pad="dark_sustained",
            melody="contemplative",
            rhythm="hats_only",
            texture="shimmer",
            accent="bells",
            brightness="bright",
            space="small",
            echo="none",
        ),
        {
            "spectral entropy": _feature(an.spectral_entropy),
            "spectral spread (Hz)": _feature(an.spectral_spread),
            "spectral peaks": _feature(an.spectral_peak_count),
        },
    ),
    OrdinalExperiment(
        # Drone plus a bright pad: steady partials around the filter cutoff, so the LFO sweep
        # shows; 30 s so the slowest LFO (0.07 Hz) completes two cycles.
        "motion",
        "centroid variation (oct)",
        +1,
        MusicConfig(density=2, bass="drone", pad="bright_open", space="small", echo="none"),
        {"centroid variation (oct)": _feature(an.centroid_variation)},
        seconds=30.0,
    ),
    OrdinalExperiment(
        # Very slow tempo keeps the sixteenth grid (268 ms) well above the largest jitter.
        "human",
        "onset timing scatter (ms)",
        +1,
        _PULSE.with_(tempo="very_slow"),
        {
            "onset timing scatter (ms)": lambda x, cfg: (
                1000.0 * an.onset_timing_irregularity(x, SR, bpm_of(cfg))
            )
        },
    ),
)
ORDINAL_BY_FIELD = {exp.field: exp for exp in ORDINAL_EXPERIMENTS}


def measure_ordinal(
    exp: OrdinalExperiment, features: Sequence[str] | None = None
) -> dict[str, list[float]]:
    """Seed-averaged feature values per label: {feature name: [value per label]}."""
    names = [exp.primary] if features is None else list(features)
    values: dict[str, list[float]] = {name: [] for name in names}
    for label in exp.labels:
        cfg = exp.config(label)
        per_seed: dict[str, list[float]] = {name: [] for name in names}
        for seed in exp.seeds:
            x = render(cfg, exp.seconds, seed, warmup_s=WARMUP_S)
            for name in names:
                per_seed[name].append(exp.features[name](x, cfg))
        for name in names:
            values[name].append(float(np.mean(per_seed[name])))
    return values


def strictly_monotone(values: Sequence[float], direction: int) -> bool:
    """True when every step moves in ``direction`` (NaN never passes)."""
    steps = np.diff(np.asarray(values, dtype=np.float64)) * direction
    return bool(np.all(steps > 0))


# --- style distinctness ----------------------------------------------------------------------
# Per layer: a base that includes the layer (density) with the other optional layers off, so
# only the tested layer's style changes between renders. Bass and pad cannot be "none"; the
# other is held on a style that stays out of the tested layer's register.
STYLE_BASES: dict[str, MusicConfig] = {
    "bass": MusicConfig(density=2, pad="thin_high", space="small", echo="none"),
    "pad": MusicConfig(density=2, bass="drone", space="small", echo="none"),
    "melody": MusicConfig(
        density=3, bass="drone", pad="dark_sustained", space="small", echo="none"
    ),
    "rhythm": MusicConfig(
        density=4,
        bass="drone",
        pad="dark_sustained",
        melody="minimal",
        space="small",
        echo="none",
    ),
    "texture": MusicConfig(
        density=5,
        bass="drone",
        pad="dark_sustained",
        melody="minimal",
        rhythm="none",
        space="small",
        echo="none",
    ),
    "accent": MusicConfig(
        density=6,
        bass="drone",
        pad="dark_sustained",
        melody="minimal",
        rhythm="none",
        texture="none",
        space="small",
        echo="none",
    ),
}
STYLE_SECONDS = 20.0
# Smallest acceptable style_distance. style_distance is measured in near-identical tolerance
# units (1.0 = exactly on the bench README's near-identical boundary along one axis), so 1.5
# demands a 50 % margin beyond that boundary: renders vary from seed to seed by a fraction of
# a unit, and a pair sitting just over the line would flip between runs.
MIN_STYLE_DISTANCE = 1.5


@dataclass
class StyleReport:
    """Pairwise comparison of every style of one layer."""

    layer: str
    labels: list[str]
    features: dict[str, np.ndarray]
    distances: dict[tuple[str, str], float] = field(default_factory=dict)
    near_identical_pairs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def closest(self) -> tuple[tuple[str, str], float]:
        pair = min(self.distances, key=self.distances.__getitem__)
        return pair, self.distances[pair]


def style_report(layer: str, seconds: float = STYLE_SECONDS, seed: int = 0) -> StyleReport:
    """Render every style of ``layer`` on its base and compare all pairs."""
    base = STYLE_BASES[layer]
    labels = [str(label) for label in FIELDS[layer].labels]
    feats = {
        label: an.style_features(
            render(base.with_(**{layer: label}), seconds, seed, warmup_s=WARMUP_S), SR
        )
        for label in labels
    }
    report = StyleReport(layer, labels, feats)
    for a, b in itertools.combinations(labels, 2):
        report.distances[(a, b)] = an.style_distance(feats[a], feats[b])
        if an.near_identical(feats[a], feats[b]):
            report.near_identical_pairs.append((a, b))
    return report


# --- key -------------------------------------------------------------------------------------
# Pitched layers only (no drums, textures or accents). Each root pairs with a different set
# of bass/pad/melody styles so the check covers more of the pitched vocabulary.
IN_KEY_CASES: tuple[tuple[str, dict[str, str]], ...] = (
    ("c", {"bass": "drone", "pad": "warm_slow", "melody": "contemplative"}),
    ("f#", {"bass": "walking", "pad": "stacked_fifths", "melody": "arp_melody"}),
    ("a", {"bass": "arp_bass", "pad": "cinematic", "melody": "heroic"}),
)
IN_KEY_BASE = MusicConfig(density=3, rhythm="none", texture="none", accent="none", grain="clean")
IN_KEY_SECONDS = 20.0
MIN_IN_KEY = 0.95


def in_key_config(mode: str, root: str, styles: dict[str, str]) -> MusicConfig:
    return IN_KEY_BASE.with_(mode=mode, root=root, **styles)


def in_key_ratio_of(config: MusicConfig, seconds: float = IN_KEY_SECONDS, seed: int = 0) -> float:
    """Share of 55 Hz-2 kHz energy inside the config's scale."""
    params = to_synth_params(config)
    x = render(config, seconds, seed, warmup_s=WARMUP_S)
    return an.in_key_ratio(x, SR, params.scale_pitch_classes())


MODE_NAMES: tuple[str, ...] = tuple(MODES)

# --- label coverage --------------------------------------------------------------------------
# Every layer sounds (density 6, no "none" styles), so every field's change is audible.
LABEL_CHANGE_BASE = MusicConfig(density=6, rhythm="kit_light", texture="breath", accent="bells")
LABEL_CHANGE_SECONDS = 10.0
# A single-field change must alter the render by at least -40 dB relative RMS. This catches
# labels that do nothing (a no-op mapping, two labels clamped to one value) with a wide
# margin over float noise, while a change 40 dB under the mix would be inaudible anyway.
# (Measured on the engine: motion slow -> static, the subtlest change, is about -34 dB.)
MIN_LABEL_DIFFERENCE = 10 ** (-40 / 20)
