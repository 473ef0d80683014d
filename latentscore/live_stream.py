"""LiveStream: music driven by a generator that decides what comes next while it plays.

The user's source (a sync or async generator, any iterable, a list, or one item: MusicConfig,
MusicConfigUpdate, dict updates, vibe strings, GenerateResults, Streamables, 0.1.8 Tracks) is
performed by a :class:`~latentscore.playout.Playout` on a
:class:`~latentscore.timeline.Timeline`, the same path ``ls.stream`` takes: item *k+1* is
requested and resolved in the background while item *k* plays.

Two clocks:

* **Real time** (:meth:`LiveStream.play`): the audio never waits. If the next item is not
  ready at the boundary (the generator is awaiting a sensor, a model is thinking), the
  current config keeps playing and evolving, and the item takes effect as soon as it
  arrives. The player renders only ~0.4 s ahead of the device, so the generator is pulled in
  step with wall-clock time.
* **Audio time** (:meth:`chunks`, :meth:`achunks`, :meth:`collect`, :meth:`save`): rendering
  runs faster than real time, so at a boundary it waits for the next item; transitions land
  exactly where the items' durations put them, and the result is reproducible for a seed.

When the generator ends, the last item plays out its duration, fading out over its final
50 ms, and the stream ends. A bare item plays for ``duration`` seconds (default 60); a
Streamable sets its own duration and transition.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

from latentscore.audio import Audio
from latentscore.audio_file import write_audio_chunks
from latentscore.errors import InvalidConfigError
from latentscore.hooks import StreamHooks
from latentscore.models.base import DEFAULT_MODEL, ModelSpec
from latentscore.player import OutputBackend, PlaybackStats, Player, play_stream
from latentscore.playout import CueStart, Playout
from latentscore.stream_args import UNSET, is_item, pick_transition, stream_args

DEFAULT_ITEM_SECONDS = 60.0
DEFAULT_TRANSITION_SECONDS = 3.0

Samples = NDArray[np.float32]

__all__ = ["DEFAULT_ITEM_SECONDS", "CueStart", "LiveStream"]


def _seconds(name: str, value: object, sample_rate: int) -> int | None:
    """``seconds=`` arguments as a sample count (None: to the end)."""
    if value is None:
        return None
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    if not ok or not (math.isfinite(float(value)) and float(value) > 0):  # type: ignore[arg-type]
        raise InvalidConfigError(
            f"{name}: expected seconds > 0 or None, got {value!r}", field=name, value=value
        )
    return round(float(value) * sample_rate)  # type: ignore[arg-type]


class LiveStream:
    """A performance driven by a generator; one timeline that every method continues.

    Iterating it (or :meth:`chunks`) yields float32 chunks of ``chunk_seconds``. Use it as a
    context manager (or call :meth:`close`) to stop the generator and its thread.

    Vibe strings are answered by ``model`` (default ``"fast"``; checked when the stream is
    made) in the feed's background thread, never on the audio path; each
    :class:`CueStart` in :attr:`cues` keeps the model's answer as ``cue.result``. Arguments
    are checked by the same validator as ``ls.stream`` (InvalidConfigError names the bad
    one); ``transition_seconds`` is accepted as another name for ``transition``.
    """

    def __init__(
        self,
        source: Any,
        *,
        chunk_seconds: float = 1.0,
        transition: float | Any = UNSET,
        duration: float = DEFAULT_ITEM_SECONDS,
        seed: int | None = None,
        model: ModelSpec = DEFAULT_MODEL,
        hooks: StreamHooks | None = None,
        transition_seconds: float | Any = UNSET,
    ) -> None:
        args = stream_args(
            duration=duration,
            transition=pick_transition(transition, transition_seconds, DEFAULT_TRANSITION_SECONDS),
            chunk_seconds=chunk_seconds,
            seed=seed,
            model=model,
        )
        if is_item(source):  # one item: a stream of one (as in 0.1.8)
            source = [source]
        self._playout = Playout(source, args, hooks)
        self.args = args
        self.seed = args.seed
        self.model = args.model
        self.chunk_seconds = args.chunk_seconds
        self.transition_seconds = args.transition
        self.item_seconds = args.duration
        self.sample_rate = args.sample_rate
        self.chunk_samples = args.chunk_samples

    # --- state ---------------------------------------------------------------------------
    @property
    def ended(self) -> bool:
        return self._playout.done

    @property
    def position(self) -> int:
        """Samples rendered so far."""
        return self._playout.position

    @property
    def cues(self) -> list[CueStart]:
        """Every item that took effect, in order (sample, yield time, late or not)."""
        return self._playout.cues

    # --- audio time ----------------------------------------------------------------------
    def chunks(self, seconds: float | None = None) -> Iterator[Samples]:
        """Float32 chunks of ``chunk_seconds`` (the last may be shorter), in audio time.

        ``seconds`` stops after that much audio (needed for an endless generator).
        """
        return self._playout.take(_seconds("seconds", seconds, self.sample_rate))

    def __iter__(self) -> Iterator[Samples]:
        return self.chunks()

    async def achunks(self, seconds: float | None = None) -> AsyncIterator[Samples]:
        """Like :meth:`chunks`, but each chunk is rendered off the event loop (a thread)."""
        chunks = self.chunks(seconds)
        while True:
            chunk = await asyncio.to_thread(next, chunks, None)
            if chunk is None:
                return
            yield chunk

    def __aiter__(self) -> AsyncIterator[Samples]:
        return self.achunks()

    def collect(self, seconds: float | None = None) -> Audio:
        """Render the next ``seconds`` (default: until the generator's items end) as Audio.

        The Audio carries the notes whose onsets fall inside it and a
        :class:`~latentscore.playout.StreamInfo` as ``metadata``, exactly as
        ``ls.stream(...).collect()`` does for the same items. With an endless generator,
        pass ``seconds``.
        """
        return self._playout.collect(_seconds("seconds", seconds, self.sample_rate))

    def save(
        self,
        path: str | os.PathLike[str],
        seconds: float | None = None,
        *,
        subtype: str | None = None,
    ) -> Path:
        """Write the next ``seconds`` (default: to the end) to an audio file, chunk by chunk.

        Memory stays flat however long the stream is; the file appears under ``path`` only
        when complete (written to a temporary sibling, then renamed).
        """
        return write_audio_chunks(
            path,
            self.chunks(seconds),
            self.sample_rate,
            subtype=subtype,
            owner="LiveStream.save",
            midi_hint=" (MIDI: collect() then .save('x.mid'))",
        )

    # --- real time -----------------------------------------------------------------------
    @overload
    def play(
        self,
        seconds: float | None = ...,
        *,
        device: int | str | None = ...,
        blocking: Literal[True] = ...,
        backend: OutputBackend | None = ...,
    ) -> PlaybackStats: ...

    @overload
    def play(
        self,
        seconds: float | None = ...,
        *,
        device: int | str | None = ...,
        blocking: Literal[False],
        backend: OutputBackend | None = ...,
    ) -> Player: ...

    def play(
        self,
        seconds: float | None = None,
        *,
        device: int | str | None = None,
        blocking: bool = True,
        backend: OutputBackend | None = None,
    ) -> PlaybackStats | Player:
        """Play in real time until the generator's items end, or for ``seconds``.

        The audio never waits for the generator: a late item takes effect when it arrives.
        Ctrl-C fades out, closes the device and the generator, and re-raises.
        Blocking returns :class:`PlaybackStats` (``underruns``); non-blocking the
        :class:`Player`.
        """
        limit = _seconds("seconds", seconds, self.sample_rate)
        played = 0

        def render(n: int) -> Samples:
            nonlocal played
            if limit is not None:
                n = min(n, limit - played)
            block = self._playout.render(n, wait=False) if n > 0 else np.zeros(0, np.float32)
            played += len(block)
            return block

        if not blocking:
            return play_stream(render, device=device, blocking=False, backend=backend)
        try:
            return play_stream(render, device=device, backend=backend)
        finally:
            self.close()

    async def aplay(self, seconds: float | None = None) -> PlaybackStats:
        """:meth:`play` for async code: the blocking playback runs in a worker thread."""
        return await asyncio.to_thread(self.play, seconds)

    def close(self) -> None:
        """Stop the generator and its background thread; the stream ends."""
        self._playout.close()

    def __enter__(self) -> LiveStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
