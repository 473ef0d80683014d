"""One beat grid through every transition: crossfades, reseeds and tempo changes never slip it.

A performer (offline, and live with its composer thread) is driven through mixed
transitions: rhythm and pad styles, reseeds, tempo jumps. At robotic timing every rhythm
onset must sit on the sixteenth-note tick it belongs to (MIDI clock's 24 ppqn, 6 ticks per
sixteenth), in the audio-sample domain, within 1 ms; and the performance's beat count must
run on without a jump at any block boundary (a MIDI clock or visuals follow it).
"""

from __future__ import annotations

import itertools
import random
import threading

import pytest

from latentscore.config import MusicConfig
from latentscore.params import to_synth_params
from synth.params import SAMPLE_RATE, SynthParams
from synth.performer import Performer

BLOCK = 256
TOLERANCE = round(0.001 * SAMPLE_RATE)  # 1 ms
RHYTHMS = ["soft_four", "electronic", "minimal"]
TEMPOS = ["slow", "medium", "fast", "very_fast"]


def robotic(rhythm: str, tempo: str, pad: str = "warm_slow") -> SynthParams:
    return to_synth_params(
        MusicConfig(rhythm=rhythm, tempo=tempo, pad=pad, human="robotic", density=5)
    )


def drive(performer: Performer, blocks: int, seed: int, every: int) -> tuple[list, list]:
    """Render ``blocks`` blocks with a transition every ``every`` blocks; returns
    (rhythm onsets as (sample, beat)), (block-edge beats as (sample, beat, bpm))."""
    rng = random.Random(seed)
    onsets: list[tuple[int, float]] = []
    edges: list[tuple[int, float, float]] = []
    for k in range(blocks):
        if k and k % every == 0:
            kind = rng.choice(["style", "seed", "tempo", "glide"])
            params = robotic(
                rng.choice(RHYTHMS), rng.choice(TEMPOS), rng.choice(["warm_slow", "cinematic"])
            )
            if kind == "seed":
                performer.seed = rng.randrange(1, 1000)
            if kind == "glide":
                performer.glide_to(params, 0.5)
            else:
                performer.crossfade_to(params, rng.choice([0.2, 1.0, 2.0]))
        edges.append((performer.position, performer.beat_at(performer.position), 0.0))
        performer.render(BLOCK)
        onsets += [
            (e.start_sample, e.start_beat) for e in performer.drain_events() if e.layer == "rhythm"
        ]
    return onsets, edges


def check_grid(
    performer_onsets: list[tuple[int, float]], edges: list[tuple[int, float, float]]
) -> None:
    assert len(performer_onsets) > 50
    beats = [b for _, b, _ in edges]
    steps = [b1 - b0 for b0, b1 in itertools.pairwise(beats)]
    # at most ~0.2 beats a block (very fast tempo), never backwards, never a jump
    assert min(steps) > 0 and max(steps) < 0.2, (min(steps), max(steps))
    # each onset on its sixteenth: the grid's sample for that sixteenth, from the block edges
    positions = [s for s, _, _ in edges]
    for sample, beat in performer_onsets:
        sixteenth = round(beat * 4) / 4
        assert abs(beat - sixteenth) < 1e-3, f"robotic rhythm off its sixteenth: beat {beat}"
        i = max(0, min(len(edges) - 2, _edge_index(positions, sample)))
        (s0, b0, _), (s1, b1, _) = edges[i], edges[i + 1]
        grid_sample = s0 + (sixteenth - b0) / (b1 - b0) * (s1 - s0)
        assert abs(sample - grid_sample) <= TOLERANCE, (sample, grid_sample, beat)


def _edge_index(positions: list[int], sample: int) -> int:
    import bisect

    return bisect.bisect_right(positions, sample) - 1


def test_offline_grid_holds_through_transitions() -> None:
    performer = Performer(robotic("soft_four", "medium"), seed=4)
    onsets, edges = drive(performer, blocks=8000, seed=1, every=400)  # 46 s, 19 changes
    check_grid([o for o in onsets if o[0] < edges[-1][0]], edges)


@pytest.mark.parametrize("seed", [2, 3])
def test_live_grid_holds_through_transitions(seed: int) -> None:
    performer = Performer(robotic("electronic", "fast"), seed=seed, quantum=256, live=True)
    stop = threading.Event()

    def compose() -> None:
        while not stop.wait(0.002):
            performer.compose_ahead(round(0.3 * SAMPLE_RATE))

    composer = threading.Thread(target=compose, daemon=True)
    composer.start()
    try:
        onsets, edges = drive(performer, blocks=6000, seed=seed, every=300)  # 20 changes
    finally:
        stop.set()
        composer.join()
    assert performer.engines_alive <= 2
    check_grid([o for o in onsets if o[0] < edges[-1][0]], edges)


def test_crossfade_after_a_glide_keeps_one_grid() -> None:
    """A tempo glide writes each bar at the tempo in force when it was composed; a crossfade
    at the glide's (already reached) tempo that joins mid-way through such a bar must not
    leave the old engine's drums running on its slower bar beside the new engine's."""
    performer = Performer(robotic("electronic", "fast"), seed=5)
    onsets: list[tuple[int, float]] = []
    edges: list[tuple[int, float, float]] = []
    target = robotic("electronic", "very_fast")
    glide_at, crossfade_at = round(1.8 * SAMPLE_RATE), round(3.0 * SAMPLE_RATE)
    for _ in range(round(8 * SAMPLE_RATE) // BLOCK):
        position = performer.position
        if position <= glide_at < position + BLOCK:
            performer.glide_to(target, 0.5)
        if position <= crossfade_at < position + BLOCK:
            assert performer.engine.current_params.bpm == target.bpm  # the glide has arrived
            performer.crossfade_to(target, 1.0)
        edges.append((position, performer.beat_at(position), 0.0))
        performer.render(BLOCK)
        onsets += [
            (e.start_sample, e.start_beat) for e in performer.drain_events() if e.layer == "rhythm"
        ]
    check_grid([o for o in onsets if o[0] < edges[-1][0]], edges)
