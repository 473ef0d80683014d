"""Real-time playback of an endless or finite chunk source, rendered ahead of the device.

The audio callback must never wait for the synth: a late callback is an audible dropout. So
playback is split in two:

* a **worker thread** pulls audio from the source (a ``render(n)`` callable or an iterator
  of float32 chunks) and keeps a :class:`SampleRing` about ``buffer_seconds`` full;
* the **device callback** only copies from the ring into the device buffer. If the ring
  holds too little, the missing part is silence and :attr:`PlaybackStats.underruns` grows.

Stopping (``stop()`` or Ctrl-C in :func:`play_stream`) fades the output to silence over
about 50 ms inside the callback, then closes the device, so there is no click and no thread
is left running.

The device sits behind an :class:`OutputBackend` (the default is sounddevice/PortAudio), in
the spirit of mido's port backends: tests and benchmarks swap in :class:`NullOutput`, which
clocks the callback in real time without a sound card, instead of mocking calls.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol, overload

import numpy as np
from numpy.typing import NDArray

from latentscore.errors import AudioDeviceError
from synth.params import SAMPLE_RATE

log = logging.getLogger(__name__)

BLOCK_SIZE = 512  # device callback size: 11.6 ms at 44.1 kHz
BUFFER_SECONDS = 0.4  # rendered ahead of the device
RENDER_BLOCK = 2048  # samples the worker asks a render(n) source for at a time
FADE_SECONDS = 0.05  # stop() fade-out

Samples = NDArray[np.float32]
RenderFn = Callable[[int], Samples]
ChunkSource = RenderFn | Iterable[Samples]
# Fills the given 1-D float32 block in place; returns False once playback has finished.
BlockCallback = Callable[[Samples], bool]


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


class OutputHandle(Protocol):
    """An opened output: started once, then stopped and closed."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class OutputBackend(Protocol):
    """Opens a mono float32 output whose driver calls ``callback`` with each block to fill.

    ``finished`` must be called once after the last block was played (``callback`` returned
    False) or the stream was stopped.
    """

    def open(
        self,
        *,
        sample_rate: int,
        block_size: int,
        callback: BlockCallback,
        finished: Callable[[], None],
        device: int | str | None,
    ) -> OutputHandle: ...


class SoundDeviceOutput:
    """The real device: a ``sounddevice.OutputStream`` (PortAudio; JACK, ALSA, CoreAudio...).

    ``latency`` is passed to PortAudio ("low", "high" or seconds). Device underflows reported
    by PortAudio (the callback itself ran late) are counted in :attr:`device_xruns`.
    """

    def __init__(self, latency: str | float = "low") -> None:
        self.latency = latency
        self.device_xruns = 0

    def open(
        self,
        *,
        sample_rate: int,
        block_size: int,
        callback: BlockCallback,
        finished: Callable[[], None],
        device: int | str | None,
    ) -> OutputHandle:
        from latentscore.playback import _SAVE_INSTEAD, check_output_device, load_sounddevice

        sd = load_sounddevice()
        check_output_device(sd, device)

        def _callback(outdata: Any, frames: int, _time: Any, status: Any) -> None:
            if status.output_underflow:
                self.device_xruns += 1
            if not callback(outdata[:, 0]):
                raise sd.CallbackStop

        try:
            stream = sd.OutputStream(
                samplerate=sample_rate,
                blocksize=block_size,
                channels=1,
                dtype="float32",
                latency=self.latency,
                device=device,
                callback=_callback,
                finished_callback=finished,
            )
        except sd.PortAudioError as exc:
            msg = f"Cannot open the audio output ({exc}); {_SAVE_INSTEAD}"
            raise AudioDeviceError(msg) from None
        return stream


class NullOutput:
    """A sound-card-free output: a thread calls the callback every block, clocked in real time.

    It behaves like PortAudio for the player (blocks of ``block_size`` at the device rate;
    with ``realtime=False`` as fast as possible). :attr:`played` counts samples consumed and
    :attr:`started_at` is the ``time.monotonic()`` of the first block, so sample ``s`` was
    "heard" at ``started_at + s / sample_rate``.
    """

    def __init__(self, realtime: bool = True) -> None:
        self.realtime = realtime
        self.played = 0
        self.started_at: float | None = None
        self.blocks: list[Samples] | None = None  # set to [] to keep a copy of every block

    def open(
        self,
        *,
        sample_rate: int,
        block_size: int,
        callback: BlockCallback,
        finished: Callable[[], None],
        device: int | str | None,
    ) -> OutputHandle:
        return _NullHandle(self, sample_rate, block_size, callback, finished)


