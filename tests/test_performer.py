"""Performer: glides and equal-power crossfades between running engines, on one timeline."""

from __future__ import annotations

import numpy as np

from synth.analysis import boundary_click_ratio
from synth.params import SAMPLE_RATE as SR
from synth.params import SynthParams
from synth.performer import Performer

BUSY = SynthParams(
    density=6,
    tempo=0.75,
    styles={
        "bass": "walking",
        "pad": "cinematic",
        "melody": "heroic",
        "rhythm": "electronic",
        "texture": "glitch",
        "accent": "bells",
    },
)
CALM = SynthParams(
    density=3,
    brightness=0.1,
    styles={
        "bass": "drone",
        "pad": "dark_sustained",
        "melody": "contemplative",
        "rhythm": "none",
        "texture": "none",
        "accent": "none",
    },
)
CHANGES = {5 * SR: ("x", CALM, 3.0), 7 * SR: ("x", BUSY, 2.0), 12 * SR: ("g", BUSY, 4.0)}


def perform(block: int, seconds: int = 16) -> tuple[np.ndarray, Performer, list]:
    """Pull a performance in ``block``-sized pieces, applying CHANGES at their samples."""
    p = Performer(BUSY, seed=3)
    out, events, total = [], [], seconds * SR
    while p.position < total:
        if p.position in CHANGES:
            kind, params, secs = CHANGES[p.position]
            if kind == "x":
                p.crossfade_to(params, secs)
            else:
                p.glide_to(params.with_values(brightness=1.0, space=1.0), secs)
        nxt = min([c for c in CHANGES if c > p.position] + [total])
        out.append(p.render(min(block, nxt - p.position)))
        events.extend(p.drain_events())
    return np.concatenate(out), p, events


def test_block_size_does_not_change_the_performance() -> None:
    a, _, _ = perform(SR)
    b, _, _ = perform(1000)
    np.testing.assert_array_equal(a, b)


def test_changes_do_not_click_and_stay_in_range() -> None:
    x, _, _ = perform(4096)
    assert np.abs(x).max() <= 1.0
    assert boundary_click_ratio(x, sorted(CHANGES)) <= 4.0


def test_interrupted_crossfade_settles_on_one_engine() -> None:
    _, p, _ = perform(4096)
    assert len(p._voices) == 1  # the 7 s crossfade interrupted the 5 s one; both are gone


def test_events_live_on_the_performance_timeline() -> None:
    _, _, events = perform(4096)
    # the crossfade at 5 s (3 s long) was interrupted at 7 s by a 2 s fade: the busy engine
    # of the first crossfade is silent from 9 s on, so nothing it scheduled starts later
    calm_layers_only = {"bass", "pad", "melody"}
    late_busy = [
        e for e in events if 7 * SR <= e.start_sample < 9 * SR and e.layer not in calm_layers_only
    ]
    assert late_busy, "the returning busy engine writes rhythm again after 7 s"
    starts = [e.start_sample for e in events]
    assert min(starts) >= 0 and max(starts) < 19 * SR  # scheduled up to a bar ahead
    # beats keep counting across crossfades instead of restarting at 0
    after = [e.start_beat for e in events if e.start_sample >= 7 * SR + SR // 2]
    assert min(after) > 8.0


def test_crossfade_can_restart_the_beat_grid() -> None:
    perf = Performer(SynthParams(), seed=3)
    perf.render(4 * 44100)
    assert perf.beat_at(perf.position) > 4
    perf.crossfade_to(perf.params, 0.05, restart_beats=True)
    assert perf.beat_at(perf.position) == 0.0
    perf.drain_events()
    perf.render(2 * 44100)
    beats = [e.start_beat for e in perf.drain_events() if e.start_sample >= 4 * 44100]
    assert beats and min(beats) >= 0.0 and max(beats) < 5.0  # counted from the restart
