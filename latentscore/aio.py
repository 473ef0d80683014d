"""Async API: ``arender`` and ``astream`` for web servers and other asyncio applications.

The engine is CPU-bound numpy; run on the event loop it would stall every other task for
the length of a render. Both functions therefore do all engine work (and item resolution,
which will call a text model) in worker threads via :func:`asyncio.to_thread`, and
``astream`` pulls items from its source only when the audio reaches them, so an async
generator that awaits (a sensor, a user, a network call) is consumed in step with the music.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping

import numpy as np
from numpy.typing import NDArray

from latentscore.audio import Audio
from latentscore.config import MusicConfig, MusicConfigUpdate
from latentscore.errors import InvalidConfigError
from latentscore.items import Streamable
from latentscore.render import ConfigInput, UpdateInput, render, resolve_seed, validate_duration
from latentscore.stream import AudioStream, validate_chunk_seconds, validate_transition
from latentscore.timeline import Timeline

Chunk = NDArray[np.float32]
_END = object()
_SINGLE_ITEM = (str, MusicConfig, MusicConfigUpdate, Streamable, Mapping)


async def arender(
    config_or_update: ConfigInput = None,
    duration: float = 30.0,
    seed: int | None = None,
    update: UpdateInput = None,
    *,
    progress: bool = False,
) -> Audio:
    """``await ls.arender(...)``: :func:`latentscore.render` in a worker thread.

    Same arguments, same result (the same seed gives the same samples); the event loop keeps
    serving other tasks while the engine runs.
    """
    return await asyncio.to_thread(
        render, config_or_update, duration, seed, update, progress=progress
    )


def astream(
    source: object,
    chunk_seconds: float = 1.0,
    transition_seconds: float = 3.0,
    *,
    duration: float = 60.0,
    seed: int | None = None,
) -> AsyncIterator[Chunk]:
    """Float32 chunks of ``source`` played as a stream, as an async iterator.

    ``source`` may be a list or tuple of items (as for :func:`latentscore.stream`), an
    :class:`AudioStream` (its own chunk size, transition and seed apply), a single item, a
    sync iterable or an async iterable (e.g. an async generator) of items or Streamables.
    Iterables are consumed lazily: the next item is requested only when the chunk being
    rendered reaches the end of the current one. Each item plays ``duration`` seconds (60
    by default, like ``stream``) unless it is a Streamable with its own; changes take
    ``transition_seconds``. The stream ends after the last item; a source that yields
    nothing raises InvalidConfigError. Arguments are validated when called.
    """
    if isinstance(source, AudioStream):
        return source.__aiter__()
    if isinstance(source, _SINGLE_ITEM):
        source = [source]
    if isinstance(source, list | tuple):
        return AudioStream(
            source,
            duration=duration,
            transition=transition_seconds,
            chunk_seconds=chunk_seconds,
            seed=seed,
        ).__aiter__()
    item_seconds = validate_duration(duration)
    transition = validate_transition(transition_seconds, "transition_seconds")
    chunk = validate_chunk_seconds(chunk_seconds)
    chosen_seed = resolve_seed(seed)
    fetch: Callable[[], Awaitable[object]]
    if isinstance(source, AsyncIterable):
        items = aiter(source)
        fetch = lambda: anext(items, _END)  # noqa: E731
    elif isinstance(source, Iterable):
        sync_items = iter(source)
        fetch = lambda: asyncio.to_thread(next, sync_items, _END)  # noqa: E731
    else:
        raise InvalidConfigError(
            f"astream: source must be a list of items, an AudioStream, an item, or a sync or "
            f"async iterable of items, got {type(source).__name__}",
            field="source",
            value=source,
        )
    return _drive(fetch, chunk, item_seconds, transition, chosen_seed)


async def _drive(
    fetch: Callable[[], Awaitable[object]],
    chunk_seconds: float,
    duration: float,
    transition: float,
    seed: int,
) -> AsyncIterator[Chunk]:
    """Pull items as the audio needs them; render each chunk off the event loop."""
    timeline = Timeline(seed)
    chunk = max(1, round(chunk_seconds * timeline.sample_rate))
    exhausted = False
    while True:
        while not exhausted and timeline.wants_item(chunk):
            item = await fetch()
            if item is _END:
                exhausted = True
                if not timeline.scheduled:
                    raise InvalidConfigError(
                        "astream: the source yielded no items", field="source", value=None
                    )
            else:
                await asyncio.to_thread(timeline.push_item, item, duration, transition)
        n = min(chunk, timeline.end - timeline.position)
        if n <= 0:
            return
        yield await asyncio.to_thread(timeline.render, n)
