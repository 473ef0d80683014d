"""Engine invariants from ARCHITECTURE.md: audio contract, determinism, block-size invariance,
no verbatim repetition, click-free parameter changes, and sane note events.

The engine is driven directly (no latentscore.render) on the six reference configs.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from benchmarks._common import (
    REFERENCE_CONFIGS_PATH,
    SHARED_REFERENCE_CONFIGS_PATH,
    SR,
    load_reference_configs,
    pull,
    render,
    render_with_events,
)
from latentscore.params import to_synth_params
from synth.analysis import boundary_click_ratio, click_ratio
from synth.engine import Engine
from synth.events import NoteEvent
from synth.repetition import find_verbatim_repeat

REFS = load_reference_configs()
CONTRACT_SECONDS = 20


def test_reference_configs_copy_is_current() -> None:
    assert len(REFS) == 6
    if not SHARED_REFERENCE_CONFIGS_PATH.exists():
        pytest.skip("shared bench folder not present (fresh clone)")
    shared = json.loads(SHARED_REFERENCE_CONFIGS_PATH.read_text())
    assert json.loads(REFERENCE_CONFIGS_PATH.read_text()) == shared


@pytest.mark.parametrize("name", sorted(REFS))
def test_audio_contract(name: str) -> None:
    engine = Engine(to_synth_params(REFS[name]), seed=0)
    assert engine.sample_rate == 44100
    empty = engine.render(0)
    assert empty.dtype == np.float32 and empty.shape == (0,)
    total = 0
    # Uneven block sizes exercise block-boundary bookkeeping as well.
    for block in itertools.islice(itertools.cycle((44100, 512, 4096, 1, 30000)), 40):
        n = min(block, CONTRACT_SECONDS * SR - total)
        if n <= 0:
            break
        x = engine.render(n)
        assert x.dtype == np.float32, name
        assert x.shape == (n,), name
        assert np.isfinite(x).all(), name
        assert float(np.max(np.abs(x))) <= 1.0, name
        total += n
        assert engine.position == total
    rest = CONTRACT_SECONDS * SR - total
    if rest:
        x = engine.render(rest)
        assert x.dtype == np.float32 and np.isfinite(x).all() and np.max(np.abs(x)) <= 1.0


@pytest.mark.parametrize("name", ["d2_drone_dry", "d6_electronic_full"])
def test_same_seed_is_identical_and_seeds_differ(name: str) -> None:
    cfg = REFS[name]
    a, events_a = render_with_events(cfg, 15, seed=0)
    b, events_b = render_with_events(cfg, 15, seed=0)
    c = render(cfg, 15, seed=1)
    assert np.array_equal(a, b)
    assert events_a == events_b
    assert not np.array_equal(a, c)
    assert float(np.sqrt(np.mean((a - c).astype(np.float64) ** 2))) > 1e-3


def test_block_size_invariance_64_sample_blocks() -> None:
    cfg = to_synth_params(REFS["d4_rhythm_gritty"])
    n = 60 * SR
    whole = Engine(cfg, seed=3).render(n)
    blocks = pull(Engine(cfg, seed=3), n, block=64)
    assert float(np.max(np.abs(whole - blocks))) <= 1e-6


def test_block_size_invariance_irregular_blocks() -> None:
    cfg = to_synth_params(REFS["d5_vast_shimmer"])
    n = 20 * SR
    whole = Engine(cfg, seed=5).render(n)
    engine = Engine(cfg, seed=5)
    parts, done = [], 0
    for block in itertools.cycle((1, 7, 64, 1000, 4096, 333, 44100)):
        if done >= n:
            break
        parts.append(engine.render(min(block, n - done)))
        done += parts[-1].size
    assert float(np.max(np.abs(whole - np.concatenate(parts)))) <= 1e-6


@pytest.mark.parametrize("name", ["d2_drone_dry", "d4_rhythm_gritty"])
def test_no_verbatim_repetition(name: str) -> None:
    # The static drone and the tight repetitive groove are the configs most tempted to loop.
    x = render(REFS[name], 120, seed=0)
    match = find_verbatim_repeat(x, SR, seg_s=2.0)
    assert match is None, (
        f"{name}: {match.length / SR:.1f} s at {match.start / SR:.2f} s repeats "
        f"{match.lag / SR:.3f} s later (corr {match.correlation:.6f})"
    )


CHANGES: tuple[dict[str, str | int], ...] = (
    {"brightness": "very_dark"},
    {"density": 2},
    {"tempo": "very_fast"},
    {"root": "f#", "mode": "major"},
    {"space": "vast", "echo": "infinite"},
    {"density": 6, "bass": "walking"},
    {"rhythm": "electronic", "texture": "glitch"},
    {"grain": "clean", "attack": "soft"},
    {"motion": "chaotic", "stereo": "ultra_wide"},
    {"brightness": "very_bright", "human": "drunk", "accent": "blip"},
)


def test_set_params_between_blocks_does_not_click() -> None:
    block = 512
    segment = 172 * block  # about 2 s between changes
    cfg = REFS["d4_rhythm_gritty"]
    engine = Engine(to_synth_params(cfg), seed=0)
    parts = [pull(engine, segment, block)]
    boundaries = []
    for change in CHANGES:
        cfg = cfg.with_(**change)
        boundaries.append(engine.position)
        engine.set_params(to_synth_params(cfg))
        parts.append(pull(engine, segment, block))
    x = np.concatenate(parts)
    assert np.isfinite(x).all() and float(np.max(np.abs(x))) <= 1.0
    for b, change in zip(boundaries, CHANGES, strict=True):
        ratio = boundary_click_ratio(x, [b], radius=256, context=SR // 2)
        assert ratio <= 4.0, f"click at change {change}: ratio {ratio:.2f}"
    assert click_ratio(x) <= 4.0


def test_set_params_with_unchanged_params_is_a_no_op() -> None:
    params = to_synth_params(REFS["d3_echo_heavy"])
    plain = pull(Engine(params, seed=0), 5 * SR, 1024)
    engine = Engine(params, seed=0)
    parts = []
    for _ in range(0, 5 * SR, 1024):
        engine.set_params(params)
        parts.append(engine.render(min(1024, 5 * SR - engine.position)))
    assert np.array_equal(plain, np.concatenate(parts))


@pytest.mark.parametrize("name", sorted(REFS))
def test_note_events_are_sane(name: str) -> None:
    cfg = REFS[name]
    engine = Engine(to_synth_params(cfg), seed=0)
    events: list[NoteEvent] = []
    for _ in range(10):
        engine.render(SR)
        events.extend(engine.drain_events())
    assert engine.drain_events() == []
    assert events, name
    assert all(isinstance(e, NoteEvent) for e in events)
    assert {e.layer for e in events} <= set(cfg.active_layers)
    assert {"bass", "pad"} <= {e.layer for e in events}
    for e in events:
        assert 0.0 <= e.velocity <= 1.0
        assert e.duration_beats > 0.0
        assert e.start_sample >= 0 and e.start_beat >= -1.0
        assert 0 <= e.midi_pitch <= 127
