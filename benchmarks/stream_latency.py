"""Live-stream latency: first chunk, per-chunk cost, and generator yield -> audible change.

1. Time to first chunk of ``dx.live([config])`` (1 s chunk) for each reference config, in a
   warm process (wavetable and drum caches built): target <= 50 ms.
2. The same for vibe text items the warm fast model has not seen before: target <= 100 ms.
3. Render cost per 1 s chunk over a 60 s live stream that changes config (crossfade) and
   Steps (glide) every 4 s: mean and 99th percentile.
4. Yield -> audible: an async generator that waits 0.6-1.2 s (a sensor, a user) before each
   item is played in real time into a null sink (:class:`~latentscore.player.NullOutput`,
   clocked like a sound card). For every item, the time from its ``yield`` to the moment the
   device plays the sample where it took effect: target within one chunk (1 s).

Run from the repo root: ``python benchmarks/stream_latency.py``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks._common import load_reference_configs
from latentscore import MusicConfig, MusicConfigUpdate, Step, dx
from latentscore.items import Streamable
from latentscore.models.base import resolve_model
from latentscore.player import NullOutput
from latentscore.vibe import vibe_to_config


def first_chunk_ms(item: object) -> float:
    start = time.perf_counter()
    with dx.live([item], seed=1) as stream:
        next(iter(stream))
    return (time.perf_counter() - start) * 1000


def bench_first_chunk(configs: dict[str, MusicConfig]) -> None:
    for config in configs.values():  # warm-up: build every cache once
        first_chunk_ms(config)
    times = {name: first_chunk_ms(config) for name, config in configs.items()}
    worst = max(times, key=times.__getitem__)
    print(
        f"time to first chunk, config item: median {statistics.median(times.values()):.1f} ms,"
        f" max {times[worst]:.1f} ms ({worst})  [target <= 50 ms]"
    )
    first_chunk_ms("a calm rainy evening")  # load the model once (a warm process)
    texts = [
        "misty forest at dawn",
        "neon city rain at midnight",
        "frantic chase, 132 bpm",
        "warm firelight and old books",
        "glacial arctic silence",
    ]
    cold = [first_chunk_ms(t) for t in texts]  # unseen texts and unseen styles
    model = resolve_model("fast")
    for t in texts:  # now the synth has played these configs (as for config items above)
        first_chunk_ms(vibe_to_config(t))
    model._cache.clear()  # type: ignore[attr-defined]  # but the model answers afresh
    warm = [first_chunk_ms(t) for t in texts]
    print(
        f"time to first chunk, text item: median {statistics.median(warm):.1f} ms, "
        f"max {max(warm):.1f} ms  [target <= 100 ms]; first use of each config's styles "
        f"(synth caches cold): median {statistics.median(cold):.1f} ms"
    )


def bench_chunk_cost(configs: list[MusicConfig]) -> None:
    def scenes() -> Iterator[object]:
        for i in range(15):
            if i % 2 == 0:
                yield Streamable(configs[(i // 2) % len(configs)], duration=4.0)
            else:
                yield Streamable(MusicConfigUpdate(brightness=Step(1), echo=Step(1)), duration=4.0)

    costs = []
    with dx.live(scenes(), chunk_seconds=1.0, seed=2) as stream:
        chunks = iter(stream)
        while True:
            start = time.perf_counter()
            if next(chunks, None) is None:
                break
            costs.append((time.perf_counter() - start) * 1000)
    print(
        f"render cost per 1 s chunk (60 s, change every 4 s): mean {np.mean(costs):.1f} ms, "
        f"p99 {np.percentile(costs, 99):.1f} ms, max {max(costs):.1f} ms"
    )


def bench_yield_to_audible(configs: list[MusicConfig], items: int = 8) -> None:
    rng = random.Random(3)
    yielded: list[float] = []

    async def scenes() -> AsyncIterator[object]:
        for i in range(items):
            if i:
                await asyncio.sleep(rng.uniform(0.6, 1.2))
            yielded.append(time.monotonic())
            content = configs[i % len(configs)] if i % 2 == 0 else {"brightness": Step(1)}
            yield Streamable(content, duration=0.5, transition_duration=0.5)

    sink = NullOutput()
    stream = dx.live(scenes(), seed=4)
    stats = stream.play(backend=sink)
    assert sink.started_at is not None
    delays = [
        (sink.started_at + cue.sample / stream.sample_rate - cue.yielded_at) * 1000
        for cue in stream.cues[1:]
    ]
    print(
        f"generator yield -> audible change ({len(delays)} late items, null sink, "
        f"{stats.underruns} underruns): mean {np.mean(delays):.0f} ms, max {max(delays):.0f} ms"
        "  [target <= 1000 ms, one chunk]"
    )


def main() -> None:
    configs = load_reference_configs()
    bench_first_chunk(configs)
    bench_chunk_cost(list(configs.values()))
    bench_yield_to_audible(list(configs.values()))


if __name__ == "__main__":
    main()
