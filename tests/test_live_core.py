"""The live core: a small control quantum, bounded crossfades, composing off the render thread.

What the bridge relies on to answer a knob within a few device blocks and to survive a flood
of style changes: a live engine (256-sample quantum) is still pull-size independent and moves
a knob within a couple of quanta; a performer never holds more than two engines however many
crossfades are asked for, and the newest request wins; a live performer's bars and new
engines are prepared by ``compose_ahead`` (a background thread in the bridge), so render
blocks only mix.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from scipy.signal import butter, sosfilt

from latentscore.config import MusicConfig
from latentscore.params import to_synth_params
from synth.engine import LIVE_QUANTUM, QUANTUM, Engine
from synth.performer import MIN_HOLD_SECONDS, Performer

SR = 44100


def params(**fields: object) -> object:
    return to_synth_params(MusicConfig(**fields))  # type: ignore[arg-type]


def pull(engine: Engine | Performer, total: int, sizes: list[int]) -> np.ndarray:
    out, k = [], 0
    while sum(len(b) for b in out) < total:
        out.append(engine.render(min(sizes[k % len(sizes)], total - sum(len(b) for b in out))))
        k += 1
    return np.concatenate(out)


def hf_energy(x: np.ndarray) -> float:
    sos = butter(4, 4000, "highpass", fs=SR, output="sos")
    return float(np.mean(sosfilt(sos, x) ** 2))


def test_live_quantum_engine_is_pull_size_independent() -> None:
    p = params(rhythm="electronic", density=5)
    total = 3 * SR
    one = Engine(p, seed=4, quantum=LIVE_QUANTUM).render(total)  # type: ignore[arg-type]
    blocks = pull(Engine(p, 4, quantum=LIVE_QUANTUM), total, [256, 1000, 7, 4096])  # type: ignore[arg-type]
    np.testing.assert_array_equal(one, blocks)
    assert np.max(np.abs(one)) <= 1.0 and np.max(np.abs(one)) > 0.05


def test_offline_quantum_is_unchanged_by_the_live_option() -> None:
    p = params(echo="heavy")
    a = Engine(p, seed=2).render(2 * SR)  # type: ignore[arg-type]
    b = Engine(p, seed=2, quantum=QUANTUM).render(2 * SR)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a, b)


def test_a_knob_on_a_live_engine_is_heard_within_a_few_quanta() -> None:
    dark, bright = params(brightness="very_dark"), params(brightness="very_bright")
    engine = Engine(dark, seed=1, quantum=LIVE_QUANTUM, knob_seconds=0.01)  # type: ignore[arg-type]
    engine.render(2 * SR)
    before = hf_energy(engine.render(SR // 10))
    engine.set_params(bright)  # type: ignore[arg-type]
    # three quanta (17 ms) later the top end is already far above where it was
    engine.render(3 * LIVE_QUANTUM)
    after = hf_energy(engine.render(SR // 20))
    assert after > 10 * before, (before, after)


def test_offline_engine_knob_still_glides_slowly() -> None:
    dark, bright = params(brightness="very_dark"), params(brightness="very_bright")
    engine = Engine(dark, seed=1)  # type: ignore[arg-type]
    engine.render(2 * SR)
    engine.set_params(bright)  # type: ignore[arg-type]
    assert engine.current_params.brightness < 0.2  # nothing moves before the next quantum
    engine.render(QUANTUM)
    assert 0.2 < engine.current_params.brightness < 0.9  # 0.3 s time constant


def test_crossfade_flood_keeps_two_engines_and_the_newest_wins() -> None:
    styles = ["minimal", "electronic", "soft_four", "brush", "none"]
    performer = Performer(params(), seed=3)  # type: ignore[arg-type]
    most_alive = 0
    block = SR // 30  # 30 requests a second
    for k in range(30 * 8):
        performer.crossfade_to(params(rhythm=styles[k % len(styles)]), 1.0)  # type: ignore[arg-type]
        performer.render(block)
        most_alive = max(most_alive, performer.engines_alive)
    last = params(rhythm="brush", mode="dorian")
    performer.crossfade_to(last, 1.0)  # type: ignore[arg-type]
    performer.render(3 * SR)
    assert most_alive <= 2
    # one start per MIN_HOLD_SECONDS at most, not one per request
    assert performer.engines_started <= 8 / MIN_HOLD_SECONDS + 3, performer.engines_started
    assert performer.engines_alive == 1 and performer.params == last


def test_pending_crossfade_starts_on_the_same_sample_for_any_pull_size() -> None:
    def run(sizes: list[int]) -> np.ndarray:
        performer = Performer(params(), seed=9)  # type: ignore[arg-type]
        out = [pull(performer, SR, sizes)]
        performer.crossfade_to(params(pad="cinematic"), 2.0)  # type: ignore[arg-type]
        out.append(pull(performer, SR // 3, sizes))
        performer.crossfade_to(params(bass="walking"), 2.0)  # type: ignore[arg-type]
        out.append(pull(performer, 3 * SR, sizes))
        return np.concatenate(out)

    np.testing.assert_array_equal(run([4096]), run([100, 3333, 512]))


def test_live_performer_builds_new_engines_off_the_render_thread() -> None:
    performer = Performer(params(), seed=5, quantum=LIVE_QUANTUM, live=True)  # type: ignore[arg-type]
    composed_by: set[str] = set()
    original = Engine.compose

    def spy(self: Engine, ahead: int) -> None:
        composed_by.add(threading.current_thread().name)
        original(self, ahead)

    Engine.compose = spy  # type: ignore[method-assign]
    try:
        stop = threading.Event()

        def composer() -> None:
            while not stop.wait(0.002):
                performer.compose_ahead(SR // 4)

        thread = threading.Thread(target=composer, name="composer")
        thread.start()
        try:
            for _ in range(40):
                performer.render(LIVE_QUANTUM)
            performer.crossfade_to(params(melody="arp_melody"), 0.5)  # type: ignore[arg-type]
            for _ in range(200):  # paced like a device (5.8 ms blocks)
                time.sleep(LIVE_QUANTUM / SR)
                performer.render(LIVE_QUANTUM)
                if performer.engines_alive == 2 and not performer.pending:
                    break
            assert not performer.pending, "the new engine never started"
        finally:
            stop.set()
            thread.join()
    finally:
        Engine.compose = original  # type: ignore[method-assign]
    assert composed_by == {"composer"}
    # both engines have bars composed beyond what the next block needs
    assert performer.engine._conductor.scheduled_until > performer.engine.position + SR // 5


def test_render_thread_never_waits_for_the_composer_to_retire_an_engine() -> None:
    """An engine that has faded out gives its buses back on the composer thread: releasing
    them takes the engine's compose lock, which the composer can hold for tens of ms while
    it writes that engine's next bar (the soak found 38 ms render stalls from this)."""
    performer = Performer(params(), seed=5, quantum=LIVE_QUANTUM, live=True)  # type: ignore[arg-type]
    performer.compose_ahead(SR // 4)
    outgoing = performer.engine
    performer.crossfade_to(params(melody="arp_melody"), 0.05)  # type: ignore[arg-type]
    performer.compose_ahead(SR // 4)  # builds the new engine
    spares_before = len(performer._spare)
    with outgoing._compose_lock:  # the composer is busy writing the outgoing engine's bar
        finished = threading.Event()

        def render_past_the_fade() -> None:
            for _ in range(40):  # 0.23 s: the 0.05 s fade is long over
                performer.render(LIVE_QUANTUM)
            finished.set()

        worker = threading.Thread(target=render_past_the_fade, daemon=True)
        worker.start()
        assert finished.wait(5.0), "the render thread blocked on the composer's lock"
        worker.join()
    assert performer.engines_alive == 1
    performer.compose_ahead(SR // 4)  # the composer hands the buses back for the next engine
    assert len(performer._spare) == spares_before + 1
