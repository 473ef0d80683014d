"""LivePerformance: the daemon's one engine, rendered just ahead of an audio output, steered live.

It is the producer of the one real-time path, :class:`~latentscore.output_loop.OutputLoop`
(ring, render worker, device callback, shutdown fade, underruns, device loss and reopen);
what it adds is the bridge's own: the operation queue, timetagged changes, the volume and
play/stop ramps, meters and the note/beat emitter.

Threads and why:

* **render worker** (the loop's): owns the :class:`~synth.performer.Performer`. It sleeps
  until the device has made room for one block *or* a control arrives, so a control is
  handed to the engine within microseconds of being posted (inputs never touch the
  performer). It renders in pieces that end exactly at the next scheduled change, so a
  bundle's timetag lands on its sample.
* **device callback** (PortAudio, or :class:`~latentscore.audio_device.NullOutput` for
  ``--no-audio`` and tests): only copies from the ring and marks the audio clock.
* **emitter**: notes, beats, bars and levels are computed when rendered but *sent when heard*
  (when the device clock reaches their sample), so visuals stay in sync with the sound. With
  ``timetags`` each is also sent as soon as it is rendered, with the Unix time it will be
  heard (the daemon wraps it in a time-tagged bundle), so a client can schedule it exactly.

The audio clock counts samples handed to the device ("output samples"); it keeps running
while the music is stopped (silence is rendered), so timetags always map to one timeline.

Timing: the engine runs with a 256-sample control quantum (one JACK period) and a 5 ms knob
smoothing, and the ring holds ``latency_ms`` (default 17 ms: three 256-frame blocks; whole
device blocks, at least two). A knob is therefore heard about one ring plus one device block
after it arrives. Volume is applied in the device callback, after the ring, so it is heard
within a block. Crossfades, volume and play/stop start on the exact sample of a timetag;
styles, mode, root and tempo change on the next bar or by a crossfade, as before.
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
from latentscore.audio_device import OutputBackend
from latentscore.output_loop import (
    AudioClock,
    DeviceStatus,
    GainRamp,
    OutputGain,
    OutputLoop,
    SampleRing,
)
from synth.conductor import BEATS_PER_BAR
from synth.engine import LIVE_QUANTUM
from synth.events import NoteEvent
from synth.params import SAMPLE_RATE, SynthParams
from synth.performer import Performer

log = logging.getLogger("bridge.performance")

BLOCK_SIZE = 256  # device callback size: 5.8 ms at 44.1 kHz
LATENCY_MS = 17.0  # default render-ahead (three 256-frame blocks); see ring_samples
RENDER_BLOCK = 2048  # most samples rendered between two looks at the control queue
LEVEL_HZ = 30.0
RUN_FADE_SECONDS = 0.05  # play/stop and shutdown fades
UNIX_OFFSET_SMOOTHING = 0.02  # per emitter tick (4 ms): a time constant of about 0.2 s
UNIX_OFFSET_JUMP = 0.02  # seconds: a clock step larger than this is followed at once
VOLUME_SECONDS = 0.005  # volume changes ramp this fast (no zipper noise, heard at once)
KNOB_SECONDS = 0.005  # the live engine's knob smoothing time constant
COMPOSE_AHEAD_SECONDS = 0.3  # bars are composed this much earlier than the engine needs them
COMPOSE_POLL_SECONDS = 0.005  # the composer looks for work this often

Samples = NDArray[np.float32]
Emit = Callable[[str, tuple[OscValue, ...], float | None], None]
"""``emit(name, args, heard_at)``: ``heard_at`` None means "heard now"; a Unix time means the
message goes out ahead (``timetags``) and will be heard then."""


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
    at_beat: float | None = None  # the grid moves so this sample is this beat (Ableton Link)


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

    Called the ring's latency before the audio is heard, so a listener can schedule against
    the audio clock; it must return quickly (queue work, never block).
    """

    def rendered(self, block: RenderedBlock) -> None: ...

    def transport(self, sample: int, event: TransportEvent) -> None: ...


def ring_samples(latency_ms: float, block_size: int, sample_rate: int) -> int:
    """Render-ahead ring size for ``latency_ms``: whole device blocks, at least two."""
    blocks = max(2, round(latency_ms * 1e-3 * sample_rate / block_size))
    return blocks * block_size


