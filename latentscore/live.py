"""LiveStream: music driven by a generator that decides what comes next while it plays.

The user's source (sync or async generator of items: MusicConfig, MusicConfigUpdate, dict
updates, vibe strings, Streamable) is consumed lazily through an
:class:`~latentscore.item_feed.ItemFeed`: when item *k* starts sounding, item *k+1* is
requested and resolved in the background. At item *k*'s end (an exact sample) the next cue
is applied to a :class:`~synth.performer.Performer` (glide or crossfade, see
:mod:`latentscore.items`).

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
import os
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

from latentscore.audio import Audio
from latentscore.audio_file import write_audio_chunks
from latentscore.config import MusicConfig
from latentscore.errors import InvalidConfigError
from latentscore.item_feed import END, ItemFeed, Pulled, _End
from latentscore.items import Cue, perform_cue, resolve_item
from latentscore.models.base import DEFAULT_MODEL, ModelSpec
from latentscore.params import to_synth_params
from latentscore.player import OutputBackend, PlaybackStats, Player, play_stream
from latentscore.render import resolve_seed, validate_model
from synth.events import NoteEvent
from synth.params import SAMPLE_RATE
from synth.performer import Performer

DEFAULT_ITEM_SECONDS = 60.0
END_FADE_SECONDS = 0.05
LATE_POLL = 1024  # samples rendered between checks for a late item (23 ms)

Samples = NDArray[np.float32]


@dataclass(frozen=True)
class CueStart:
    """Where an item took effect: ``sample`` on the stream's timeline.

    ``yielded_at`` is the ``time.monotonic()`` at which the generator produced the item and
    ``late`` says the item arrived after its scheduled boundary (real-time play only).
    """

    index: int
    sample: int
    yielded_at: float
    late: bool
    cue: Cue


def _positive(name: str, value: float, allow_zero: bool = False) -> float:
    ok = isinstance(value, int | float) and np.isfinite(value)
    ok = ok and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidConfigError(f"{name}: expected seconds {bound}, got {value!r}", field=name)
    return float(value)


class LiveStream:
    """A performance driven by a generator; one timeline that every method continues.

    Iterating it (or :meth:`chunks`) yields float32 chunks of ``chunk_seconds``. Use it as a
    context manager (or call :meth:`close`) to stop the generator and its thread.

    Vibe strings are answered by ``model`` (default ``"fast"``; checked when the stream is
    made) in the feed's background thread, never on the audio path; each
    :class:`CueStart` in :attr:`cues` keeps the model's answer as ``cue.result``.
    """

    def __init__(
        self,
        source: Any,
        *,
        chunk_seconds: float = 1.0,
        transition_seconds: float = 3.0,
        duration: float = DEFAULT_ITEM_SECONDS,
        seed: int | None = None,
        sample_rate: int = SAMPLE_RATE,
        model: ModelSpec = DEFAULT_MODEL,
    ) -> None:
        self.chunk_seconds = _positive("chunk_seconds", chunk_seconds)
        self.transition_seconds = _positive("transition_seconds", transition_seconds, True)
        self.item_seconds = _positive("duration", duration)
        self.seed = resolve_seed(seed)
        self.model = validate_model(model)
        self.sample_rate = sample_rate
        self.chunk_samples = max(1, round(self.chunk_seconds * sample_rate))
        self.cues: list[CueStart] = []  # every item that took effect, in order
        self.position = 0  # samples rendered so far
        self._feed: ItemFeed[Cue] = ItemFeed(source)
        self._performer: Performer | None = None
        self._current: MusicConfig | None = None
        self._boundary = 0  # sample where the current item's duration ends
        self._pending: Future[Pulled[Cue] | _End] | None = None
        self._final_end: int | None = None  # last sample + 1 once the generator has ended
        self._fade_len = max(1, round(END_FADE_SECONDS * sample_rate))
        self._done = False
        self._lock = threading.Lock()  # one renderer at a time (player worker or caller)
        self._notes: list[NoteEvent] | None = None

    # --- public ------------------------------------------------------------------------
    @property
    def ended(self) -> bool:
        return self._done

    def chunks(self) -> Iterator[Samples]:
        """Float32 chunks of ``chunk_seconds`` (the last may be shorter), in audio time."""
        while True:
            block = self._render(self.chunk_samples, wait=True)
            if len(block):
                yield block
            if len(block) < self.chunk_samples:
                return

    __iter__ = chunks

    async def achunks(self) -> AsyncIterator[Samples]:
        """Like :meth:`chunks`, but each chunk is rendered off the event loop (a thread)."""
        while True:
            block = await asyncio.to_thread(self._render, self.chunk_samples, wait=True)
            if len(block):
                yield block
            if len(block) < self.chunk_samples:
                return

    def collect(self, seconds: float | None = None) -> Audio:
        """Render the next ``seconds`` (default: until the generator's items end) as Audio.

        With an endless generator, pass ``seconds``.
        """
        limit = None if seconds is None else round(_positive("seconds", seconds) * self.sample_rate)
        start = self.position
        self._notes = []
        try:
            parts = list(self._take(limit))
            notes = [replace(ev, start_sample=ev.start_sample - start) for ev in self._notes]
        finally:
            self._notes = None
        samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        return Audio(samples, self.sample_rate, notes=notes, seed=self.seed)

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
        limit = None if seconds is None else round(_positive("seconds", seconds) * self.sample_rate)
        return write_audio_chunks(
            path,
            self._take(limit),
            self.sample_rate,
            subtype=subtype,
            owner="LiveStream.save",
            midi_hint=" (MIDI: collect() then .save('x.mid'))",
        )

    @overload
    def play(
        self,
        *,
        device: int | str | None = ...,
        blocking: Literal[True] = ...,
        backend: OutputBackend | None = ...,
    ) -> PlaybackStats: ...

    @overload
    def play(
        self,
        *,
        device: int | str | None = ...,
        blocking: Literal[False],
        backend: OutputBackend | None = ...,
    ) -> Player: ...

    def play(
        self,
        *,
        device: int | str | None = None,
        blocking: bool = True,
        backend: OutputBackend | None = None,
    ) -> PlaybackStats | Player:
        """Play in real time until the generator's items end (see :func:`play_stream`).

        The audio never waits for the generator: a late item takes effect when it arrives.
        Ctrl-C fades out, closes the device and the generator, and re-raises.
        Blocking returns :class:`PlaybackStats` (``underruns``); non-blocking the
        :class:`Player`.
        """

        def render(n: int) -> Samples:
            return self._render(n, wait=False)

        if not blocking:
            return play_stream(render, device=device, blocking=False, backend=backend)
        try:
            return play_stream(render, device=device, backend=backend)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the generator and its background thread; the stream ends."""
        self._done = True
        self._feed.close()

    def __enter__(self) -> LiveStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- rendering ---------------------------------------------------------------------
    def _take(self, limit: int | None) -> Iterator[Samples]:
        left = limit
        while left is None or left > 0:
            want = self.chunk_samples if left is None else min(self.chunk_samples, left)
            block = self._render(want, wait=True)
            if len(block):
                yield block
            if left is not None:
                left -= len(block)
            if len(block) < want:
                return

    def _resolver(self, current: MusicConfig | None) -> Any:
        def resolve(item: Any) -> Cue:
            return resolve_item(
                item, current, self.item_seconds, self.transition_seconds, self.model
            )

        return resolve

    def _request_next(self) -> None:
        self._pending = self._feed.request(self._resolver(self._current))

    def _apply(self, pulled: Pulled[Cue], late: bool) -> None:
        cue = pulled.value
        if self._performer is None:
            self._performer = Performer(to_synth_params(cue.config), self.seed, self.sample_rate)
        else:
            perform_cue(self._performer, cue)
        self.cues.append(CueStart(len(self.cues), self.position, pulled.yielded_at, late, cue))
        self._current = cue.config
        self._boundary = self.position + max(1, round(cue.duration * self.sample_rate))
        self._request_next()

    def _result(self, wait: bool) -> Pulled[Cue] | _End | None:
        """The pending item if ready (or waited for); errors end the stream and propagate."""
        fut = self._pending
        if fut is None or (not wait and not fut.done()):
            return None
        try:
            return fut.result()
        except BaseException:
            self.close()
            raise

    def _render(self, n: int, *, wait: bool) -> Samples:
        """The next ``n`` samples; fewer (possibly none) only when the stream has ended."""
        with self._lock:
            parts: list[Samples] = []
            remaining = n
            while remaining > 0 and not self._done:
                step = self._next_step(remaining, wait)
                if step == 0:
                    continue
                assert self._performer is not None
                block = self._performer.render(step)
                if self._notes is not None:
                    self._notes.extend(self._performer.drain_events())
                else:
                    self._performer.drain_events()
                if self._final_end is not None:
                    self._fade_tail(block)
                parts.append(block)
                self.position += step
                remaining -= step
            if not parts:
                return np.zeros(0, dtype=np.float32)
            return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _next_step(self, remaining: int, wait: bool) -> int:
        """How many samples to render before the next decision point (0: state changed)."""
        if self._performer is None:  # the first item: nothing to play until it arrives
            if self._pending is None:
                self._request_next()
            first = self._result(wait=True)
            if isinstance(first, Pulled):
                self._apply(first, late=False)
            else:  # an empty generator: an empty stream
                self.close()
            return 0
        pos = self.position
        if self._final_end is None:
            fade_point = self._boundary - self._fade_len
            # near the end of an item, learn whether the generator has ended
            pending = self._result(wait=wait and pos >= fade_point) if pos >= fade_point else None
            if pending is END:
                self._final_end = max(self._boundary, pos + self._fade_len)
        if self._final_end is not None:
            if pos >= self._final_end:
                self._done = True
                self.close()
                return 0
            return min(remaining, self._final_end - pos)
        if pos >= self._boundary:
            ready = self._result(wait)
            if isinstance(ready, Pulled):
                self._apply(ready, late=pos > self._boundary)
                return 0
            return min(remaining, LATE_POLL)  # keep playing the current config
        fade_point = self._boundary - self._fade_len
        return min(remaining, (fade_point if pos < fade_point else self._boundary) - pos)

    def _fade_tail(self, block: Samples) -> None:
        assert self._final_end is not None
        start = self.position
        left = (self._final_end - np.arange(start, start + len(block))) / self._fade_len
        if left.min() < 1.0:
            gain = np.sin(np.clip(left, 0.0, 1.0) * (np.pi / 2)).astype(np.float32)
            block *= gain
