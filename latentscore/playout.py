"""Playout: one performance of a source of items on a Timeline; the path stream and live share.

``ls.stream(items)``, ``ls.live(generator)`` and ``ls.astream(...)`` differ only in where the
items come from and which clock pulls the audio. A :class:`Playout` joins an
:class:`~latentscore.item_feed.ItemFeed` (a list, a sync or an async generator) to a
:class:`~latentscore.timeline.Timeline`:

* item *k+1* is requested when item *k* starts sounding (resolved in the background for a
  generator, at once for a list) and must be known by item *k*'s fade point, so the music
  can end with a fade when the source has ended;
* ``render(n, wait=True)`` runs on audio time: at that point it waits for the source, so every
  change lands on its exact sample and a seed reproduces the output;
* ``render(n, wait=False)`` runs on the device clock: it never waits; the current config keeps
  playing and a late item starts when it arrives (the Timeline starts it "now").

Because lists and generators go through the same code, ``ls.stream(*items).collect()`` and
``ls.live(iter(items)).collect()`` give the same samples, notes and metadata.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from latentscore.audio import Audio
from latentscore.hooks import StreamHooks, emit_stream
from latentscore.item_feed import END, ItemFeed, Pulled, _End
from latentscore.items import Cue
from latentscore.models.result import GenerateResult
from latentscore.params import to_synth_params
from latentscore.stream_args import StreamArgs
from latentscore.timeline import Timeline
from synth.events import NoteEvent

LATE_POLL = 1024  # samples rendered between checks for a late item (23 ms)

Samples = NDArray[np.float32]


@dataclass(frozen=True)
class CueStart:
    """Where an item took effect: ``sample`` on the performance's timeline.

    ``yielded_at`` is the ``time.monotonic()`` at which the source produced the item and
    ``late`` says the item arrived after its scheduled boundary (real-time play only).
    """

    index: int
    sample: int
    yielded_at: float
    late: bool
    cue: Cue


@dataclass(frozen=True)
class StreamInfo:
    """What a stream was made from; stored as ``Audio.metadata`` by every ``collect()``.

    ``items`` are the items that start inside the audio, ``boundaries`` their start samples
    (relative to the audio's first sample); ``results`` the model's answer for each item
    (``None`` where the item was a config or update), in the same order, and :attr:`titles`
    their titles (``""`` for non-text items). ``duration`` and ``transition`` are the
    performance's defaults per item.
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


class Playout:
    """A source of items performed on one Timeline (see the module docstring)."""

    def __init__(self, source: Any, args: StreamArgs, hooks: StreamHooks | None = None) -> None:
        self.args = args
        self.timeline = Timeline(args.seed, args.sample_rate, model=args.model)
        self.cues: list[CueStart] = []  # every item that took effect, in order
        self.items: list[object] = []  # the source's items, as given, in the same order
        self.hooks = hooks
        self.done = False
        self._feed: ItemFeed[tuple[object, Cue]] = ItemFeed(source)
        self._pending: Future[Pulled[tuple[object, Cue]] | _End] | None = None
        self._requested = 0  # items requested so far
        self._lock = threading.Lock()  # one renderer at a time (player worker or caller)
        self._started = False
        self._sounded = False
        # Notes are composed up to a bar ahead of the audio: keep the ones not yet sounded
        # (and, while collecting, all since the collect began) so each collect() gets
        # exactly the notes whose onsets fall inside its audio.
        self._notes: list[NoteEvent] = []
        self._collect_from: int | None = None

    @property
    def position(self) -> int:
        return self.timeline.position

    # --- audio ---------------------------------------------------------------------------
    def render(self, n: int, *, wait: bool) -> Samples:
        """The next ``n`` samples; fewer (possibly none) only when the performance ended."""
        with self._lock:
            if not self._started:
                self._started = True
                emit_stream(self.hooks, "stream_start")
            parts: list[Samples] = []
            remaining = n
            try:
                while remaining > 0 and not self.done:
                    step = self._next_step(remaining, wait)
                    if step:
                        parts.append(self.timeline.render(step))
                        remaining -= step
                        if not self._sounded:
                            self._sounded = True
                            emit_stream(self.hooks, "first_audio_chunk")
            except Exception as exc:
                emit_stream(self.hooks, "error", error=exc)
                raise
            finally:
                self._keep_notes()
            if not parts:
                return np.zeros(0, dtype=np.float32)
            return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def take(self, limit: int | None, chunk: int | None = None) -> Iterator[Samples]:
        """Chunks in audio time until ``limit`` samples (None: until the source ends)."""
        size = chunk or self.args.chunk_samples
        left = limit
        while left is None or left > 0:
            want = size if left is None else min(size, left)
            block = self.render(want, wait=True)
            if len(block):
                yield block
            if left is not None:
                left -= len(block)
            if len(block) < want:
                return

    def collect(self, limit: int | None = None, expected: int | None = None) -> Audio:
        """The next ``limit`` samples (None: to the end) as Audio with notes and StreamInfo.

        Notes are those whose onset falls inside the returned audio, on its own clock.
        ``expected`` (the length, when the caller knows it) lets the samples be written
        into one preallocated array instead of being joined at the end: an hour-long
        stream then needs its size in memory once, not twice.
        """
        start = self.position
        self._collect_from = start
        try:
            samples = self._gather(limit, expected)
        finally:
            self._collect_from = None
        stop = start + len(samples)
        inside = [
            replace(e, start_sample=e.start_sample - start) if start else e
            for e in self._notes
            if start <= e.start_sample < stop
        ]
        self._notes = [e for e in self._notes if e.start_sample >= stop]
        return Audio(
            samples,
            self.args.sample_rate,
            notes=inside,
            seed=self.args.seed,
            tempo_bpm=self.first_bpm(),
            metadata=self.info(start, stop),
        )

    def _gather(self, limit: int | None, expected: int | None) -> Samples:
        if expected is None:
            parts = list(self.take(limit))
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        out = np.empty(expected, dtype=np.float32)
        filled = 0
        for block in self.take(limit):
            if filled + len(block) > len(out):  # longer than expected (a late end): grow
                out = np.concatenate([out[:filled], np.empty(len(block), np.float32)])
            out[filled : filled + len(block)] = block
            filled += len(block)
        return out if filled == len(out) else out[:filled].copy()

    def _keep_notes(self) -> None:
        keep_from = self.position if self._collect_from is None else self._collect_from
        fresh = self.timeline.events()
        if fresh or self._notes:
            self._notes = [e for e in (*self._notes, *fresh) if e.start_sample >= keep_from]

    def first_bpm(self) -> float | None:
        if not self.timeline.scheduled:
            return None
        return to_synth_params(self.timeline.scheduled[0][1].config).clamped().bpm

    def info(self, start: int = 0, stop: int | None = None) -> StreamInfo:
        """StreamInfo for the items that start in ``[start, stop)``."""
        chosen = [
            (i, c)
            for i, c in enumerate(self.cues)
            if c.sample >= start and (stop is None or c.sample < stop)
        ]
        return StreamInfo(
            items=tuple(self.items[i] for i, _ in chosen),
            seed=self.args.seed,
            duration=self.args.duration,
            transition=self.args.transition,
            chunk_seconds=self.args.chunk_seconds,
            boundaries=tuple(c.sample - start for _, c in chosen),
            results=tuple(c.cue.result for _, c in chosen),
        )

    def close(self) -> None:
        """Stop the source (its generator and thread); the performance ends."""
        if not self.done:
            self.done = True
            emit_stream(self.hooks, "stream_end")
        self._feed.close()

    # --- scheduling ----------------------------------------------------------------------
    def _next_step(self, remaining: int, wait: bool) -> int:
        """Samples to render before the next decision point (0: the schedule changed)."""
        tl = self.timeline
        if tl.final_end is not None:
            if tl.position >= tl.final_end:
                self.close()
                return 0
            return min(remaining, tl.final_end - tl.position)
        if not tl.scheduled:  # nothing can sound before the first item: always wait for it
            self._request()
            self._take_result(self._result(wait=True))
            return 0
        last_start = tl.scheduled[-1][0]
        need = tl.end - tl.fade_samples  # by here we must know whether another item follows
        if self._pending is None and tl.position >= min(last_start, need):
            self._request()
        if tl.position >= need:
            got = self._result(wait)
            if got is None:  # real time, the source is late: the current config plays on
                return min(remaining, LATE_POLL)
            self._take_result(got)
            return 0
        stops = [need]
        if self._pending is None:
            stops.append(last_start)
        return min(remaining, min(stops) - tl.position)

    def _request(self) -> None:
        if self._pending is not None:
            return
        index = self._requested
        self._requested += 1
        tl, args, hooks = self.timeline, self.args, self.hooks

        def resolve(item: object) -> tuple[object, Cue]:
            emit_stream(hooks, "item_resolve_start", index=index, item=item)
            try:
                cue = tl.resolve(item, args.duration, args.transition)
            except Exception as exc:
                emit_stream(hooks, "item_resolve_error", index=index, item=item, error=exc)
                raise
            emit_stream(hooks, "item_resolve_success", index=index, item=item)
            return item, cue

        self._pending = self._feed.request(resolve)

    def _result(self, wait: bool) -> Pulled[tuple[object, Cue]] | _End | None:
        """The pending item if ready (or waited for); errors end the stream and propagate."""
        fut = self._pending
        if fut is None or (not wait and not fut.done()):
            return None
        try:
            return fut.result()
        except BaseException:
            self.close()
            raise

    def _take_result(self, got: Pulled[tuple[object, Cue]] | _End | None) -> None:
        self._pending = None
        tl = self.timeline
        if got is None or got is END:
            tl.finish()
            return
        assert isinstance(got, Pulled)
        item, cue = got.value
        late = tl.end < tl.position and bool(tl.scheduled)
        start = tl.push(cue)
        index = len(self.cues)
        self.cues.append(CueStart(index, start, got.yielded_at, late, tl.scheduled[-1][1]))
        self.items.append(item)
        if index == 0:
            emit_stream(self.hooks, "first_config_ready", index=0, item=item)