class LivePerformance:
    """One performer rendered into the output loop's ring; see the module docstring."""

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
        latency_ms: float = LATENCY_MS,
        volume: float = 1.0,
        playing: bool = True,
        on_device: Callable[[DeviceStatus, str], None] | None = None,
        timetags: bool = False,
    ) -> None:
        self.performer = Performer(
            params, seed, sample_rate, quantum=LIVE_QUANTUM, knob_seconds=KNOB_SECONDS, live=True
        )
        self.sample_rate = sample_rate
        self.block_size = block_size
        # volume is applied in the device callback, not ahead in the ring: heard within a block
        self._volume = OutputGain(volume, VOLUME_SECONDS, sample_rate)
        self.loop = OutputLoop(
            self,
            backend=backend,
            device=device,
            sample_rate=sample_rate,
            block_size=block_size,
            capacity=ring_samples(latency_ms, block_size, sample_rate),
            step=block_size,
            max_render=RENDER_BLOCK,
            fade_seconds=RUN_FADE_SECONDS,
            on_device=on_device,
            name="bridge",
            gain=self._volume,
        )
        self.clock: AudioClock = self.loop.clock
        self.stats = self.loop.stats
        self.applied: deque[tuple[int, int]] = deque(maxlen=1024)  # (target, applied) samples
        self.executed: deque[tuple[float, EngineOp]] = deque(maxlen=256)  # (monotonic, op)
        self._emit = emit
        self._lock = threading.Lock()  # guards the op queue and the schedule
        self._ops: deque[EngineOp] = deque()
        self._scheduled: list[tuple[int, int, ScheduledAction]] = []
        self._seq = itertools.count()
        self._written = 0  # output samples written into the ring
        self._run = GainRamp(1.0 if playing else 0.0, RUN_FADE_SECONDS, sample_rate)
        self._advancing = playing  # the performer is being rendered (not paused)
        self._last_beat = -1
        self._level_acc: list[Samples] = []
        self._level_len = round(sample_rate / LEVEL_HZ)
        self._level_fill = 0
        # (due output sample, order, name, args, heard sample if sent ahead else None)
        self._timed: list[tuple[int, int, str, tuple[OscValue, ...], int | None]] = []
        self._timed_lock = threading.Lock()
        self.timetags = timetags
        self._unix_offset = 0.0  # Unix time of output sample 0 (see _track_unix_offset)
        self._closing = threading.Event()
        self.listeners: list[PerformanceListener] = []  # add before start()
        self._emitter = threading.Thread(target=self._emit_loop, name="bridge-emit", daemon=True)
        self._composer = threading.Thread(
            target=self._compose_loop, name="bridge-compose", daemon=True
        )

    @property
    def ring(self) -> SampleRing:
        """The output loop's render-ahead ring."""
        return self.loop.ring

    @property
    def latency_seconds(self) -> float:
        """The render-ahead ring: how long after a change its first sample is played."""
        return self.ring.capacity / self.sample_rate

    @property
    def error(self) -> BaseException | None:
        """What stopped the render worker, if anything (the output has faded out)."""
        return self.loop.error

    # --- control (any thread) ------------------------------------------------------------
    def submit(self, ops: Sequence[EngineOp]) -> None:
        """Hand operations to the engine as soon as possible (in order)."""
        with self._lock:
            self._ops.extend(ops)
        self.loop.wake()

    def schedule(self, sample: int, action: ScheduledAction) -> None:
        """Run ``action`` in the render thread when the output reaches ``sample``.

        ``action`` returns the engine operations to perform at that exact sample. A sample
        already rendered runs at the next opportunity (as soon as possible).
        """
        with self._lock:
            heapq.heappush(self._scheduled, (sample, next(self._seq), action))
        self.loop.wake()

    @property
    def written(self) -> int:
        """Output samples rendered so far (the render-ahead edge of the timeline)."""
        return self._written

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Prefill, open the device and start the worker and the emitter."""
        self.loop.start()
        self._emitter.start()
        self._composer.start()

    def close(self, timeout: float = 2.0) -> None:
        """Fade out at the device (50 ms, heard), then stop the output and the threads."""
        self.loop.close(timeout)
        self._closing.set()
        for thread in (self._emitter, self._composer):
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(timeout)

    # --- composer thread -----------------------------------------------------------------
    def _compose_loop(self) -> None:
        """Keep bars composed ahead of the render worker, and build crossfade engines.

        Composing a bar (every note of every layer rendered whole) takes a few ms, and a new
        engine's first bars up to tens of ms: far longer than the ring. Done here, the
        render worker only mixes and runs the effects (about 0.2 ms a block).
        """
        ahead = round(COMPOSE_AHEAD_SECONDS * self.sample_rate)
        while not self._closing.wait(COMPOSE_POLL_SECONDS):
            try:
                self.performer.compose_ahead(ahead)
            except Exception:  # the render worker composes itself if this ever fails
                log.exception("composer failed")
                self._closing.wait(1.0)

    # --- render worker (the output loop's producer) --------------------------------------
    def poll(self) -> None:
        """Apply posted operations and due scheduled actions (the worker was woken)."""
        self._apply_due()

    def produce(self, max_samples: int) -> tuple[Samples, bool]:
        """Render up to ``max_samples``, ending exactly at the next scheduled change."""
        self._apply_due()
        n = max_samples
        nxt = self._next_scheduled()
        if nxt is not None:
            n = max(1, min(n, nxt - self._written))
        return self._render_block(n), True

    def _apply_due(self) -> None:
        while True:
            for op in self._take_ops():
                self._execute(op)
            action = self._pop_due()
            if action is None:
                return
            for op in action():
                self._execute(op, timed=True)

    def _take_ops(self) -> list[EngineOp]:
        with self._lock:
            ops = list(self._ops)
            self._ops.clear()
        return ops

    def _pop_due(self) -> ScheduledAction | None:
        with self._lock:
            if self._scheduled and self._scheduled[0][0] <= self._written:
                target, _, action = heapq.heappop(self._scheduled)
                self.applied.append((target, self._written))
                return action
        return None

    def _next_scheduled(self) -> int | None:
        with self._lock:
            return self._scheduled[0][0] if self._scheduled else None

    def _execute(self, op: EngineOp, timed: bool = False) -> None:
        """Perform ``op`` now; ``timed``: it belongs exactly at the render edge (a timetag)."""
        self.executed.append((time.monotonic(), op))  # for latency benchmarks and tests
        performer = self.performer
        if isinstance(op, Glide):
            performer.glide_to(op.params, op.seconds)
        elif isinstance(op, Crossfade):
            if op.seed is not None:
                performer.seed = op.seed
            performer.crossfade_to(
                op.params, op.seconds, restart_beats=op.restart_beats, at_beat=op.at_beat
            )
            self._tell("transition")
        elif isinstance(op, SetVolume):
            self._volume.set(op.volume, at=self._written if timed else None)
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

    def _render_block(self, n: int) -> Samples:
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
        self._written += n
        if sounding:  # a paused performance sends no levels (nothing to see)
            self._meter(block, start_out)
        return block

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
        if math.ceil(b0 - 1e-6) > k or b0 < self._last_beat - 1e-6:
            # the grid was moved (a clock's Start or song position, Link): count from where it
            # is now rather than bursting every skipped beat or waiting to pass the old count
            k = math.ceil(b0 - 1e-6)
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
                gain = self._volume.target  # applied at the device, after this point
                rms = gain * float(np.sqrt(np.mean(np.square(window, dtype=np.float64))))
                peak = gain * float(np.max(np.abs(window)))
                timed.append((start_out + pos, "level", (rms, peak)))
                self._level_acc, self._level_fill = [], 0
        if timed:
            self._push_timed(timed)

    # --- emitter thread ------------------------------------------------------------------
    def _push_timed(self, items: list[tuple[int, str, tuple[OscValue, ...]]]) -> None:
        with self._timed_lock:
            for sample, name, args in items:
                heapq.heappush(self._timed, (sample, next(self._seq), name, args, None))
                if self.timetags:  # also at once, stamped with when it will be heard
                    heapq.heappush(self._timed, (0, next(self._seq), name, args, sample))

    def _drop_timed_after(self, sample: int) -> None:
        with self._timed_lock:
            kept = [t for t in self._timed if t[0] <= sample or t[2] == "level"]
            heapq.heapify(kept)
            self._timed = kept

    def _track_unix_offset(self) -> None:
        """Smooth the Unix time of output sample 0 (a timetag's base) over device callbacks.

        One reading of the audio clock jitters with the callback's scheduling (a few ms); the
        average does not. A jump beyond :data:`UNIX_OFFSET_JUMP` (device reopened, a long
        underrun) is taken at once.
        """
        measured = time.time() - self.clock.now_sample() / self.sample_rate
        if abs(measured - self._unix_offset) > UNIX_OFFSET_JUMP:
            self._unix_offset = measured
        else:
            self._unix_offset += UNIX_OFFSET_SMOOTHING * (measured - self._unix_offset)

    def _emit_loop(self) -> None:
        tick = threading.Event()
        while not self._closing.is_set():
            heard = self.clock.now_sample()
            due: list[tuple[str, tuple[OscValue, ...], int | None]] = []
            with self._timed_lock:
                while self._timed and self._timed[0][0] <= heard:
                    _, _, name, args, ahead = heapq.heappop(self._timed)
                    due.append((name, args, ahead))
            if self.timetags:
                self._track_unix_offset()
            for name, args, ahead in due:
                at = None if ahead is None else self._unix_offset + ahead / self.sample_rate
                try:
                    self._emit(name, args, at)
                except Exception:  # a failing listener must not stop the stream
                    log.exception("emitting %s failed", name)
            tick.wait(0.004)
