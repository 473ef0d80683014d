"""OutputLoop: the one real-time path from a sample producer to an audio device.

Used by every kind of playback: ``Audio.play``, ``AudioStream.play``, ``LiveStream.play``
(through :class:`~latentscore.player.Player`) and the bridge daemon (through
:class:`~bridge.performance.LivePerformance`). The audio callback must never wait for the
synth: a late callback is an audible dropout. So the work is split:

* a **render worker** asks the :class:`Producer` for audio and keeps a :class:`SampleRing`
  topped up to its capacity (the *latency*: how far audio is rendered ahead of the device).
  It sleeps until the device has made room for a step *or* someone calls :meth:`wake`
  (the bridge posts a control), so a change reaches the synth within microseconds.
* the **device callback** only copies from the ring, marks the :class:`AudioClock` and
  applies the shutdown :class:`FadeOut`. If the ring holds too little, the missing part is
  silence and :attr:`LoopStats.underruns` grows.
* a **watchdog** notices a device that went away (its stream ended by itself, or, for a
  backend marked ``clocked``, no callback for ``STALL_SECONDS``): one log line, a status
  callback, then it polls to reopen the device every ``REOPEN_SECONDS`` and resumes where
  the ring left off.

The ring's capacity is the trade-off between how soon a control is heard (about one
capacity plus one device block) and how much scheduling jitter the render worker survives.
"""

from __future__ import annotations

import faulthandler
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from latentscore.audio_device import OutputBackend, OutputHandle, Samples
from latentscore.thread_priority import raise_current_thread

log = logging.getLogger(__name__)

STALL_SECONDS = 0.5  # no device callback for this long while playing: the device is gone
REOPEN_SECONDS = 1.0  # how often a lost device is tried again
FADE_SECONDS = 0.05  # shutdown fade
DROPOUT_LOG_SECONDS = 5.0  # at most one dropout warning line this often
# Diagnosis of render stalls: LATENTSCORE_STALL_DUMP=<file>:<ms> makes faulthandler's C
# watchdog (it needs no GIL) write every thread's stack to <file> whenever one render takes
# longer than <ms>, which shows what the other threads were doing while the worker waited.
_STALL_DUMP = os.environ.get("LATENTSCORE_STALL_DUMP", "")

DeviceStatus = Literal["lost", "back"]


