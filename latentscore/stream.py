"""AudioStream: a sequence of items rendered lazily, chunk by chunk, as one continuous piece.

``ls.stream(a, b, c, duration=60, transition=5)`` plays ``a`` for 60 s, then moves to ``b``
(a glide for an update of continuous fields, an equal-power crossfade otherwise) over 5 s,
and so on; the stream ends when the last item has played its duration. Nothing is rendered
until you iterate, and only one chunk is alive at a time, so an hour-long stream can be
saved or sent over a socket without sitting in memory.

Iterating twice gives the same samples: the seed is fixed when the stream is made, and each
iteration renders from the start on a fresh :class:`~latentscore.timeline.Timeline`.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from latentscore.audio import Audio
from latentscore.audio_file import write_audio_chunks
from latentscore.config import MusicConfig, MusicConfigUpdate
from latentscore.errors import InvalidConfigError
from latentscore.items import Streamable
from latentscore.models.base import DEFAULT_MODEL, ModelSpec
from latentscore.models.result import GenerateResult
from latentscore.params import to_synth_params
from latentscore.render import resolve_seed, validate_duration, validate_model
from latentscore.timeline import Timeline
from synth.events import NoteEvent
from synth.params import SAMPLE_RATE

MIN_CHUNK_S = 0.01
MAX_CHUNK_S = 60.0
ITEM_TYPES = (str, MusicConfig, MusicConfigUpdate, GenerateResult, Streamable, Mapping)


def validate_chunk_seconds(value: object, name: str = "chunk_seconds") -> float:
    """``value`` as float seconds in [0.01, 60], or InvalidConfigError naming ``name``."""
    allowed = f"a number of seconds in [{MIN_CHUNK_S}, {MAX_CHUNK_S:g}]"
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    if not ok or not (MIN_CHUNK_S <= float(value) <= MAX_CHUNK_S):  # type: ignore[arg-type]
        raise InvalidConfigError(
            f"{name}: expected {allowed}, got {value!r}", field=name, value=value, allowed=allowed
        )
    return float(value)  # type: ignore[arg-type]


def validate_transition(value: object, name: str = "transition") -> float:
    """``value`` as float seconds >= 0, or InvalidConfigError naming ``name``.

    A transition longer than an item is not an error: it is clamped to that item's duration
    when the item is scheduled (the change completes inside the item it leads into).
    """
    allowed = "a finite number of seconds >= 0"
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    if not ok or not (math.isfinite(float(value)) and float(value) >= 0):  # type: ignore[arg-type]
        raise InvalidConfigError(
            f"{name}: expected {allowed}, got {value!r}", field=name, value=value, allowed=allowed
        )
    return float(value)  # type: ignore[arg-type]


def validate_item(item: object, where: str) -> None:
    """Reject anything that cannot be a stream item, naming its position (``items[2]``)."""
    if not isinstance(item, ITEM_TYPES):
        raise InvalidConfigError(
            f"{where}: expected a vibe string, MusicConfig, MusicConfigUpdate, dict, "
            f"GenerateResult or Streamable, got {type(item).__name__}",
            field=where,
            value=item,
        )


def item_duration(item: object, default: float) -> float:
    """Seconds an item plays: its own ``Streamable.duration`` or the stream's default."""
    if isinstance(item, Streamable) and item.duration is not None:
        return item.duration
    return default


