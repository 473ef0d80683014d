"""ls.arender / ls.astream / async iteration of AudioStream: same audio, loop never blocked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest

import latentscore as ls
from latentscore import MusicConfig, MusicConfigUpdate, Step, Streamable

SR = 44100
CALM = MusicConfig(tempo="slow", density=3)
GROOVE = MusicConfig(tempo="medium", mode="major", rhythm="soft_four")
ITEMS = (CALM, GROOVE, MusicConfigUpdate(brightness=Step(1)))


async def gather(chunks: AsyncIterator[np.ndarray]) -> np.ndarray:
    return np.concatenate([c async for c in chunks])


def expected(chunk_seconds: float = 0.5) -> np.ndarray:
    stream = ls.stream(*ITEMS, duration=2.0, transition=0.5, chunk_seconds=chunk_seconds, seed=3)
    return np.concatenate(list(stream))


def test_async_iteration_of_audio_stream_matches_sync() -> None:
    stream = ls.stream(*ITEMS, duration=2.0, transition=0.5, chunk_seconds=0.5, seed=3)
    assert np.array_equal(asyncio.run(gather(aiter(stream))), expected())


def test_arender_equals_render() -> None:
    async def main() -> ls.Audio:
        return await ls.arender(CALM, duration=2.0, seed=11, update={"space": "large"})

    audio = asyncio.run(main())
    same = ls.render(CALM, duration=2.0, seed=11, update={"space": "large"})
    assert np.array_equal(audio.samples, same.samples) and audio.seed == 11
    assert audio.notes == same.notes


def test_arender_validates_like_render() -> None:
    with pytest.raises(ls.InvalidConfigError, match="duration"):
        asyncio.run(ls.arender(CALM, duration=-1))


def test_astream_of_a_list_a_stream_and_a_sync_generator_agree() -> None:
    def generate() -> Iterator[object]:
        yield from ITEMS

    kwargs = {"chunk_seconds": 0.5, "transition_seconds": 0.5, "duration": 2.0, "seed": 3}
    want = expected()
    assert np.array_equal(asyncio.run(gather(ls.astream(list(ITEMS), **kwargs))), want)
    assert np.array_equal(asyncio.run(gather(ls.astream(generate(), **kwargs))), want)
    stream = ls.stream(*ITEMS, duration=2.0, transition=0.5, chunk_seconds=0.5, seed=3)
    assert np.array_equal(asyncio.run(gather(ls.astream(stream))), want)


def test_astream_of_an_async_generator_matches_and_is_consumed_lazily() -> None:
    received: list[int] = []  # chunks the consumer had when each item was requested
    chunks: list[np.ndarray] = []

    async def generate() -> AsyncIterator[object]:
        for item in ITEMS:
            received.append(len(chunks))
            await asyncio.sleep(0)  # an awaiting source (sensor, user, network)
            yield item
        received.append(len(chunks))

    async def main() -> None:
        stream = ls.astream(
            generate(), chunk_seconds=0.5, transition_seconds=0.5, duration=2.0, seed=3
        )
        async for chunk in stream:
            chunks.append(chunk)

    asyncio.run(main())
    assert np.array_equal(np.concatenate(chunks), expected())
    # items every 2 s, chunks of 0.5 s: the next item is asked for only when the chunk to
    # render reaches the current item's last 50 ms (where the end fade would start), i.e.
    # after 3 and 7 chunks, and the end is noticed after 11; never a whole item ahead
    assert received == [0, 3, 7, 11]


def test_astream_streamables_and_default_item_duration() -> None:
    async def generate() -> AsyncIterator[object]:
        yield Streamable(CALM, duration=1.5)
        yield Streamable(GROOVE, duration=0.75, transition_duration=0.25)

    x = asyncio.run(gather(ls.astream(generate(), chunk_seconds=0.4)))
    assert x.size == round(2.25 * SR)
    single = asyncio.run(gather(ls.astream(CALM, chunk_seconds=1.0, duration=1.0)))
    assert single.size == SR


def test_astream_errors() -> None:
    async def nothing() -> AsyncIterator[object]:
        return
        yield

    with pytest.raises(ls.InvalidConfigError, match="no items"):
        asyncio.run(gather(ls.astream(nothing())))
    with pytest.raises(ls.InvalidConfigError, match="no items"):
        ls.astream([])
    with pytest.raises(ls.InvalidConfigError) as err:
        ls.astream(iter([CALM]), chunk_seconds=0)
    assert err.value.field == "chunk_seconds"
    with pytest.raises(ls.InvalidConfigError) as err:
        ls.astream(iter([CALM]), transition_seconds=-1)
    assert err.value.field == "transition_seconds"
    with pytest.raises(ls.InvalidConfigError, match="source"):
        ls.astream(42)


def test_astream_never_blocks_the_event_loop() -> None:
    gaps: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    async def main() -> int:
        stop = asyncio.Event()
        task = asyncio.create_task(ticker(stop))
        await asyncio.sleep(0.05)
        total = 0
        async for chunk in ls.astream([ls.presets.load("lofi_study"), GROOVE], duration=10.0):
            total += chunk.size
        stop.set()
        await task
        return total

    # warm up first: in a fresh install the first render imports (and compiles to bytecode,
    # holding the GIL) the synth's lazily loaded modules, a one-time cost this test is not
    # about (it once stalled the loop for 179 ms in a fresh CI checkout)
    for config in (ls.presets.load("lofi_study"), GROOVE):
        ls.render(config, duration=0.5, seed=1)
    assert asyncio.run(main()) == 20 * SR
    assert len(gaps) > 10
    assert max(gaps) < 0.1, f"event loop stalled for {max(gaps) * 1000:.0f} ms"