class _NullHandle:
    def __init__(
        self,
        owner: NullOutput,
        sample_rate: int,
        block_size: int,
        callback: BlockCallback,
        finished: Callable[[], None],
    ) -> None:
        self._owner, self._rate, self._block = owner, sample_rate, block_size
        self._callback, self._finished = callback, finished
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="NullOutput", daemon=True)

    def _run(self) -> None:
        owner = self._owner
        buf = np.zeros(self._block, dtype=np.float32)
        start = owner.started_at = time.monotonic()
        period = self._block / self._rate
        k = 0
        while not self._halt.is_set():
            if owner.realtime:  # sleep until this block is due, like a sound card's clock
                delay = start + k * period - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            buf[:] = 0.0
            more = self._callback(buf)
            owner.played += self._block
            if owner.blocks is not None:
                owner.blocks.append(buf.copy())
            k += 1
            if not more:
                break
        self._finished()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def close(self) -> None:
        self.stop()


@dataclass
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


class PlaybackStats:
    """What happened during playback.

    Attributes:
        underruns: callbacks that found the render-ahead buffer short (a dropout was heard).
        missing_samples: silent samples output because of those underruns.
        played_samples: samples handed to the device.
        device_xruns: underflows the device driver itself reported (0 for NullOutput).
        wall_seconds: from start() to the end of playback.
        interrupted: playback was stopped before the source ended (stop() or Ctrl-C).
    """

    underruns: int = 0
    missing_samples: int = 0
    played_samples: int = 0
    device_xruns: int = 0
    wall_seconds: float = 0.0
    interrupted: bool = False


def _as_render(source: ChunkSource) -> RenderFn:
    """A ``render(n)`` view of either source kind; an empty result means the end."""
    if callable(source):
        return source
    chunks: Iterator[Samples] = iter(source)
    pending = np.zeros(0, dtype=np.float32)

    def render(n: int) -> Samples:
        nonlocal pending
        parts: list[Samples] = []
        need = n
        while need > 0:
            if len(pending) == 0:
                try:
                    pending = np.asarray(next(chunks), dtype=np.float32).reshape(-1)
                except StopIteration:
                    break
            parts.append(pending[:need])
            need -= len(parts[-1])
            pending = pending[len(parts[-1]) :]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    return render