class SampleRing:
    """A fixed-size float32 ring buffer between one writer thread and the audio callback.

    The lock only guards index arithmetic and one or two ``memcpy``-sized slice copies, so
    the callback holds it for microseconds. The writer waits on :attr:`space` (notified by
    every read) instead of polling.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"ring capacity must be >= 1, got {capacity}")
        self._buf = np.zeros(capacity, dtype=np.float32)
        self.capacity = capacity
        self._read = 0  # total samples ever read (monotonic); position = count % capacity
        self._write = 0  # total samples ever written
        self.space = threading.Condition(threading.Lock())

    @property
    def available(self) -> int:
        """Samples written and not yet read."""
        return self._write - self._read

    @property
    def free(self) -> int:
        return self.capacity - (self._write - self._read)

    @property
    def total_read(self) -> int:
        return self._read

    def write(self, data: Samples) -> int:
        """Copy as much of ``data`` as fits; returns how many samples were written."""
        with self.space:
            n = min(len(data), self.capacity - (self._write - self._read))
            start = self._write % self.capacity
            first = min(n, self.capacity - start)
            self._buf[start : start + first] = data[:first]
            self._buf[: n - first] = data[first:n]
            self._write += n
        return n

    def read_into(self, out: Samples) -> int:
        """Copy up to ``len(out)`` samples into ``out``; returns how many were copied."""
        with self.space:
            n = min(len(out), self._write - self._read)
            start = self._read % self.capacity
            first = min(n, self.capacity - start)
            out[:first] = self._buf[start : start + first]
            out[first:n] = self._buf[: n - first]
            self._read += n
            self.space.notify()
        return n


class FadeOut:
    """A quarter-cosine fade to silence, applied block by block in a device callback.

    Stopping playback mid-signal would click; once :meth:`start` is called, every block the
    device pulls is scaled by the next stretch of the curve and then zeroed.
    """

    def __init__(self, seconds: float, sample_rate: int) -> None:
        n = max(1, round(seconds * sample_rate))
        self._curve = np.cos(np.linspace(0.0, np.pi / 2, n, dtype=np.float32))
        self._pos = -1  # >= 0 while fading

    @property
    def started(self) -> bool:
        return self._pos >= 0

    @property
    def done(self) -> bool:
        return self._pos >= len(self._curve)

    def start(self) -> None:
        if self._pos < 0:
            self._pos = 0

    def apply(self, out: Samples) -> bool:
        """Fade ``out`` in place (if started); False once the curve has run out."""
        if self._pos < 0:
            return True
        k = max(0, min(len(out), len(self._curve) - self._pos))
        out[:k] *= self._curve[self._pos : self._pos + k]
        out[k:] = 0.0
        self._pos += k
        return self._pos < len(self._curve)


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


class OutputGain:
    """A gain applied in the device callback, after the render-ahead ring.

    A control applied while rendering is heard only once the ring has played out; a gain
    applied here is heard within one device block. :meth:`set` either takes effect at once
    (``at`` None) or on an exact output sample (a timetagged change, rendered ahead), so
    both a knob and a scheduled fade land where they should. Ramps linearly over
    ``seconds`` (no zipper, no click).
    """

    def __init__(self, value: float, seconds: float, sample_rate: int) -> None:
        self._ramp = GainRamp(value, seconds, sample_rate)
        self._timed: deque[tuple[int, float]] = deque()  # (output sample, target), in order
        self._lock = threading.Lock()

    @property
    def target(self) -> float:
        return self._ramp.target

    def set(self, value: float, at: int | None = None) -> None:
        with self._lock:
            if at is None:
                self._timed.clear()  # a live move overrides changes still scheduled
                self._ramp.target = float(value)
            else:
                self._timed.append((at, float(value)))

    def apply(self, out: Samples, start: int) -> None:
        """Scale ``out`` (output samples ``start`` ..) in place (device thread)."""
        pos = 0
        n = len(out)
        with self._lock:
            while self._timed and self._timed[0][0] < start + n:
                at, value = self._timed.popleft()
                cut = min(n, max(pos, at - start))
                if cut > pos:
                    self._ramp.apply(out[pos:cut])
                pos = cut
                self._ramp.target = value
        if pos < n:
            self._ramp.apply(out[pos:])


class AudioClock:
    """Which output sample is being heard now, from the device callback's last mark."""

    def __init__(self, sample_rate: int, block_size: int) -> None:
        self.sample_rate = sample_rate
        self.block_size = block_size
        self._mark: tuple[float, int] | None = None  # (monotonic time, samples played)

    def mark(self, played: int) -> None:
        self._mark = (time.monotonic(), played)  # one tuple store: atomic for readers

    @property
    def last_mark(self) -> float | None:
        """``time.monotonic()`` of the last device callback (None before the first)."""
        mark = self._mark
        return None if mark is None else mark[0]

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
class LoopStats:
    """What happened at the device.

    Attributes:
        underruns: callbacks that found the ring short while playing (a dropout was heard).
        missing_samples: silent samples output because of those underruns.
        played_samples: samples handed to the device (silence included).
        rendered_samples: samples the producer rendered into the ring.
        device_losses: times the device went away; ``reopens``: times it came back.
        slowest_render_ms: the longest single render of the producer (what an underrun is
            usually measured against: a render longer than the ring lasts is a dropout).
    """

    underruns: int = 0
    missing_samples: int = 0
    played_samples: int = 0
    rendered_samples: int = 0
    device_losses: int = 0
    reopens: int = 0
    slowest_render_ms: float = 0.0


