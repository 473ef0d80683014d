"""Async API: ``arender`` and ``astream`` for web servers and other asyncio applications.

The engine is CPU-bound numpy; run on the event loop it would stall every other task for
the length of a render. Both functions therefore do all engine work in worker threads via
:func:`asyncio.to_thread`. Vibe text goes through :func:`latentscore.avibe_to_result`: a
model with a native async ``agenerate`` (an LLM client) is awaited on the loop, any other
model runs in a worker thread. ``astream`` pulls items from its source only when the audio
reaches them, so an async generator that awaits (a sensor, a user, a network call) is
consumed in step with the music.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from latentscore.audio import Audio
from latentscore.errors import InvalidConfigError
from latentscore.hooks import RenderHooks, emit_render
from latentscore.items import Streamable
from latentscore.models.base import DEFAULT_MODEL, ModelSpec
from latentscore.render import ConfigInput, UpdateInput, render, validate_model
from latentscore.stream import AudioStream
from latentscore.stream_args import UNSET, is_item, pick_transition, stream_args
from latentscore.timeline import Timeline
from latentscore.vibe import avibe_to_result

Chunk = NDArray[np.float32]
_END = object()


async def arender(
    config_or_update: ConfigInput = None,
    duration: float = 30.0,
    seed: int | None = None,
    update: UpdateInput = None,
    *,
    model: ModelSpec = DEFAULT_MODEL,
    progress: bool = False,
    config: ConfigInput = None,
    hooks: RenderHooks | None = None,
) -> Audio:
    """``await ls.arender(...)``: :func:`latentscore.render` off the event loop.

    Same arguments, same result (the same seed gives the same samples, the same text the
    same config and metadata); the event loop keeps serving other tasks while the model and
    the engine run. ``model`` is checked before anything is awaited. ``config=`` and
    ``hooks=`` work as in :func:`latentscore.render`.
    """
    validate_model(model)
    if isinstance(config_or_update, str) and config is None:
        # answered first so a model with a native async path is awaited, not run in a thread
        emit_render(hooks, "start")
        emit_render(hooks, "model_start", model)
        try:
            config_or_update = await avibe_to_result(config_or_update, model)
        except Exception as exc:
            emit_render(hooks, "error", exc)
            raise
        finally:
            emit_render(hooks, "model_end", model)
        if hooks is not None:
            hooks = hooks.model_copy(update={"on_start": None})  # already reported
    return await asyncio.to_thread(
        render,
        config_or_update,
        duration,
        seed,
        update,
        model=model,
        progress=progress,
        config=config,
        hooks=hooks,
    )


def astream(
    source: object,
    chunk_seconds: float = 1.0,
    transition_seconds: float | Any = UNSET,
    *,
    duration: float = 60.0,
    seed: int | None = None,
    model: ModelSpec = DEFAULT_MODEL,
    transition: float | Any = UNSET,
) -> AsyncIterator[Chunk]:
    """Float32 chunks of ``source`` played as a stream, as an async iterator.

    ``source`` may be a list or tuple of items (as for :func:`latentscore.stream`), an
    :class:`AudioStream` (its own chunk size, transition and seed apply), a single item, a
    sync iterable or an async iterable (e.g. an async generator) of items or Streamables.
    Iterables are consumed lazily: the next item is requested only when the chunk being
    rendered reaches the end of the current one. Each item plays ``duration`` seconds (60
    by default, like ``stream``) unless it is a Streamable with its own; changes take
    ``transition_seconds`` (default 3; ``transition=`` is the same setting, the name
    ``stream`` and ``live`` document). The stream ends after the last item with the same
    50 ms fade as ``stream`` and ``live``; a source that yields nothing raises
    InvalidConfigError. Vibe strings are answered by ``model`` (default ``"fast"``) without
    blocking the loop. Arguments are checked when called, by the validator ``stream`` and
    ``live`` use.

    An async generator is consumed on the caller's event loop (it may await your app's
    queues and events); ``ls.live(...).achunks()`` runs it on a loop of its own instead.
    """
    validate_model(model)
    if isinstance(source, AudioStream):
        return source.__aiter__()
    if is_item(source):
        source = [source]
    args = stream_args(
        duration=duration,
        transition=pick_transition(transition, transition_seconds, 3.0),
        chunk_seconds=chunk_seconds,
        seed=seed,
        model=model,
    )
    if isinstance(source, list | tuple):
        return AudioStream(
            source,
            duration=args.duration,
            transition=args.transition,
            chunk_seconds=args.chunk_seconds,
            seed=args.seed,
            model=args.model,
        ).__aiter__()
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
    return _drive(fetch, args.chunk_seconds, args.duration, args.transition, args.seed, model)


async def _answer_text(item: object, model: ModelSpec) -> object:
    """Replace vibe text (bare or in a Streamable) by the model's answer, awaited."""
    if isinstance(item, str):
        return await avibe_to_result(item, model)
    if isinstance(item, Streamable) and isinstance(item.content, str):
        result = await avibe_to_result(item.content, model)
        return Streamable(
            result, duration=item.duration, transition_duration=item.transition_duration
        )
    return item


async def _drive(
    fetch: Callable[[], Awaitable[object]],
    chunk_seconds: float,
    duration: float,
    transition: float,
    seed: int,
    model: ModelSpec,
) -> AsyncIterator[Chunk]:
    """Pull items as the audio needs them; render each chunk off the event loop."""
    timeline = Timeline(seed, model=model)
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
                timeline.finish()
            else:
                item = await _answer_text(item, model)
                await asyncio.to_thread(timeline.push_item, item, duration, transition)
        n = min(chunk, (timeline.final_end or timeline.end) - timeline.position)
        if n <= 0:
            return
        yield await asyncio.to_thread(timeline.render, n)