class Player:
    """Plays a chunk source in real time (non-blocking: ``start()``, ``stop()``, ``join()``).

    ``source`` is a callable ``render(n) -> float32 array`` (fewer than ``n`` samples, or
    none, means the source has ended) or an iterable of float32 chunks of any size. The
    worker renders up to ``buffer_seconds`` ahead of the device; the callback only copies.
    """

    def __init__(
        self,
        source: ChunkSource,
        *,
        device: int | str | None = None,
        backend: OutputBackend | None = None,
        sample_rate: int = SAMPLE_RATE,
        block_size: int = BLOCK_SIZE,
        buffer_seconds: float = BUFFER_SECONDS,
        fade_seconds: float = FADE_SECONDS,
    ) -> None:
        self._render = _as_render(source)
        self._backend: OutputBackend = backend or SoundDeviceOutput()
        self.device = device
        self.sample_rate = sample_rate
        self.block_size = block_size
        self.ring = SampleRing(max(block_size * 2, round(buffer_seconds * sample_rate)))
        self.stats = PlaybackStats()
        self._fade = FadeOut(fade_seconds, sample_rate)
        self._source_done = False  # the worker wrote the last sample
        self._stopping = threading.Event()
        self._finished = threading.Event()
        self._error: BaseException | None = None
        self._stream: OutputHandle | None = None
        self._worker: threading.Thread | None = None
        self._started_at = 0.0

    # --- public ------------------------------------------------------------------------
    @property
    def underruns(self) -> int:
        return self.stats.underruns

    @property
    def running(self) -> bool:
        return self._stream is not None and not self._finished.is_set()

    def start(self) -> Player:
        """Prefill the buffer, open the output and start playing; returns ``self``."""
        if self._stream is not None:
            raise RuntimeError("Player.start() called twice")
        self._fill(until=self.ring.capacity)  # the first callback must find audio
        self._worker = threading.Thread(target=self._work, name="Player-render", daemon=True)
        self._started_at = time.monotonic()
        try:
            self._stream = self._backend.open(
                sample_rate=self.sample_rate,
                block_size=self.block_size,
                callback=self._callback,
                finished=self._finished.set,
                device=self.device,
            )
            self._worker.start()
            self._stream.start()
        except BaseException:
            self._stopping.set()
            self._finished.set()
            raise
        return self

    def stop(self) -> None:
        """Fade out (about 50 ms) and end playback; returns at once (``join()`` waits)."""
        if not self._finished.is_set() and not self._source_done:
            self.stats.interrupted = True
        self._fade.start()
        if self._stream is None:
            self._finished.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until playback ended, then release the device and worker.

        Returns False if ``timeout`` passed first. Re-raises an exception the source raised.
        """
        if not self._finished.wait(timeout):
            return False
        self._shutdown()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return True

    def __enter__(self) -> Player:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.join(timeout=5.0)

    # --- threads -----------------------------------------------------------------------
    def _fill(self, until: int) -> None:
        """Render into the ring until it holds ``until`` samples (or the source ends)."""
        ring = self.ring
        while not self._source_done and ring.available < until and not self._stopping.is_set():
            want = min(RENDER_BLOCK, ring.free)
            if want <= 0:
                return
            block = self._render(want)
            ring.write(block)  # never more than free: only this thread writes
            if len(block) < want:
                self._source_done = True

    def _work(self) -> None:
        ring = self.ring
        try:
            while not self._stopping.is_set() and not self._source_done:
                with ring.space:  # sleep until the callback has made room for a block
                    while ring.free < RENDER_BLOCK and not self._stopping.is_set():
                        ring.space.wait(0.05)
                self._fill(until=ring.capacity)
        except BaseException as exc:  # surfaced by join(); the music fades out
            self._error = exc
            self.stop()
            self._source_done = True

    def _callback(self, out: Samples) -> bool:
        """Device thread: copy from the ring, never render. Returns False when finished."""
        n = len(out)
        got = self.ring.read_into(out)
        if got < n:
            out[got:] = 0.0
            if not self._source_done and not self._fade.started:
                self.stats.underruns += 1
                self.stats.missing_samples += n - got
        self.stats.played_samples += got
        if not self._fade.apply(out):
            return False
        return not (self._source_done and self.ring.available == 0)

    def _shutdown(self) -> None:
        self._stopping.set()
        with self.ring.space:
            self.ring.space.notify_all()
        if self._stream is not None:
            with contextlib.suppress(Exception):
                self._stream.stop()
            with contextlib.suppress(Exception):
                self._stream.close()
        if self._worker is not None and self._worker is not threading.current_thread():
            self._worker.join(timeout=5.0)
        if not self.stats.wall_seconds:
            self.stats.wall_seconds = time.monotonic() - self._started_at
            self.stats.device_xruns = int(getattr(self._backend, "device_xruns", 0))
            log.info(
                "playback ended: %.1f s, %d underruns (%d samples), %d device xruns",
                self.stats.played_samples / self.sample_rate,
                self.stats.underruns,
                self.stats.missing_samples,
                self.stats.device_xruns,
            )
            if self.stats.underruns:
                log.warning("playback had %d underruns", self.stats.underruns)


@overload
def play_stream(
    source: ChunkSource,
    *,
    device: int | str | None = ...,
    blocking: Literal[True] = ...,
    backend: OutputBackend | None = ...,
    buffer_seconds: float = ...,
) -> PlaybackStats: ...


@overload
def play_stream(
    source: ChunkSource,
    *,
    device: int | str | None = ...,
    blocking: Literal[False],
    backend: OutputBackend | None = ...,
    buffer_seconds: float = ...,
) -> Player: ...


def play_stream(
    source: ChunkSource,
    *,
    device: int | str | None = None,
    blocking: bool = True,
    backend: OutputBackend | None = None,
    buffer_seconds: float = BUFFER_SECONDS,
) -> PlaybackStats | Player:
    """Play ``source`` (an iterable of float32 chunks or a ``render(n)`` callable) in real time.

    With ``blocking=True`` (the default) this returns :class:`PlaybackStats` when the source
    has ended. Ctrl-C fades out over 50 ms, closes the device, then re-raises
    KeyboardInterrupt so the script still ends as asked. With ``blocking=False`` it returns
    the running :class:`Player` (``.stop()``, ``.join()``, ``.stats``).

    Raises AudioDeviceError (with a fix-it hint, or use ``.save``) when PortAudio or an
    output device is missing.
    """
    player = Player(source, device=device, backend=backend, buffer_seconds=buffer_seconds)
    player.start()
    if not blocking:
        return player
    try:
        while not player.join(timeout=0.1):
            pass
    except KeyboardInterrupt:
        player.stop()
        player.join(timeout=2.0)
        raise
    return player.stats