class Producer(Protocol):
    """What an :class:`OutputLoop` plays. Both methods run on the render worker only."""

    def produce(self, max_samples: int) -> tuple[Samples, bool]:
        """Up to ``max_samples`` (at least one unless ended) and whether more will follow."""
        ...

    def poll(self) -> None:
        """Called when :meth:`OutputLoop.wake` was used: apply posted work now."""
        ...


class OutputLoop:
    """Plays a :class:`Producer` on an output device in real time (see the module docstring).

    Args:
        producer: the audio source (render worker side).
        backend: the device (:class:`~latentscore.audio_device.SoundDeviceOutput` or
            :class:`~latentscore.audio_device.NullOutput`).
        capacity: ring size in samples: the render-ahead latency.
        step: the worker renders once this much room is free, at most ``max_render`` at a
            time (live use: one device block each; offline streams: bigger pieces).
        on_device: told ``("lost", reason)`` and ``("back", "")`` from the watchdog thread.
        gain: applied in the device callback, after the ring (see :class:`OutputGain`).
    """

    def __init__(
        self,
        producer: Producer,
        *,
        backend: OutputBackend,
        device: int | str | None,
        sample_rate: int,
        block_size: int,
        capacity: int,
        step: int,
        max_render: int,
        fade_seconds: float = FADE_SECONDS,
        on_device: Callable[[DeviceStatus, str], None] | None = None,
        name: str = "output",
        gain: OutputGain | None = None,
    ) -> None:
        self.producer = producer
        self.backend = backend
        self.device = device
        self.sample_rate = sample_rate
        self.block_size = block_size
        self.ring = SampleRing(max(capacity, block_size))
        self.step = max(1, min(step, self.ring.capacity))
        self.max_render = max(self.step, max_render)
        self.clock = AudioClock(sample_rate, block_size)
        self.stats = LoopStats()
        self.error: BaseException | None = None
        self._fade = FadeOut(fade_seconds, sample_rate)
        self._on_device = on_device
        self._gain = gain
        # a backend whose driver calls back on its own clock: a long silence means it is gone
        self._watch_stalls = bool(getattr(backend, "clocked", False))
        self._name = name
        self._cond = self.ring.space  # one condition: "room in the ring" or "work posted"
        self._poked = False
        self._halt = threading.Event()  # worker and watchdog stop
        self._finished = threading.Event()  # playback is over (faded, drained or failed)
        self._stream_ended = threading.Event()  # the current stream called `finished`
        self._source_done = False
        self._lost = False
        self._stream: OutputHandle | None = None
        self._stream_lock = threading.Lock()
        self._worker = threading.Thread(target=self._work, name=f"{name}-render", daemon=True)
        self._watchdog = threading.Thread(target=self._watch, name=f"{name}-watch", daemon=True)
        self._started_at = 0.0
        self._underruns_logged = 0
        self._dropout_logged_at = -DROPOUT_LOG_SECONDS

    # --- state ---------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    @property
    def source_done(self) -> bool:
        return self._source_done

    @property
    def device_lost(self) -> bool:
        return self._lost

    @property
    def wall_seconds(self) -> float:
        return time.monotonic() - self._started_at if self._started_at else 0.0

    # --- control (any thread) ------------------------------------------------------------
    def wake(self) -> None:
        """Make the worker call ``producer.poll()`` as soon as possible."""
        with self._cond:
            self._poked = True
            self._cond.notify_all()

    def start(self) -> OutputLoop:
        """Prefill the ring, open the device and start playing; returns ``self``.

        Raises what the backend raises (AudioDeviceError) if the device cannot be opened.
        """
        self._stream = self._open()
        device_block = int(getattr(self._stream, "block_size", 0) or 0)
        if device_block > self.block_size:  # e.g. a JACK server with bigger periods
            self._grow(device_block)
        self._fill()  # the first callback must find audio
        self.stats.slowest_render_ms = 0.0  # (the prefill is not against the clock)
        self._started_at = time.monotonic()
        self._worker.start()
        self._watchdog.start()
        try:
            self._stream.start()
        except BaseException:
            self._halt.set()
            self._finished.set()
            raise
        return self

    def _grow(self, device_block: int) -> None:
        """The device calls back with bigger blocks than planned: keep two in the ring."""
        log.info(
            "%s: the device asks for %d-sample blocks; render-ahead raised to %d samples",
            self._name,
            device_block,
            max(self.ring.capacity, 2 * device_block),
        )
        self.block_size = device_block
        self.clock.block_size = device_block
        if self.ring.capacity < 2 * device_block:
            self.ring = SampleRing(2 * device_block)
            self._cond = self.ring.space

    def fade_out(self) -> None:
        """Start the shutdown fade at the device (heard over ``fade_seconds``)."""
        self._fade.start()
        if self._stream is None or self._lost:
            self._finished.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until playback is over (faded out, source drained, or failed)."""
        return self._finished.wait(timeout)

    def close(self, timeout: float = 2.0) -> None:
        """Fade out (if not yet), wait for the fade to be played, release device and threads.

        Safe to call from any thread and more than once; returns within about ``timeout``.
        """
        deadline = time.monotonic() + timeout
        self.fade_out()
        self._finished.wait(max(0.0, deadline - time.monotonic() - 0.2))
        self._finished.set()
        self._halt.set()
        with self._cond:
            self._cond.notify_all()
        self._release_stream()
        for thread in (self._worker, self._watchdog):
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(max(0.05, deadline - time.monotonic()))

    # --- device --------------------------------------------------------------------------
    def _open(self) -> OutputHandle:
        self._stream_ended.clear()
        return self.backend.open(
            sample_rate=self.sample_rate,
            block_size=self.block_size,
            callback=self._callback,
            finished=self._on_stream_end,
            device=self.device,
        )

    def _on_stream_end(self) -> None:
        self._stream_ended.set()
        if self._fade.done or (self._source_done and self.ring.available == 0):
            self._finished.set()

    def _take_stream(self) -> OutputHandle | None:
        with self._stream_lock:
            stream, self._stream = self._stream, None
        return stream

    def _release_stream(self) -> None:
        self._release(self._take_stream())

    def _release(self, stream: OutputHandle | None) -> None:
        if stream is None:
            return
        for action in (stream.stop, stream.close):
            try:
                action()
            except Exception:  # a device vanishing at exit must not hide the shutdown
                log.debug("%s: releasing the device failed", self._name, exc_info=True)

    def _watch(self) -> None:
        """Watchdog: detect a lost device, poll until it is back, reopen."""
        next_try = 0.0
        while not self._halt.wait(0.1):
            if self._finished.is_set():
                return
            if self.stats.underruns != self._underruns_logged:
                self._log_dropouts()
            if not self._lost:
                last = self.clock.last_mark or self._started_at
                ended = self._stream_ended.is_set() and not self._fade.started
                stalled = self._watch_stalls and time.monotonic() - last > STALL_SECONDS
                if ended or stalled:
                    why = "its stream ended" if ended else f"no callback for {STALL_SECONDS} s"
                    self._device_lost(why)
                    next_try = time.monotonic() + REOPEN_SECONDS
            elif time.monotonic() >= next_try:
                next_try = time.monotonic() + REOPEN_SECONDS
                self._try_reopen()

    def _device_lost(self, why: str) -> None:
        self._lost = True
        self.stats.device_losses += 1
        log.error(
            "audio output lost (%s); still listening for controls, retrying every %g s",
            why,
            REOPEN_SECONDS,
        )
        # released on a thread of its own: some drivers hang closing a vanished device
        # (PortAudio's JACK backend does), which must not stop the watchdog from polling
        threading.Thread(
            target=self._release,
            args=(self._take_stream(),),
            name=f"{self._name}-release",
            daemon=True,
        ).start()
        self._tell("lost", f"audio output lost ({why})")

    def _try_reopen(self) -> None:
        try:
            rescan = getattr(self.backend, "rescan", None)
            if rescan is not None:
                rescan()
            stream = self._open()
            stream.start()
        except Exception as exc:
            log.debug("%s: output not back yet: %s", self._name, exc)
            return
        with self._stream_lock:
            self._stream = stream
        self.clock.mark(self.ring.total_read)  # restart the stall timer
        self._lost = False
        self.stats.reopens += 1
        log.warning("audio output is back; playing again")
        self._tell("back", "")

    def _tell(self, status: DeviceStatus, message: str) -> None:
        if self._on_device is None:
            return
        try:
            self._on_device(status, message)
        except Exception:
            log.exception("%s: device status listener failed", self._name)

    # --- device thread -------------------------------------------------------------------
    def _callback(self, out: Samples) -> bool:
        """Copy from the ring, never render. Returns False when playback has finished."""
        n = len(out)
        start = self.ring.total_read
        got = self.ring.read_into(out)
        if got < n:
            out[got:] = 0.0
            if not self._fade.started and not self._source_done and not self._halt.is_set():
                self.stats.underruns += 1
                self.stats.missing_samples += n - got
        self.stats.played_samples += n
        self.clock.mark(self.ring.total_read)
        if self._gain is not None:
            self._gain.apply(out, start)
        if not self._fade.apply(out):
            return False
        return not (self._source_done and self.ring.available == 0)

    # --- render worker -------------------------------------------------------------------
    def _fill(self) -> None:
        """Render into the ring until it is full (or the source ends)."""
        ring = self.ring
        stats = self.stats
        dump = _stall_dump()
        while not self._source_done and not self._halt.is_set() and ring.free >= self.step:
            began = time.perf_counter()
            if dump is not None:
                faulthandler.dump_traceback_later(dump[1], file=dump[0])
            block, more = self.producer.produce(min(ring.free, self.max_render))
            if dump is not None:
                faulthandler.cancel_dump_traceback_later()
            took = 1000.0 * (time.perf_counter() - began)
            if took > stats.slowest_render_ms:
                stats.slowest_render_ms = took
            ring.write(block)  # never more than free: only this thread writes
            stats.rendered_samples += len(block)
            if not more:
                self._source_done = True

    def _log_dropouts(self) -> None:
        """One warning line for new dropouts, at most every few seconds.

        From the watchdog: the render worker never writes to a log (a stderr pipe nobody
        reads, or a paused terminal, would block it and stop the music).
        """
        now = time.monotonic()
        if now - self._dropout_logged_at < DROPOUT_LOG_SECONDS:
            return
        new = self.stats.underruns - self._underruns_logged
        self._underruns_logged = self.stats.underruns
        self._dropout_logged_at = now
        ring_ms = 1000.0 * self.ring.capacity / self.sample_rate
        log.warning(
            "%s: %d dropout(s): the ring (%.0f ms) ran dry; slowest render so far %.1f ms. "
            "On a busy machine raise the latency (bridge: --latency).",
            self._name, new, ring_ms, self.stats.slowest_render_ms,
        )  # fmt: skip

    def _work(self) -> None:
        ring = self.ring
        log.debug("%s: render worker priority: %s", self._name, raise_current_thread())
        try:
            while not self._halt.is_set() and not self._source_done:
                with self._cond:
                    while not self._halt.is_set() and ring.free < self.step and not self._poked:
                        self._cond.wait(0.1)
                    poked, self._poked = self._poked, False
                if poked:
                    self.producer.poll()
                self._fill()
        except BaseException as exc:  # surfaced by the owner; the music fades out
            log.exception("%s: render worker failed", self._name)
            self.error = exc
            self._source_done = True
            self.fade_out()
        finally:
            if self._source_done and (self._stream is None or self._lost):
                self._finished.set()


_dump_target: tuple[Any, float] | None = None


def _stall_dump() -> tuple[Any, float] | None:
    """(open file, seconds) from ``LATENTSCORE_STALL_DUMP`` (see above), or None."""
    global _dump_target
    if not _STALL_DUMP or ":" not in _STALL_DUMP:
        return None
    if _dump_target is None:
        path, ms = _STALL_DUMP.rsplit(":", 1)
        _dump_target = (open(path, "a"), float(ms) / 1000.0)  # noqa: SIM115 (process-long)
    return _dump_target
