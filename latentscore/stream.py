"""AudioStream: a sequence of items rendered lazily, chunk by chunk, as one continuous piece.

``ls.stream(a, b, c, duration=60, transition=5)`` plays ``a`` for 60 s, then moves to ``b``
(a glide for an update of continuous fields, an equal-power crossfade otherwise) over 5 s,
and so on; the stream ends when the last item has played its duration. Nothing is rendered
until you iterate, and only one chunk is alive at a time, so an hour-long stream can be
saved or sent over a socket without sitting in memory.

Iterating twice gives the same samples: the seed is fixed when the stream is made, and each
iteration renders from the start on a fresh :class:`~latentscore.playout.Playout`, the same
driver ``ls.live`` uses for a generator (so a list and a generator of the same items sound
the same, down to the 50 ms fade at the end).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from latentscore.audio import Audio
from latentscore.audio_file import write_audio_chunks
from latentscore.errors import InvalidConfigError
from latentscore.hooks import StreamHooks
from latentscore.models.base import DEFAULT_MODEL, ModelSpec
from latentscore.playout import Playout, StreamInfo
from latentscore.stream_args import (
    ITEM_TYPES,
    UNSET,
    StreamArgs,
    item_duration,
    pick_transition,
    stream_args,
    validate_chunk_seconds,
    validate_item,
    validate_transition,
)

__all__ = [
    "ITEM_TYPES",
    "AudioStream",
    "StreamInfo",
    "item_duration",
    "stream",
    "validate_chunk_seconds",
    "validate_item",
    "validate_transition",
]


class AudioStream:
    """Items played back to back, rendered lazily as float32 chunks.

    Iterate it (``for chunk in stream``) or async-iterate it (``async for chunk in stream``,
    rendering in a worker thread so the event loop stays free); each chunk is a float32
    array of about ``chunk_seconds`` (the last one may be shorter). ``.save(path)`` writes
    incrementally, ``.collect()`` returns one :class:`Audio` with the notes, ``.play()``
    plays it in real time.

    Args:
        items: vibe strings, MusicConfigs, MusicConfigUpdates (applied to the config before
            them; Steps allowed), dicts (read as updates) or Streamables (own timing).
        duration: seconds each item plays unless its Streamable says otherwise.
        transition: seconds of glide/crossfade into each item after the first (clamped to
            the item's duration).
        chunk_seconds: size of the yielded chunks; it never changes the samples.
        seed: ``None`` draws one; read it back as :attr:`seed` to reproduce the stream.
        model: answers vibe strings (``"fast"`` by default; any ``model=`` accepted by
            :func:`latentscore.render`). Checked now, used when the stream reaches text.
    """

    def __init__(
        self,
        items: Sequence[object],
        *,
        duration: float = 60.0,
        transition: float | Any = UNSET,
        chunk_seconds: float = 1.0,
        seed: int | None = None,
        model: ModelSpec = DEFAULT_MODEL,
        hooks: StreamHooks | None = None,
        transition_seconds: float | Any = UNSET,
    ) -> None:
        if len(items) == 0:
            raise InvalidConfigError(
                "stream: no items given; pass at least one MusicConfig, update, vibe or "
                "Streamable, e.g. ls.stream(MusicConfig(tempo='slow'))",
                field="items",
                value=list(items),
            )
        for i, item in enumerate(items):
            validate_item(item, f"items[{i}]")
        self.items: tuple[object, ...] = tuple(items)
        self.args: StreamArgs = stream_args(
            duration=duration,
            transition=pick_transition(transition, transition_seconds, 5.0),
            chunk_seconds=chunk_seconds,
            seed=seed,
            model=model,
        )
        self.hooks = hooks
        self.item_duration = self.args.duration
        self.transition = self.args.transition
        self.chunk_seconds = self.args.chunk_seconds
        self.seed = self.args.seed
        self.model = self.args.model
        self.sample_rate = self.args.sample_rate
        total = 0.0
        for item in self.items:  # same order of float sums as Timeline, so ends agree exactly
            total += item_duration(item, self.item_duration)
        self.duration = total
        self.n_samples = round(total * self.sample_rate)
        self.chunk_samples = self.args.chunk_samples

    def __repr__(self) -> str:
        return (
            f"AudioStream(items={len(self.items)}, duration={self.duration:.2f}s, "
            f"chunk_seconds={self.chunk_seconds:g}, seed={self.seed})"
        )

    # --- iteration -----------------------------------------------------------------------
    def __iter__(self) -> Iterator[NDArray[np.float32]]:
        return self._playout().take(None)

    def __aiter__(self) -> AsyncIterator[NDArray[np.float32]]:
        return self._achunks()

    async def _achunks(self) -> AsyncIterator[NDArray[np.float32]]:
        """The same chunks, each rendered in a worker thread (the loop is never blocked)."""
        chunks = iter(self)
        try:
            while True:
                chunk = await asyncio.to_thread(next, chunks, None)
                if chunk is None:
                    return
                yield chunk
        finally:
            chunks.close()  # type: ignore[attr-defined]

    # --- whole-stream outputs ------------------------------------------------------------
    def collect(self) -> Audio:
        """Render the whole stream into one :class:`Audio` (samples, notes, seed, info).

        Notes are those whose onsets fall inside the audio; ``metadata`` is a
        :class:`~latentscore.playout.StreamInfo` (boundaries, titles, ...).
        """
        return self._playout().collect(expected=self.n_samples)

    def save(self, path: str | os.PathLike[str], *, subtype: str | None = None) -> Path:
        """Render the stream into an audio file chunk by chunk; returns the path written.

        The format follows the extension as in :meth:`Audio.save` (``.wav`` 16-bit PCM,
        ``.flac`` 24-bit, ``.ogg`` Vorbis; ``subtype`` overrides). Chunks go to a temporary
        file next to ``path`` as they are rendered, so memory stays at one chunk whatever the
        length; the file is renamed into place at the end. On any error or Ctrl-C the
        temporary file is deleted and ``path`` is left as it was.
        """
        return write_audio_chunks(
            path,
            self,
            self.sample_rate,
            subtype=subtype,
            owner="AudioStream.save",
            midi_hint=" (for notes: stream.collect().save('x.mid'))",
        )

    def play(self, *, device: int | str | None = None) -> object:
        """Play the stream in real time on ``device`` (default output); blocks until done.

        Uses :func:`latentscore.player.play_stream` (render-ahead buffer, underrun counting)
        and returns its playback stats; where that module is missing it renders the whole
        stream first, plays the result and returns ``None``.
        """
        try:
            from latentscore import player
        except ModuleNotFoundError as exc:
            if exc.name != "latentscore.player":
                raise
            self.collect().play(device=device)
            return None
        return player.play_stream(self, device=device)

    # --- helpers -------------------------------------------------------------------------
    def _playout(self) -> Playout:
        return Playout(list(self.items), self.args, self.hooks)


def stream(
    *items: object,
    duration: float = 60.0,
    transition: float | Any = UNSET,
    chunk_seconds: float = 1.0,
    seed: int | None = None,
    model: ModelSpec = DEFAULT_MODEL,
    hooks: StreamHooks | None = None,
    transition_seconds: float | Any = UNSET,
) -> AudioStream:
    """Play ``items`` one after another as one continuous, lazily rendered stream.

    ``duration`` is per item (a :class:`Streamable` may set its own ``duration`` and
    ``transition_duration``); the first item starts at once and each later one is reached by
    a ``transition``-second glide (updates of continuous fields) or equal-power crossfade
    (anything else), starting exactly at its boundary. The stream ends after the last item.
    Arguments are validated now (InvalidConfigError names the bad one, ``model`` included);
    vibe strings are turned into configs by ``model`` (default ``"fast"``) when the stream
    reaches them, and ``stream.collect().metadata.titles`` lists the model's title per item.

    0.1.8 spellings work too: ``transition_seconds=`` is ``transition``, a single list or
    tuple of items (``ls.stream([a, b])``) is the same as ``ls.stream(a, b)``, and 0.1.8
    Tracks are items. ``hooks=StreamHooks(on_event=...)`` reports the stream's life.
    """
    if len(items) == 1 and isinstance(items[0], list | tuple):
        items = tuple(items[0])
    return AudioStream(
        items,
        duration=duration,
        transition=transition,
        transition_seconds=transition_seconds,
        chunk_seconds=chunk_seconds,
        seed=seed,
        model=model,
        hooks=hooks,
    )
