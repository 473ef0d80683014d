"""Pitched layer styles (bass, pad, melody): in key, audible, bounded, distinct, seeded.

Each style is exercised on its own through ``synth.layers.base.audition`` (no engine, no
effects) and through its score generator directly, with chords from the real
:class:`~synth.theory.HarmonyPlanner` so every chord degree of every mode turns up.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from synth.events import NoteEvent
from synth.layers import STYLES, make_style
from synth.layers.base import VoiceContext, audition, bar_contexts
from synth.params import MODES, SAMPLE_RATE, SynthParams
from synth.theory import HarmonyPlanner, Scale

try:  # shared feature definitions when available
    from synth.analysis import near_identical, style_features
except ImportError:  # pragma: no cover - fallback keeps this file self-contained
    style_features = None  # type: ignore[assignment]
    near_identical = None  # type: ignore[assignment]

LAYERS = ("bass", "pad", "melody")
CASES = [(layer, name) for layer in LAYERS for name in sorted(STYLES[layer])]
REGISTER = {"bass": (24, 60), "pad": (36, 96), "melody": (48, 96)}


def score(
    layer: str, name: str, params: SynthParams, seed: int, bars: int, harmony_seed: int = 7
) -> list[NoteEvent]:
    """Events of ``bars`` bars of one style, chords from a seeded HarmonyPlanner."""
    style = make_style(layer, name)
    rng = np.random.default_rng(seed)
    planner = HarmonyPlanner(np.random.default_rng(harmony_seed))
    degrees = [planner.next_degree() for _ in range(bars + 1)]
    return [ev for ctx in bar_contexts(params, degrees, rng) for ev in style.bar(ctx)]


@pytest.mark.parametrize(("layer", "name"), CASES)
def test_every_note_is_in_key_and_in_register(layer: str, name: str) -> None:
    for mode, root in itertools.product(MODES, (0, 5, 11)):
        params = SynthParams().with_values(mode=mode, root=root)
        events = score(layer, name, params, seed=root + 3, bars=24, harmony_seed=root)
        assert events, f"{layer}/{name} wrote no notes in {mode}"
        pcs = {round(e.pitch) % 12 for e in events}
        assert pcs <= set(params.scale_pitch_classes()), (layer, name, mode, root, pcs)
        lo, hi = REGISTER[layer]
        assert all(lo <= e.pitch <= hi for e in events), (layer, name, mode, root)
        assert all(e.duration_beats > 0 and 0 < e.velocity <= 1 for e in events)


@pytest.mark.parametrize(("layer", "name"), CASES)
def test_same_seed_same_notes_other_seed_other_notes(layer: str, name: str) -> None:
    params = SynthParams().with_values(mode="dorian", root=2)

    def notes(seed: int) -> list[tuple[float, float, float]]:
        events = score(layer, name, params, seed=seed, bars=16)  # same chords, other seed
        return [(e.start_beat, e.pitch, round(e.velocity, 6)) for e in events]

    assert notes(1) == notes(1)
    assert notes(1) != notes(2)


@pytest.mark.parametrize(("layer", "name"), CASES)
def test_audition_is_audible_finite_and_bounded(layer: str, name: str) -> None:
    params = SynthParams().with_values(mode="major", root=9, tempo=0.6)
    x = audition(make_style(layer, name), params, 20.0, seed=4)
    assert x.dtype == np.float32
    assert np.all(np.isfinite(x))
    assert float(np.sqrt(np.mean(x**2))) > 1e-3
    assert float(np.abs(x).max()) <= 1.5


@pytest.mark.parametrize(("layer", "name"), CASES)
def test_notes_start_and_end_silently(layer: str, name: str) -> None:
    params = SynthParams().with_values(mode="minor", root=4, attack=1.0)
    style = make_style(layer, name)
    vctx = VoiceContext(params=params, rng=np.random.default_rng(0), seconds_per_beat=0.6)
    for ev in score(layer, name, params, seed=5, bars=4)[:6]:
        y = style.render(ev, vctx)
        assert y.dtype == np.float32 and y.ndim == 1
        assert abs(float(y[0])) < 0.02 and abs(float(y[-1])) < 1e-3
        assert float(np.abs(y).max()) <= 1.5 * max(ev.velocity, 0.1)
        assert y.size <= 12 * SAMPLE_RATE  # release tails are capped


def _local_features(x: np.ndarray) -> np.ndarray:
    """Fallback fingerprint: 40 log-band mean spectrum (dB) + onset rate."""
    frames = x[: x.size // 2048 * 2048].reshape(-1, 2048) * np.hanning(2048)
    power = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0)
    freqs = np.fft.rfftfreq(2048, 1 / SAMPLE_RATE)
    edges = np.geomspace(40, 16000, 41)
    bands = [power[(freqs >= a) & (freqs < b)].sum() + 1e-12 for a, b in itertools.pairwise(edges)]
    env = np.sqrt(np.mean(x[: x.size // 512 * 512].reshape(-1, 512) ** 2, axis=1)) + 1e-6
    rise = np.diff(20 * np.log10(env))
    onsets = np.sum((rise[1:] > 3.0) & (rise[:-1] <= 3.0))
    return np.concatenate((10 * np.log10(bands), [onsets / (x.size / SAMPLE_RATE), 0.0]))


def _local_near_identical(a: np.ndarray, b: np.ndarray) -> bool:
    corr = float(np.corrcoef(a[:40], b[:40])[0, 1])
    ra, rb = float(a[40]), float(b[40])
    rate = abs(ra - rb) / max(ra, rb) if max(ra, rb) > 0 else 0.0
    return corr > 0.998 and rate <= 0.05


@pytest.mark.parametrize("layer", LAYERS)
def test_styles_of_a_layer_are_distinct(layer: str) -> None:
    params = SynthParams().with_values(mode="minor", root=2)
    feats = {}
    for name in sorted(STYLES[layer]):
        x = audition(make_style(layer, name), params, 30.0, seed=1)
        if style_features is not None:
            feats[name] = style_features(x, SAMPLE_RATE)
        else:
            feats[name] = _local_features(x)
    same = near_identical if near_identical is not None else _local_near_identical
    clashes = [(a, b) for a, b in itertools.combinations(feats, 2) if same(feats[a], feats[b])]
    assert not clashes, clashes


def test_contemplative_minor_centres_on_the_relative_minor_degree() -> None:
    for mode, centre in (("major", 5), ("minor", 0)):
        params = SynthParams().with_values(mode=mode, root=0)
        events = score("melody", "contemplative_minor", params, seed=2, bars=32)
        scale = Scale(0, mode)
        centre_pc = scale.pitch(centre, 4) % 12
        finals = [e for e in events if e.start_beat % 32 == 29.0]  # phrase bar 7, beat 2
        assert finals and all(round(e.pitch) % 12 == centre_pc for e in finals)


def test_pads_lead_voices_smoothly() -> None:
    params = SynthParams().with_values(mode="major", root=0)
    events = score("pad", "warm_slow", params, seed=3, bars=32)
    chords: dict[float, list[float]] = {}
    for e in events:
        chords.setdefault(e.start_beat, []).append(e.pitch)
    voicings = [sorted(v) for _, v in sorted(chords.items())]
    moves = [
        max(abs(a - b) for a, b in zip(u, v, strict=True)) for u, v in itertools.pairwise(voicings)
    ]
    assert max(moves) <= 7  # no voice jumps more than a fifth between chords
