"""Rhythm, texture and accent styles: audible, bounded, in key, distinct, seeded, varied, fast.

Each style is auditioned on its own (``synth.layers.base.audition``: no engine, no effects)
and its score generator is driven directly with chords from a seeded
:class:`~synth.theory.HarmonyPlanner`, so every chord degree of every mode turns up.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from latentscore.config import FIELDS
from synth.analysis import near_identical, style_features
from synth.events import NoteEvent
from synth.layers import STYLES, _drums, _oneshot, accent, make_style, texture
from synth.layers.base import VoiceContext, audition, bar_contexts
from synth.params import MODES, SAMPLE_RATE, SynthParams
from synth.theory import HarmonyPlanner

LAYERS = ("rhythm", "texture", "accent")
CASES = [(layer, name) for layer in LAYERS for name in sorted(STYLES[layer])]
UNPITCHED = {"texture": texture.UNPITCHED_VOICES, "accent": accent.UNPITCHED_VOICES}
# every label of the schema (but "none") must have a registered style, and nothing more
EXPECTED = {layer: {str(v) for v in FIELDS[layer].labels} - {"none"} for layer in LAYERS}


def bars_of(
    layer: str, name: str, params: SynthParams, seed: int, bars: int, harmony_seed: int = 7
) -> list[list[NoteEvent]]:
    """Events of ``bars`` bars of one style (one list per bar), chords from a HarmonyPlanner."""
    style = make_style(layer, name)
    rng = np.random.default_rng(seed)
    planner = HarmonyPlanner(np.random.default_rng(harmony_seed))
    degrees = [planner.next_degree() for _ in range(bars + 1)]
    return [style.bar(ctx) for ctx in bar_contexts(params, degrees, rng)]


def test_every_requested_style_is_registered() -> None:
    for layer, names in EXPECTED.items():
        assert set(STYLES[layer]) == names, layer
        for name in names:
            style = make_style(layer, name)
            assert style.layer == layer and style.name == name
            assert style.gain > 0 and (type(style).__doc__ or "").strip()


@pytest.mark.parametrize(("layer", "name"), CASES)
def test_audition_is_audible_finite_and_bounded(layer: str, name: str) -> None:
    params = SynthParams().with_values(mode="major", root=9, tempo=0.6)
    x = audition(make_style(layer, name), params, 20.0, seed=4)
    assert x.dtype == np.float32
    assert np.all(np.isfinite(x))
    assert float(np.sqrt(np.mean(x**2))) > 1e-3
    assert float(np.abs(x).max()) <= 1.5


@pytest.mark.parametrize(("layer", "name"), CASES)
def test_events_are_well_formed(layer: str, name: str) -> None:
    params = SynthParams().with_values(mode="minor", root=3)
    events = [e for bar in bars_of(layer, name, params, seed=1, bars=16) for e in bar]
    assert events, f"{layer}/{name} wrote no events"
    for e in events:
        assert e.layer == layer
        assert e.duration_beats > 0 and 0 < e.velocity <= 1
        assert 0 <= e.start_beat < 16 * 4
        if layer == "rhythm":  # General MIDI drum numbers, voice names a known drum sound
            assert e.voice in _drums.VOICES and e.pitch == _drums.VOICES[e.voice].gm


@pytest.mark.parametrize(("layer", "name"), [c for c in CASES if c[0] != "rhythm"])
def test_pitched_events_are_in_key_in_every_mode(layer: str, name: str) -> None:
    for mode, root in itertools.product(MODES, (0, 4, 10)):
        params = SynthParams().with_values(mode=mode, root=root)
        bars = bars_of(layer, name, params, seed=root + 2, bars=24, harmony_seed=root)
        pitched = [e for bar in bars for e in bar if e.voice not in UNPITCHED[layer]]
        pcs = {round(e.pitch) % 12 for e in pitched}
        assert all(float(e.pitch).is_integer() for e in pitched), (layer, name)
        assert pcs <= set(params.scale_pitch_classes()), (layer, name, mode, root, pcs)


@pytest.mark.parametrize(("layer", "name"), CASES)
def test_notes_start_and_end_silently(layer: str, name: str) -> None:
    params = SynthParams().with_values(mode="dorian", root=5, attack=1.0, tempo=0.0)
    style = make_style(layer, name)
    vctx = VoiceContext(params=params, rng=np.random.default_rng(0), seconds_per_beat=60 / 56)
    events = [e for bar in bars_of(layer, name, params, seed=5, bars=8) for e in bar][:12]
    for ev in events:
        y = style.render(ev, vctx)
        assert y.dtype == np.float32 and y.ndim == 1
        assert abs(float(y[0])) < 0.02 and abs(float(y[-1])) < 1e-3
        assert float(np.abs(y).max()) <= 1.5 * max(ev.velocity, 0.1)
        tail = y.size / SAMPLE_RATE - ev.duration_beats * vctx.seconds_per_beat
        assert tail <= 6.5, (name, ev.voice, tail)


@pytest.mark.parametrize(("layer", "name"), CASES)
def test_same_seed_same_sound_other_seed_other_events(layer: str, name: str) -> None:
    params = SynthParams().with_values(mode="mixolydian", root=7, tempo=0.8)
    style_a = make_style(layer, name)
    a = audition(style_a, params, 8.0, seed=11)
    _oneshot._CACHE.clear()  # a cold cache must synthesise the very same one-shots
    b = audition(make_style(layer, name), params, 8.0, seed=11)
    assert np.array_equal(a, b)

    def flat(seed: int) -> list[tuple[float, float, float, str]]:
        bars = bars_of(layer, name, params, seed=seed, bars=16)
        return [(e.start_beat, e.pitch, round(e.velocity, 6), e.voice) for bar in bars for e in bar]

    assert flat(1) == flat(1)
    assert flat(1) != flat(2)


@pytest.mark.parametrize(("layer", "name"), CASES)
def test_consecutive_bars_vary(layer: str, name: str) -> None:
    params = SynthParams().with_values(mode="minor", root=0)
    bars = bars_of(layer, name, params, seed=3, bars=17)

    def shape(i: int) -> list[tuple[float, float, float, str]]:
        start = 4.0 * i
        return [(e.start_beat - start, e.pitch, round(e.velocity, 6), e.voice) for e in bars[i]]

    same = sum(shape(i) == shape(i + 1) for i in range(16))
    assert same <= 8, f"{layer}/{name}: {same} of 16 bar pairs repeat verbatim"


@pytest.mark.parametrize("layer", LAYERS)
def test_styles_of_a_layer_are_distinct(layer: str) -> None:
    params = SynthParams().with_values(mode="minor", root=2)
    feats = {
        name: style_features(audition(make_style(layer, name), params, 30.0, seed=1), SAMPLE_RATE)
        for name in sorted(STYLES[layer])
    }
    clashes = [
        (a, b) for a, b in itertools.combinations(feats, 2) if near_identical(feats[a], feats[b])
    ]
    assert not clashes, clashes


@pytest.mark.parametrize(("layer", "name"), CASES)
def test_sixty_seconds_at_the_fastest_tempo_render_quickly(layer: str, name: str) -> None:
    """Warm-cache voice rendering budget: ~25 ms per layer per minute (generous CI margin)."""
    params = SynthParams().with_values(tempo=1.0)
    audition(make_style(layer, name), params, 60.0)  # warm the one-shot caches
    best = min(_timed(layer, name, params) for _ in range(3))
    assert best < 0.12, f"{layer}/{name}: {best * 1000:.0f} ms"


def _timed(layer: str, name: str, params: SynthParams) -> float:
    t0 = time.perf_counter()
    audition(make_style(layer, name), params, 60.0)
    return time.perf_counter() - t0
