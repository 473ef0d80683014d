"""Real-time playback of an endless or finite chunk source, rendered ahead of the device.

:class:`Player` adapts a source (a ``render(n)`` callable or an iterable of float32 chunks)
to the one real-time path, :class:`~latentscore.output_loop.OutputLoop`: a worker renders
about ``buffer_seconds`` ahead into a ring, the device callback only copies. If the ring holds
too little, the missing part is silence and :attr:`PlaybackStats.underruns` grows.

Stopping (``stop()`` or Ctrl-C in :func:`play_stream`) fades the output to silence over
about 50 ms inside the callback, then closes the device, so there is no click and no thread
is left running.

The device sits behind an :class:`~latentscore.audio_device.OutputBackend` (the default is
sounddevice/PortAudio); tests and benchmarks swap in
:class:`~latentscore.audio_device.NullOutput`, which clocks the callback in real time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np

from latentscore.audio_device import (
    BlockCallback,
    NullOutput,
    OutputBackend,
    OutputHandle,
    Samples,
    SoundDeviceOutput,
)
from latentscore.output_loop import FADE_SECONDS, FadeOut, OutputLoop, SampleRing
from synth.params import SAMPLE_RATE

__all__ = [
    "BLOCK_SIZE",
    "BUFFER_SECONDS",
    "BlockCallback",
    "FadeOut",
    "NullOutput",
    "OutputBackend",
    "OutputHandle",
    "PlaybackStats",
    "Player",
    "SampleRing",
    "SoundDeviceOutput",
    "play_stream",
]

log = logging.getLogger(__name__)

BLOCK_SIZE = 512  # device callback size: 11.6 ms at 44.1 kHz
BUFFER_SECONDS = 0.4  # rendered ahead of the device
RENDER_BLOCK = 2048  # samples the worker asks a render(n) source for at a time

RenderFn = Callable[[int], Samples]
ChunkSource = RenderFn | Iterable[Samples]


@dataclass
class PlaybackStats:
    """What happened during playback.

    Attributes:
        underruns: callbacks that found the render-ahead buffer short (a dropout was heard).
        missing_samples: silent samples output because of those underruns.
        played_samples: samples of the source handed to the device.
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


class _SourceProducer:
    """A ``render(n)`` source as an output-loop producer (fewer than asked: the end)."""

    def __init__(self, render: RenderFn) -> None:
        self._render = render
        self.produced = 0

    def produce(self, max_samples: int) -> tuple[Samples, bool]:
        block = np.asarray(self._render(max_samples), dtype=np.float32).reshape(-1)
        self.produced += len(block)
        return block, len(block) >= max_samples

    def poll(self) -> None:
        """Nothing is posted to a plain source."""


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
        self._producer = _SourceProducer(_as_render(source))
        self._backend: OutputBackend = backend or SoundDeviceOutput()
        self.device = device
        self.sample_rate = sample_rate
        self.block_size = block_size
        self._stats = PlaybackStats()
        self.loop = OutputLoop(
            self._producer,
            backend=self._backend,
            device=device,
            sample_rate=sample_rate,
            block_size=block_size,
            capacity=max(block_size * 2, round(buffer_seconds * sample_rate)),
            step=RENDER_BLOCK,
            max_render=RENDER_BLOCK,
            fade_seconds=fade_seconds,
            name="Player",
        )
        self._started = False
        self._closed = False
        self._lock = threading.Lock()

    @property
    def ring(self) -> SampleRing:
        """The output loop's render-ahead ring."""
        return self.loop.ring

    # --- public ------------------------------------------------------------------------
    @property
    def stats(self) -> PlaybackStats:
        """Counters so far (final once :meth:`join` returned)."""
        loop, stats = self.loop.stats, self._stats
        stats.underruns, stats.missing_samples = loop.underruns, loop.missing_samples
        stats.played_samples = min(loop.played_samples, self._producer.produced)
        stats.device_xruns = int(getattr(self._backend, "device_xruns", 0))
        return stats

    @property
    def underruns(self) -> int:
        return self.loop.stats.underruns

    @property
    def running(self) -> bool:
        return self._started and not self.loop.finished

    def start(self) -> Player:
        """Prefill the buffer, open the output and start playing; returns ``self``."""
        if self._started:
            raise RuntimeError("Player.start() called twice")
        self._started = True
        self.loop.start()
        return self

    def stop(self) -> None:
        """Fade out (about 50 ms) and end playback; returns at once (``join()`` waits)."""
        if not self.loop.finished and not (self.loop.source_done and not self.ring.available):
            self._stats.interrupted = True
        self.loop.fade_out()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until playback ended, then release the device and worker.

        Returns False if ``timeout`` passed first. Re-raises an exception the source raised.
        """
        if self._started and not self.loop.wait(timeout):
            return False
        self._shutdown()
        error, self.loop.error = self.loop.error, None
        if error is not None:
            raise error
        return True

    def __enter__(self) -> Player:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.join(timeout=5.0)

    def _shutdown(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.loop.close()
        stats = self.stats
        stats.wall_seconds = self.loop.wall_seconds
        log.info(
            "playback ended: %.1f s, %d underruns (%d samples), %d device xruns",
            stats.played_samples / self.sample_rate,
            stats.underruns,
            stats.missing_samples,
            stats.device_xruns,
        )
        if stats.underruns:
            log.warning("playback had %d underruns", stats.underruns)


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
