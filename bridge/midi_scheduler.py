"""TimedSender: MIDI messages sent when the audio clock reaches their output sample.

Notes and clock ticks are known before they sound: the render thread works ``--buffer``
seconds (0.4 s) ahead of the speakers, and the score schedules notes up to a bar ahead. So
every outgoing message is stamped with the output sample it belongs to and queued here; one
thread sleeps until the :class:`~bridge.performance.AudioClock` says that sample is being
heard, and sends it. The wait is computed from the clock's latest device-callback mark each
time (never accumulated), so device clock drift is followed, not integrated.

``lookahead`` (seconds, default 0) sends everything that much early, to compensate a
receiver's own latency (a DAW monitoring through a plug-in, a hardware synth over DIN).

Items are callables rather than bare messages, so a queued action can decide at send time
(a note-off checks that its note is still the one sounding; a cut releases what sounds).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("bridge.midi")

SPIN_SECONDS = 0.0005  # below this, yield instead of sleeping (sleep overshoots ~60 us)
REPLAN_SECONDS = 0.01  # longest sleep before re-reading the audio clock


class SampleClock(Protocol):
    sample_rate: int

    def now_sample(self) -> float: ...


Action = Callable[[], None]


class TimedSender:
    """A thread running queued actions at their output samples (see the module docstring)."""

    def __init__(self, clock: SampleClock, lookahead: float = 0.0, name: str = "bridge-midi-out"):
        self.clock = clock
        self.lookahead = lookahead
        self._heap: list[tuple[int, int, Action]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.errors: deque[float] = deque(maxlen=100_000)  # send time minus due time (seconds)
        self.record_errors = False

    def start(self) -> None:
        self._thread.start()

    def at(self, sample: int, action: Action) -> int:
        """Queue ``action`` for output sample ``sample``; returns its sequence number."""
        seq = next(self._seq)
        with self._cond:
            heapq.heappush(self._heap, (sample, seq, action))
            if self._heap[0][1] == seq:  # new earliest: wake the sender to re-plan its sleep
                self._cond.notify()
        return seq

    def drop(self, keep: Callable[[int, int], bool]) -> int:
        """Remove queued items for which ``keep(sample, seq)`` is false; returns how many."""
        with self._cond:
            before = len(self._heap)
            self._heap = [item for item in self._heap if keep(item[0], item[1])]
            heapq.heapify(self._heap)
            self._cond.notify()
            return before - len(self._heap)

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def close(self, timeout: float = 2.0) -> None:
        """Stop the thread; queued items are discarded (callers flush what must be sent)."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _seconds_until(self, sample: int) -> float:
        return (sample - self.clock.now_sample()) / self.clock.sample_rate - self.lookahead

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if not self._heap:
                        self._cond.wait()
                        continue
                    wait = self._seconds_until(self._heap[0][0])
                    if wait <= 0:
                        break
                    if wait > SPIN_SECONDS:
                        # wake a little early and finish with a short spin: Condition.wait
                        # and the scheduler overshoot by tens of microseconds
                        # (and never longer than REPLAN_SECONDS: the clock may have
                        # started or jumped since this wait was computed)
                        self._cond.wait(min(REPLAN_SECONDS, max(0.0, wait - SPIN_SECONDS)))
                    else:
                        self._cond.release()
                        try:
                            time.sleep(0)
                        finally:
                            self._cond.acquire()
                if self._closed:
                    return
                sample, _, action = heapq.heappop(self._heap)
            if self.record_errors:
                self.errors.append(-self._seconds_until(sample))
            try:
                action()
            except Exception:  # one bad send must not stop the stream
                log.exception("MIDI output action failed")
