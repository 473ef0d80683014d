"""dx.live: generator-driven streams (sync and async), laziness, endings, close, transitions."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest
import soundfile

from latentscore import MusicConfig, MusicConfigUpdate, Step, dx, presets
from latentscore.errors import InvalidConfigError
from latentscore.items import Streamable
from latentscore.params import to_synth_params
from latentscore.player import NullOutput
from synth.performer import Performer

RATE = 44100
A = presets.load("deep_space")
B = presets.load("lofi_study")


def feed_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ItemFeed")]


def test_sync_generator_cues_land_on_exact_samples() -> None:
    def scenes() -> Iterator[object]:
        yield Streamable(A, duration=1.0)
        yield Streamable(MusicConfigUpdate(brightness=Step(1), tempo=Step(-1)), duration=0.5)
        yield {"brightness": Step(1)}  # a dict update; a bare item plays `duration` (here 1 s)
        yield Streamable(B, duration=1.0, transition_duration=0.5)

    with dx.live(scenes(), chunk_seconds=0.3, duration=1.0, seed=4) as stream:
        audio = stream.collect()
    assert [c.sample for c in stream.cues] == [0, RATE, RATE * 3 // 2, RATE * 5 // 2]
    assert [c.cue.glide for c in stream.cues] == [False, True, True, False]
    brighter = MusicConfigUpdate(brightness=Step(1)).apply_to(stream.cues[1].cue.config)
    assert stream.cues[2].cue.config == brighter != stream.cues[1].cue.config
    assert len(audio) == RATE * 7 // 2 and audio.seed == 4
    assert audio.notes and np.all(np.abs(audio.samples) <= 1.0)
    # nothing changes before the first boundary: exactly a plain performance of A
    plain = Performer(to_synth_params(A), seed=4).render(RATE)
    np.testing.assert_array_equal(audio.samples[:RATE], plain)
    assert stream.ended and not feed_threads()


def test_output_does_not_depend_on_chunk_size() -> None:
    def scenes() -> Iterator[object]:
        yield Streamable(A, duration=0.7)
        yield Streamable(B, duration=0.6, transition_duration=0.3)

    one = dx.live(scenes(), chunk_seconds=0.25, seed=9).collect()
    two = dx.live(scenes(), chunk_seconds=1.0, seed=9).collect()
    np.testing.assert_array_equal(one.samples, two.samples)


def test_generator_is_consumed_lazily_in_audio_time() -> None:
    pulled_at: list[int] = []
    stream_box: list[dx.LiveStream] = []

    def scenes() -> Iterator[object]:
        for i in range(5):
            pulled_at.append(stream_box[0].position)
            yield Streamable(A if i % 2 == 0 else B, duration=1.0)

    stream = dx.live(scenes(), chunk_seconds=0.5, seed=1)
    stream_box.append(stream)
    chunks = stream.chunks()
    next(chunks)
    assert len(pulled_at) == 2  # the playing item and the one being prepared, no more
    rest = list(chunks)
    assert len(rest) == 9
    # item k+1 is requested when item k starts sounding, never earlier
    assert pulled_at == [0, 0, RATE, 2 * RATE, 3 * RATE]


def test_real_time_play_pulls_items_in_step_with_the_clock() -> None:
    pulled: list[float] = []

    def scenes() -> Iterator[object]:
        for i in range(6):
            pulled.append(time.monotonic())
            yield Streamable(MusicConfigUpdate(brightness=Step(1 - 2 * (i % 2))), duration=0.3)

    stream = dx.live(scenes(), duration=0.3, seed=2)
    start = time.monotonic()
    stats = stream.play(backend=NullOutput())
    assert stats.underruns == 0 and 1.7 <= time.monotonic() - start <= 3.0
    # each item is pulled about when the previous one starts sounding (~0.4 s render-ahead)
    for i, t in enumerate(pulled[1:], start=1):
        assert t - start >= (i - 1) * 0.3 - 0.6, (i, t - start)


def test_async_generator_awaiting_between_items_does_not_stall_audio() -> None:
    async def scenes() -> AsyncIterator[object]:
        yield Streamable(A, duration=2.0)
        await asyncio.sleep(0.5)  # a sensor, a user, a slow model
        yield Streamable(B, duration=1.0)

    async def main() -> tuple[list[float], list[float]]:
        ticks: list[float] = []
        arrived: list[float] = []

        async def ticker() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        tick_task = asyncio.create_task(ticker())
        start = time.monotonic()
        async for _chunk in dx.live(scenes(), seed=3).achunks():
            arrived.append(time.monotonic() - start)
        tick_task.cancel()
        return arrived, ticks

    arrived, ticks = asyncio.run(main())
    assert len(arrived) == 3
    assert arrived[0] < 0.4  # the first item's audio comes while the generator sleeps
    assert max(np.diff(ticks)) < 0.2  # the caller's event loop was never blocked
    assert not feed_threads()


def test_late_item_in_real_time_keeps_the_current_config_playing() -> None:
    async def scenes() -> AsyncIterator[object]:
        yield Streamable(A, duration=0.2)
        await asyncio.sleep(0.8)
        yield Streamable(B, duration=0.3, transition_duration=0.1)

    stream = dx.live(scenes(), seed=6)
    stats = stream.play(backend=NullOutput())
    assert stats.underruns == 0
    late = stream.cues[1]
    assert late.late and late.sample > 0.5 * RATE  # applied when it came, audio never waited
    # audible within one chunk of the yield: boundary sample played <= 1 s after the yield
    assert stats.played_samples == late.sample + round(0.3 * RATE)


def test_stream_ends_after_last_item_with_a_fade() -> None:
    audio = dx.live([Streamable(B, duration=1.5)], seed=1).collect()
    assert len(audio) == round(1.5 * RATE)
    assert np.max(np.abs(audio.samples[-64:])) < 0.01
    assert np.max(np.abs(audio.samples[-4000:-3000])) > 0.01
    assert list(dx.live(iter(())).chunks()) == []


def test_errors_propagate_from_the_generator_and_vibes() -> None:
    def broken() -> Iterator[object]:
        yield Streamable(A, duration=0.5)
        raise RuntimeError("sensor unplugged")

    with pytest.raises(RuntimeError, match="sensor unplugged"):
        dx.live(broken()).collect()
    with pytest.raises(InvalidConfigError):
        dx.live(42)
    with pytest.raises(InvalidConfigError):
        dx.live([A], chunk_seconds=0)
    # the same limits as ls.stream: one validator for every performance
    for kwargs in ({"chunk_seconds": 100}, {"duration": 1e9}, {"transition": -1}):
        with pytest.raises(InvalidConfigError):
            dx.live([A], **kwargs)
    # a single item is a stream of one, as in 0.1.8
    assert len(dx.live(MusicConfig(), duration=0.2).collect()) == round(0.2 * RATE)


def test_close_stops_sync_and_async_generators() -> None:
    finished: list[str] = []

    def endless() -> Iterator[object]:
        try:
            while True:
                yield Streamable(MusicConfigUpdate(brightness=Step(1)), duration=0.5)
        finally:
            finished.append("sync")

    async def aendless() -> AsyncIterator[object]:
        try:
            yield Streamable(A, duration=0.5)
            await asyncio.sleep(3600)  # waiting for input that never comes
            yield A
        finally:
            finished.append("async")

    # the async generator is mid-await (item 2 requested at 0 s) when close() comes
    for source, seconds in ((endless(), 0.7), (aendless(), 0.4)):
        with dx.live(source) as stream:
            assert len(stream.collect(seconds=seconds)) == round(seconds * RATE)
        assert not feed_threads()
    assert finished == ["sync", "async"]


def test_save_writes_incrementally_and_matches_collect(tmp_path) -> None:
    def scenes() -> Iterator[object]:
        yield Streamable(A, duration=1.0)
        yield Streamable(B, duration=1.0, transition_duration=0.5)

    path = dx.live(scenes(), chunk_seconds=0.5, seed=8).save(
        tmp_path / "live.wav", seconds=1.6, subtype="FLOAT"
    )
    data, rate = soundfile.read(path, dtype="float32")
    assert rate == RATE and len(data) == round(1.6 * RATE)
    expected = dx.live(scenes(), seed=8).collect(seconds=1.6)
    np.testing.assert_array_equal(data, expected.samples)
    assert [p.name for p in tmp_path.iterdir()] == ["live.wav"]
