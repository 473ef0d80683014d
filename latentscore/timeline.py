"""Timeline: a sequence of cues on one continuous performance, rendered in chunks of any size.

Streams (:class:`~latentscore.stream.AudioStream`), async streams and live generators all do
the same thing: take items one after another, start each at the sample where the previous
one ends, and pull audio in chunks. A :class:`Timeline` is that shared driver. It owns a
:class:`~synth.performer.Performer`, keeps a schedule of :class:`~latentscore.items.Cue`\\ s,
and when asked for ``n`` samples it splits the request at every scheduled boundary, so each
glide or crossfade starts at the exact sample of its item boundary. Where a boundary falls
relative to the caller's chunks therefore never changes the music: the same items and seed
give the same samples whatever chunk size pulls them.

Item boundaries are kept in seconds and rounded once per boundary, so a stream of items of
``d1, d2, ...`` seconds ends at ``round((d1 + d2 + ...) * sample_rate)`` with no drift from
per-item rounding.

Two rules serve live sources, and hold for lists too so that a list and a generator of the
same items sound the same: an item pushed after the schedule ran out starts *now* (a late
``yield`` never reaches into the past), and :meth:`Timeline.finish` ends the performance with
a short equal-power fade (``END_FADE_SECONDS``) instead of a click.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from latentscore.config import MusicConfig
from latentscore.items import Cue, perform_cue, resolve_item
from latentscore.models.base import DEFAULT_MODEL, ModelSpec
from latentscore.params import to_synth_params
from synth.events import NoteEvent
from synth.params import SAMPLE_RATE
from synth.performer import Performer

END_FADE_SECONDS = 0.05


class Timeline:
    """Cues scheduled back to back on one performer; ``render(n)`` pulls the next samples.

    Usage::

        tl = Timeline(seed=7)
        tl.push_item(MusicConfig(tempo="slow"), duration=30, transition=5)
        tl.push_item(MusicConfigUpdate(brightness=Step(1)), duration=30, transition=5)
        while tl.position < tl.end:
            chunk = tl.render(min(44100, tl.end - tl.position))
        notes = tl.events()

    A cue starts where the previously pushed one ends, or *now* if the schedule has already
    run out (a live generator that yields late: the last item simply kept playing). Before
    the first cue the timeline renders silence. Rendering past :attr:`end` keeps the last
    config playing.
    """

    def __init__(
        self, seed: int, sample_rate: int = SAMPLE_RATE, *, model: ModelSpec = DEFAULT_MODEL
    ) -> None:
        self.seed = int(seed)
        self.sample_rate = sample_rate
        self.model = model  # answers vibe-text items (see latentscore.vibe)
        self.position = 0
        self.performer: Performer | None = None
        self._origin = 0  # timeline sample where the performer's sample 0 sits
        self._end_seconds = 0.0
        self._pending: deque[tuple[int, Cue]] = deque()
        self._last_config: MusicConfig | None = None
        self._events: list[NoteEvent] = []
        self.scheduled: list[tuple[int, Cue]] = []  # (start sample, cue) of every push
        self.fade_samples = max(1, round(END_FADE_SECONDS * sample_rate))
        self.final_end: int | None = None  # set by finish(): the last sample + 1
        self._fade_start = 0

    # --- schedule ----------------------------------------------------------------------
    @property
    def end(self) -> int:
        """Sample where the last pushed item ends (0 before any push)."""
        return round(self._end_seconds * self.sample_rate)

    @property
    def config(self) -> MusicConfig | None:
        """The config of the most recently pushed cue (what later updates apply to)."""
        return self._last_config

    def wants_item(self, horizon: int) -> bool:
        """True when the schedule ends before ``position + horizon``.

        A driver asks this before rendering a chunk of ``horizon`` samples: it pulls the next
        item only when the chunk would reach past the last scheduled one, which is what keeps
        a generator source consumed lazily, in step with the audio. The end fade counts as
        part of the chunk: whether another item follows must be known before the fade would
        start. Always False once :meth:`finish` was called.
        """
        return self.final_end is None and self.end - self.fade_samples < self.position + horizon

    def finish(self) -> int:
        """No more items will come: end with a fade; returns the final sample count.

        Called on time (the source ended before the last item's fade point), the fade covers
        the last item's final ``END_FADE_SECONDS`` and the performance ends exactly where the
        items' durations put it. Called late (real-time play, the source ended after the
        schedule ran out), the fade starts now. Rendering past the end gives silence.
        """
        if self.final_end is None:
            if not self.scheduled:  # nothing was ever played: end here, silently
                self._fade_start = self.final_end = self.position
            elif self.position >= self.end:
                self._fade_start = self.position
                self.final_end = self.position + self.fade_samples
            else:
                self.final_end = self.end
                self._fade_start = max(self.position, self.end - self.fade_samples)
        return self.final_end

    def push(self, cue: Cue) -> int:
        """Schedule ``cue`` after the last pushed one; returns its start sample.

        The transition is clamped to the item's duration, so a glide or crossfade always
        completes inside its own item.
        """
        start_seconds = self._end_seconds
        if self.end < self.position:  # the schedule ran dry: start now, not in the past
            start_seconds = self.position / self.sample_rate
        start = round(start_seconds * self.sample_rate)
        cue = replace(cue, transition=min(cue.transition, cue.duration))
        self._pending.append((start, cue))
        self._end_seconds = start_seconds + cue.duration
        self._last_config = cue.config
        self.scheduled.append((start, cue))
        return start

    def push_item(self, item: object, duration: float, transition: float) -> Cue:
        """Resolve a stream item against the last pushed config and schedule it.

        ``duration`` and ``transition`` are the defaults a :class:`Streamable` may override.
        Vibe text is answered by the timeline's ``model`` (a model call: drivers run this
        off the event loop). May raise :class:`~latentscore.errors.InvalidConfigError` (empty
        text, unknown item type or model) or
        :class:`~latentscore.errors.ModelNotAvailableError`.
        """
        cue = resolve_item(item, self._last_config, duration, transition, self.model)
        self.push(cue)
        return cue

    def resolve(self, item: object, duration: float, transition: float) -> Cue:
        """:func:`resolve_item` against the last pushed config, without scheduling it."""
        return resolve_item(item, self._last_config, duration, transition, self.model)

    # --- audio -------------------------------------------------------------------------
    def render(self, n: int) -> NDArray[np.float32]:
        """The next ``n`` samples; cues due inside them start at their exact sample."""
        if n < 0:
            raise ValueError("n must be >= 0")
        out = np.empty(n, dtype=np.float32)
        filled = 0
        while filled < n:
            self._apply_due_cues()
            next_start = self._pending[0][0] if self._pending else math.inf
            take = int(min(n - filled, next_start - self.position))
            out[filled : filled + take] = self._render_piece(take)
            filled += take
        return out

    def events(self) -> list[NoteEvent]:
        """Note events scheduled since the last call, with timeline ``start_sample``\\ s.

        Engines schedule notes up to about a bar ahead, so some events may start after the
        samples rendered so far (or after the end of a finished stream).
        """
        events, self._events = self._events, []
        return events

    def _apply_due_cues(self) -> None:
        while self._pending and self._pending[0][0] <= self.position:
            _, cue = self._pending.popleft()
            if self.performer is None:
                params = to_synth_params(cue.config)
                self.performer = Performer(params, seed=self.seed, sample_rate=self.sample_rate)
                self._origin = self.position
            else:
                perform_cue(self.performer, cue)

    def _render_piece(self, n: int) -> NDArray[np.float32]:
        if self.performer is None:
            block = np.zeros(n, dtype=np.float32)
        else:
            block = self.performer.render(n)
            offset = self._origin
            self._events.extend(
                replace(ev, start_sample=ev.start_sample + offset) if offset else ev
                for ev in self.performer.drain_events()
            )
        if self.final_end is not None and self.position + n > self._fade_start:
            self._fade(block)
        self.position += n
        return block

    def _fade(self, block: NDArray[np.float32]) -> None:
        assert self.final_end is not None
        length = max(1, self.final_end - self._fade_start)
        idx = np.arange(self.position, self.position + len(block))
        left = np.clip((self.final_end - idx) / length, 0.0, 1.0)
        block *= np.sin(left * (np.pi / 2)).astype(np.float32)
