"""LivePerformance: the daemon's one engine, rendered ahead of an audio output and steered live.

Threads and why:

* **render worker**: owns the :class:`~synth.performer.Performer`. It sleeps until the
  device has made room in the ring buffer *or* a control arrives, so a control is handed to
  the engine within microseconds of being posted (inputs never touch the performer). It
  renders in pieces that end exactly at the next scheduled change, so a bundle's timetag
  lands on its sample.
* **device callback** (PortAudio, or :class:`~latentscore.player.NullOutput` for
  ``--no-audio`` and tests): only copies from the ring and marks the audio clock.
* **emitter**: notes, beats, bars and levels are computed when rendered but *sent when heard*
  (when the device clock reaches their sample), so visuals stay in sync with the sound.

The audio clock counts samples handed to the device ("output samples"); it keeps running
while the music is stopped (silence is rendered), so timetags always map to one timeline.

Timing: a change reaches the ears after the render-ahead buffer (``buffer_seconds``).
Crossfades, volume and play/stop start on the exact sample; continuous controls glide from
the engine's next 8192-sample quantum (the engine's own control rate).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from bridge.osc_codec import OscValue
from latentscore.player import FadeOut, OutputBackend, OutputHandle, SampleRing
from synth.conductor import BEATS_PER_BAR
from synth.events import NoteEvent
from synth.params import SAMPLE_RATE, SynthParams
from synth.performer import Performer

log = logging.getLogger("bridge.performance")

BLOCK_SIZE = 256  # device callback size: 5.8 ms at 44.1 kHz
BUFFER_SECONDS = 0.4
RENDER_BLOCK = 2048  # most samples rendered between two looks at the control queue
LEVEL_HZ = 30.0
RUN_FADE_SECONDS = 0.05  # play/stop and shutdown fades
VOLUME_SECONDS = 0.02  # volume changes ramp this fast (no zipper noise)

Samples = NDArray[np.float32]
Emit = Callable[[str, tuple[OscValue, ...]], None]


# --- engine operations ------------------------------------------------------------------
@dataclass(frozen=True)
class Glide:
    """Move continuous controls to ``params`` (``seconds`` 0: the engine's knob smoothing)."""

    params: SynthParams
    seconds: float


@dataclass(frozen=True)
class Crossfade:
    """Crossfade to a fresh engine on ``params``; ``seed`` reseeds the performance first."""

    params: SynthParams
    seconds: float
    seed: int | None = None
    restart_beats: bool = False  # the new engine's bar 1 starts here (MIDI Start)


@dataclass(frozen=True)
class SetVolume:
    volume: float


@dataclass(frozen=True)
class SetRunning:
    running: bool


EngineOp = Glide | Crossfade | SetVolume | SetRunning
ScheduledAction = Callable[[], Sequence[EngineOp]]
TransportEvent = Literal["play", "stop", "transition"]


@dataclass(frozen=True)
class RenderedBlock:
    """What one rendered piece of output holds, for listeners such as MIDI out.

    ``notes`` pairs each event with its output sample; ``beats`` is the performer's beat
    position at the first and one-past-last sample (None while paused: no beats advance).
    """

    start: int
    length: int
    notes: tuple[tuple[int, NoteEvent], ...]
    beats: tuple[float, float] | None
    seconds_per_beat: float


class PerformanceListener(Protocol):
    """Told, on the render thread, what was rendered and when the transport changes.

    Called ``buffer_seconds`` before the audio is heard, so a listener can schedule against
    the audio clock; it must return quickly (queue work, never block).
    """

    def rendered(self, block: RenderedBlock) -> None: ...

    def transport(self, sample: int, event: TransportEvent) -> None: ...


class GainRamp:
    """A gain that moves linearly toward its target at a fixed rate, per sample."""

    def __init__(self, value: float, seconds: float, sample_rate: int) -> None:
        self.value = self.target = float(value)
        self.rate = 1.0 / max(1.0, seconds * sample_rate)

    def apply(self, block: Samples) -> None:
        if self.value == self.target:
            if self.value != 1.0:
                block *= np.float32(self.value)
            return
        distance = self.target - self.value
        k = min(len(block), math.ceil(abs(distance) / self.rate))
        ramp = self.value + math.copysign(self.rate, distance) * np.arange(1, k + 1)
        ramp = np.clip(ramp, min(self.value, self.target), max(self.value, self.target))
        block[:k] *= ramp.astype(np.float32)
        self.value = self.target if k * self.rate >= abs(distance) else float(ramp[-1])
        if k < len(block) and self.value != 1.0:
            block[k:] *= np.float32(self.value)


class AudioClock:
    """Which output sample is being heard now, from the device callback's last mark."""

    def __init__(self, sample_rate: int, block_size: int) -> None:
        self.sample_rate = sample_rate
        self.block_size = block_size
        self._mark: tuple[float, int] | None = None  # (monotonic time, samples played)

    def mark(self, played: int) -> None:
        self._mark = (time.monotonic(), played)  # one tuple store: atomic for readers

    def now_sample(self) -> float:
        mark = self._mark
        if mark is None:
            return 0.0
        at, played = mark
        ahead = min((time.monotonic() - at) * self.sample_rate, float(self.block_size))
        return played + max(0.0, ahead)

    def sample_at_unix(self, unix_time: float) -> int:
        """The output sample heard at a Unix time (a bundle's timetag)."""
        return round(self.now_sample() + (unix_time - time.time()) * self.sample_rate)


@dataclass
class PerformanceStats:
    underruns: int = 0
    missing_samples: int = 0
    played_samples: int = 0
    rendered_samples: int = 0


class LivePerformance:
    """One performer rendered into a ring for an output device; see the module docstring."""

    def __init__(
        self,
        params: SynthParams,
        seed: int,
        *,
        backend: OutputBackend,
        emit: Emit,
        device: int | str | None = None,
        sample_rate: int = SAMPLE_RATE,
        block_size: int = BLOCK_SIZE,
        buffer_seconds: float = BUFFER_SECONDS,
        volume: float = 1.0,
        playing: bool = True,
    ) -> None:
        self.performer = Performer(params, seed, sample_rate)
        self.sample_rate = sample_rate
        self.block_size = block_size
        self.ring = SampleRing(max(RENDER_BLOCK * 2, round(buffer_seconds * sample_rate)))
        self.clock = AudioClock(sample_rate, block_size)
        self.stats = PerformanceStats()
        self.applied: deque[tuple[int, int]] = deque(maxlen=1024)  # (target, applied) samples
        self.executed: deque[tuple[float, EngineOp]] = deque(maxlen=4096)  # (monotonic, op)
        self._backend, self._device, self._emit = backend, device, emit
        self._cond = self.ring.space  # one condition: "room in the ring" or "work posted"
        self._ops: deque[EngineOp] = deque()
        self._scheduled: list[tuple[int, int, ScheduledAction]] = []
        self._seq = itertools.count()
        self._written = 0  # output samples written into the ring
        self._volume = GainRamp(volume, VOLUME_SECONDS, sample_rate)
        self._run = GainRamp(1.0 if playing else 0.0, RUN_FADE_SECONDS, sample_rate)
        self._advancing = playing  # the performer is being rendered (not paused)
        self._last_beat = -1
        self._level_acc: list[Samples] = []
        self._level_len = round(sample_rate / LEVEL_HZ)
        self._level_fill = 0
        self._timed: list[tuple[int, int, str, tuple[OscValue, ...]]] = []
        self._timed_lock = threading.Lock()
        self._closing = threading.Event()
        self._finished = threading.Event()
        self._fade = FadeOut(RUN_FADE_SECONDS, sample_rate)  # the device's shutdown fade
        self._stream: OutputHandle | None = None
        self.listeners: list[PerformanceListener] = []  # add before start()
        self._worker = threading.Thread(target=self._work, name="bridge-render", daemon=True)
        self._emitter = threading.Thread(target=self._emit_loop, name="bridge-emit", daemon=True)
        self.error: BaseException | None = None

    # --- control (any thread) ------------------------------------------------------------
    def submit(self, ops: Sequence[EngineOp]) -> None:
        """Hand operations to the engine as soon as possible (in order)."""
        with self._cond:
            self._ops.extend(ops)
            self._cond.notify_all()

    def schedule(self, sample: int, action: ScheduledAction) -> None:
        """Run ``action`` in the render thread when the output reaches ``sample``.

        ``action`` returns the engine operations to perform at that exact sample. A sample
        already rendered runs at the next opportunity (as soon as possible).
        """
        with self._cond:
            heapq.heappush(self._scheduled, (sample, next(self._seq), action))
            self._cond.notify_all()

    @property
    def written(self) -> int:
        """Output samples rendered so far (the render-ahead edge of the timeline)."""
        return self._written

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._render_some(until=self.ring.capacity)  # the first callback must find audio
        self._stream = self._backend.open(
            sample_rate=self.sample_rate,
            block_size=self.block_size,
            callback=self._callback,
            finished=self._finished.set,
            device=self._device,
        )
        self._worker.start()
        self._emitter.start()
        self._stream.start()

    def close(self, timeout: float = 2.0) -> None:
        """Fade out at the device (50 ms), then stop the output and the threads."""
        self._fade.start()
        if self._stream is not None:
            self._finished.wait(timeout)
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        if self._stream is not None:
            for action in (self._stream.stop, self._stream.close):
                try:
                    action()
                except Exception:  # a device vanishing at exit must not hide the shutdown
                    log.debug("closing the output failed", exc_info=True)
        for thread in (self._worker, self._emitter):
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(timeout)

    # --- device thread -------------------------------------------------------------------
    def _callback(self, out: Samples) -> bool:
        n = len(out)
        got = self.ring.read_into(out)
        if got < n:
            out[got:] = 0.0
            if not self._fade.started and not self._closing.is_set():
                self.stats.underruns += 1
                self.stats.missing_samples += n - got
        self.stats.played_samples += n
        self.clock.mark(self.ring.total_read)
        return self._fade.apply(out)

    # --- render thread -------------------------------------------------------------------
    def _has_work(self) -> bool:
        due = bool(self._scheduled) and self._scheduled[0][0] <= self._written
        return bool(self._ops) or due or self.ring.free >= RENDER_BLOCK or self._closing.is_set()

    def _work(self) -> None:
        try:
            while not self._closing.is_set():
                with self._cond:
                    while not self._has_work():
                        self._cond.wait(0.1)
                self._render_some(until=self.ring.capacity)
        except BaseException as exc:  # surfaced by the daemon; the output fades out
            log.exception("render thread failed")
            self.error = exc
            self._fade.start()

    def _take_ops(self) -> list[EngineOp]:
        with self._cond:
            ops = list(self._ops)
            self._ops.clear()
        return ops

    def _pop_due(self) -> ScheduledAction | None:
        with self._cond:
            if self._scheduled and self._scheduled[0][0] <= self._written:
                target, _, action = heapq.heappop(self._scheduled)
                self.applied.append((target, self._written))
                return action
        return None

    def _next_scheduled(self) -> int | None:
        with self._cond:
            return self._scheduled[0][0] if self._scheduled else None

    def _render_some(self, until: int) -> None:
        """Apply posted and due changes, then render until the ring holds ``until`` samples."""
        while not self._closing.is_set():
            for op in self._take_ops():
                self._execute(op)
            action = self._pop_due()
            if action is not None:
                for op in action():
                    self._execute(op)
                continue
            room = min(self.ring.free, until - self.ring.available)
            if room < self.block_size:
                return
            n = min(room, RENDER_BLOCK)
            nxt = self._next_scheduled()
            if nxt is not None:
                n = min(n, nxt - self._written)
            self._render_block(n)

    def _execute(self, op: EngineOp) -> None:
        self.executed.append((time.monotonic(), op))  # for latency benchmarks and tests
        performer = self.performer
        if isinstance(op, Glide):
            performer.glide_to(op.params, op.seconds)
        elif isinstance(op, Crossfade):
            if op.seed is not None:
                performer.seed = op.seed
            performer.crossfade_to(op.params, op.seconds, restart_beats=op.restart_beats)
            self._tell("transition")
        elif isinstance(op, SetVolume):
            self._volume.target = op.volume
        elif isinstance(op, SetRunning):
            self._run.target = 1.0 if op.running else 0.0
            self._tell("play" if op.running else "stop")
            if op.running:
                self._advancing = True
            else:  # notes and beats scheduled beyond this point will not sound
                self._drop_timed_after(self._written + round(RUN_FADE_SECONDS * self.sample_rate))

    def _tell(self, event: TransportEvent) -> None:
        for listener in self.listeners:
            try:
                listener.transport(self._written, event)
            except Exception:  # a listener's bug must not stop the music
                log.exception("performance listener failed on %s", event)

    def _render_block(self, n: int) -> None:
        start_out = self._written
        sounding = self._advancing
        if sounding:
            perf_start = self.performer.position
            block = self.performer.render(n)
            notes = self._collect_events(start_out, perf_start, n)
            if self.listeners:
                self._tell_rendered(start_out, perf_start, n, notes)
            self._run.apply(block)
            if self._run.value == 0.0 and self._run.target == 0.0:
                self._advancing = False  # faded out: pause the music where it is
        else:
            block = np.zeros(n, dtype=np.float32)
        self._volume.apply(block)
        np.clip(block, -1.0, 1.0, out=block)
        self.ring.write(block)
        self._written += n
        self.stats.rendered_samples += n
        if sounding:  # a paused performance sends no levels (nothing to see)
            self._meter(block, start_out)

    def _tell_rendered(
        self, start_out: int, perf_start: int, n: int, notes: list[tuple[int, NoteEvent]]
    ) -> None:
        performer = self.performer
        beats = (performer.beat_at(perf_start), performer.beat_at(perf_start + n))
        block = RenderedBlock(start_out, n, tuple(notes), beats, 60.0 / performer.params.bpm)
        for listener in self.listeners:
            try:
                listener.rendered(block)
            except Exception:
                log.exception("performance listener failed on a rendered block")

    def _collect_events(
        self, start_out: int, perf_start: int, n: int
    ) -> list[tuple[int, NoteEvent]]:
        performer = self.performer
        offset = start_out - perf_start  # output sample = performer sample + offset
        spb = 60.0 / performer.params.bpm
        timed: list[tuple[int, str, tuple[OscValue, ...]]] = []
        notes: list[tuple[int, NoteEvent]] = []
        for ev in performer.drain_events():
            args: tuple[OscValue, ...] = (
                ev.layer,
                float(ev.pitch),
                float(ev.velocity),
                float(ev.duration_beats * spb),
            )
            timed.append((ev.start_sample + offset, "note", args))
            notes.append((ev.start_sample + offset, ev))
        b0 = performer.beat_at(perf_start)
        b1 = performer.beat_at(perf_start + n)
        k = self._last_beat + 1
        while k <= b1:
            frac = 0.0 if b1 <= b0 else min(1.0, max(0.0, (k - b0) / (b1 - b0)))
            sample = start_out + round(frac * n)
            timed.append((sample, "beat", (k,)))
            if k % BEATS_PER_BAR == 0:
                timed.append((sample, "bar", (k // BEATS_PER_BAR,)))
            self._last_beat = k
            k += 1
        if timed:
            self._push_timed(timed)
        return notes

    def _meter(self, block: Samples, start_out: int) -> None:
        """RMS and peak per 1/30 s of output, sent when that audio is heard."""
        pos = 0
        timed: list[tuple[int, str, tuple[OscValue, ...]]] = []
        while pos < len(block):
            take = min(len(block) - pos, self._level_len - self._level_fill)
            self._level_acc.append(block[pos : pos + take])
            self._level_fill += take
            pos += take
            if self._level_fill >= self._level_len:
                window = np.concatenate(self._level_acc)
                rms = float(np.sqrt(np.mean(np.square(window, dtype=np.float64))))
                peak = float(np.max(np.abs(window)))
                timed.append((start_out + pos, "level", (rms, peak)))
                self._level_acc, self._level_fill = [], 0
        if timed:
            self._push_timed(timed)

    # --- emitter thread ------------------------------------------------------------------
    def _push_timed(self, items: list[tuple[int, str, tuple[OscValue, ...]]]) -> None:
        with self._timed_lock:
            for sample, name, args in items:
                heapq.heappush(self._timed, (sample, next(self._seq), name, args))

    def _drop_timed_after(self, sample: int) -> None:
        with self._timed_lock:
            kept = [t for t in self._timed if t[0] <= sample or t[2] == "level"]
            heapq.heapify(kept)
            self._timed = kept

    def _emit_loop(self) -> None:
        tick = threading.Event()
        while not self._closing.is_set():
            heard = self.clock.now_sample()
            due: list[tuple[str, tuple[OscValue, ...]]] = []
            with self._timed_lock:
                while self._timed and self._timed[0][0] <= heard:
                    _, _, name, args = heapq.heappop(self._timed)
                    due.append((name, args))
            for name, args in due:
                try:
                    self._emit(name, args)
                except Exception:  # a failing listener must not stop the stream
                    log.exception("emitting %s failed", name)
            tick.wait(0.004)