@dataclass(frozen=True)
class StreamInfo:
    """What a stream was made from; stored as ``Audio.metadata`` by :meth:`AudioStream.collect`.

    ``boundaries`` holds each item's start sample; ``results`` the model's answer for each
    item (``None`` where the item was a config or update), in the same order, and
    :attr:`titles` their titles (``""`` for non-text items).
    """

    items: tuple[object, ...]
    seed: int
    duration: float
    transition: float
    chunk_seconds: float
    boundaries: tuple[int, ...]
    results: tuple[GenerateResult | None, ...] = ()

    @property
    def titles(self) -> tuple[str, ...]:
        """Per-item titles from the model (``""`` for items that were not text)."""
        return tuple(r.title if r is not None else "" for r in self.results)


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
        transition: float = 5.0,
        chunk_seconds: float = 1.0,
        seed: int | None = None,
        model: ModelSpec = DEFAULT_MODEL,
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
        self.item_duration = validate_duration(duration)
        self.transition = validate_transition(transition)
        self.chunk_seconds = validate_chunk_seconds(chunk_seconds)
        self.seed = resolve_seed(seed)
        self.model = validate_model(model)
        self.sample_rate = SAMPLE_RATE
        total = 0.0
        for item in self.items:  # same order of float sums as Timeline, so ends agree exactly
            total += item_duration(item, self.item_duration)
        self.duration = total
        self.n_samples = round(total * self.sample_rate)
        self.chunk_samples = max(1, round(self.chunk_seconds * self.sample_rate))

    def __repr__(self) -> str:
        return (
            f"AudioStream(items={len(self.items)}, duration={self.duration:.2f}s, "
            f"chunk_seconds={self.chunk_seconds:g}, seed={self.seed})"
        )

    # --- iteration -----------------------------------------------------------------------
    def __iter__(self) -> Iterator[NDArray[np.float32]]:
        return self._chunks(self._timeline())

    def _chunks(self, timeline: Timeline) -> Iterator[NDArray[np.float32]]:
        """Render ``timeline`` to the end, pushing each item just before it is needed."""
        pending = iter(self.items)
        exhausted = False
        chunk = self.chunk_samples
        while True:
            while not exhausted and timeline.wants_item(chunk):
                item = next(pending, None)
                if item is None:
                    exhausted = True
                else:
                    timeline.push_item(item, self.item_duration, self.transition)
            n = min(chunk, timeline.end - timeline.position)
            if n <= 0:
                return
            yield timeline.render(n)

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
        """Render the whole stream into one :class:`Audio` (samples, notes, seed, info)."""
        timeline = self._timeline()
        out = np.empty(self.n_samples, dtype=np.float32)
        notes: list[NoteEvent] = []
        pos = 0
        for chunk in self._chunks(timeline):
            out[pos : pos + chunk.size] = chunk
            pos += chunk.size
            notes.extend(e for e in timeline.events() if e.start_sample < self.n_samples)
        notes.extend(e for e in timeline.events() if e.start_sample < self.n_samples)
        return Audio(
            out,
            self.sample_rate,
            notes=notes,
            seed=self.seed,
            tempo_bpm=self._first_bpm(timeline),
            metadata=self._info(timeline),
        )

    def save(self, path: str | os.PathLike[str], *, subtype: str | None = None) -> Path:
        """Render the stream into an audio file chunk by chunk; returns the path written.

        The format follows the extension as in :meth:`Audio.save` (``.wav`` 32-bit float,
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
    def _timeline(self) -> Timeline:
        return Timeline(self.seed, self.sample_rate, model=self.model)

    def _first_bpm(self, timeline: Timeline) -> float | None:
        if not timeline.scheduled:
            return None
        return to_synth_params(timeline.scheduled[0][1].config).clamped().bpm

    def _info(self, timeline: Timeline) -> StreamInfo:
        return StreamInfo(
            items=self.items,
            seed=self.seed,
            duration=self.duration,
            transition=self.transition,
            chunk_seconds=self.chunk_seconds,
            boundaries=tuple(start for start, _ in timeline.scheduled),
            results=tuple(cue.result for _, cue in timeline.scheduled),
        )


def stream(
    *items: object,
    duration: float = 60.0,
    transition: float = 5.0,
    chunk_seconds: float = 1.0,
    seed: int | None = None,
    model: ModelSpec = DEFAULT_MODEL,
) -> AudioStream:
    """Play ``items`` one after another as one continuous, lazily rendered stream.

    ``duration`` is per item (a :class:`Streamable` may set its own ``duration`` and
    ``transition_duration``); the first item starts at once and each later one is reached by
    a ``transition``-second glide (updates of continuous fields) or equal-power crossfade
    (anything else), starting exactly at its boundary. The stream ends after the last item.
    Arguments are validated now (InvalidConfigError names the bad one, ``model`` included);
    vibe strings are turned into configs by ``model`` (default ``"fast"``) when the stream
    reaches them, and ``stream.collect().metadata.titles`` lists the model's title per item.
    """
    return AudioStream(
        items,
        duration=duration,
        transition=transition,
        chunk_seconds=chunk_seconds,
        seed=seed,
        model=model,
    )
