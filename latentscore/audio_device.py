"""Audio outputs behind one small interface: PortAudio (sounddevice) or a clocked null device.

In the spirit of mido's port backends, the real-time output loop
(:class:`~latentscore.output_loop.OutputLoop`) talks to an :class:`OutputBackend`; tests and
benchmarks swap in :class:`NullOutput`, which clocks the callback in real time without a
sound card, instead of mocking calls.

sounddevice is imported only when something is played: importing it loads the PortAudio
shared library, which may be missing on servers and CI machines where LatentScore is only
used to render files. Every failure to reach an output becomes one
:class:`~latentscore.errors.AudioDeviceError` whose message says how to fix it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from latentscore.errors import AudioDeviceError

log = logging.getLogger(__name__)

Samples = NDArray[np.float32]
# Fills the given 1-D float32 block in place; returns False once playback has finished.
BlockCallback = Callable[[Samples], bool]

SAVE_INSTEAD = 'or write the audio to a file instead: audio.save("out.wav")'


def load_sounddevice() -> ModuleType:
    """Import sounddevice, translating a missing PortAudio library into AudioDeviceError."""
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio is not found
        problem = (
            f"PortAudio is not installed ({exc}). Install it (Debian/Ubuntu: "
            f"sudo apt-get install libportaudio2; macOS: brew install portaudio)"
        )
        raise AudioDeviceError(f"{problem}, {SAVE_INSTEAD}", problem) from None
    return sounddevice


def check_output_device(sd: ModuleType, device: int | str | None = None) -> None:
    """Raise AudioDeviceError unless ``device`` (default: the system default) can play."""
    try:
        info = (
            sd.query_devices(device, kind="output") if device is None else sd.query_devices(device)
        )
    except (ValueError, sd.PortAudioError) as exc:
        problem = f"No audio output device available ({exc})"
        raise AudioDeviceError(
            f"{problem}. Connect or enable an output, pick one with audio.play(device=...) "
            f"(list them: python -m sounddevice), {SAVE_INSTEAD}",
            problem,
        ) from None
    if int(info.get("max_output_channels", 0)) < 1:
        problem = f"Audio device {info.get('name')!r} has no output channels"
        raise AudioDeviceError(
            f"{problem}; pick another with audio.play(device=...) "
            f"(list them: python -m sounddevice), {SAVE_INSTEAD}",
            problem,
        )


class OutputHandle(Protocol):
    """An opened output: started once, then stopped and closed."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class OutputBackend(Protocol):
    """Opens a mono float32 output whose driver calls ``callback`` with each block to fill.

    ``finished`` must be called once after the last block was played (``callback`` returned
    False), the stream was stopped, or the device went away.
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

    After the device went away (a USB interface unplugged, the JACK server stopped),
    :meth:`rescan` re-initialises PortAudio so a device that has come back is found again:
    PortAudio lists devices (and attaches to JACK) only when it is initialised.
    """

    clocked = True  # the driver calls back on its own clock: silence means it is gone

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
            msg = f"Cannot open the audio output ({exc}); {SAVE_INSTEAD}"
            raise AudioDeviceError(msg) from None
        return stream

    def rescan(self) -> None:
        """Re-initialise PortAudio so devices that came back are listed (after a loss)."""
        sd = load_sounddevice()
        with contextlib.suppress(Exception):
            sd._terminate()
        sd._initialize()


class NullOutput:
    """A sound-card-free output: a thread calls the callback every block, clocked in real time.

    It behaves like PortAudio for the output loop (blocks of ``block_size`` at the device
    rate; with ``realtime=False`` as fast as possible). :attr:`played` counts samples consumed
    and :attr:`started_at` is the ``time.monotonic()`` of the first block, so sample ``s`` was
    "heard" at ``started_at + s / sample_rate``. :meth:`unplug` and :meth:`plug_in` simulate
    a device that goes away and comes back (tests of the loss/reopen path).
    """

    clocked = True

    def __init__(self, realtime: bool = True) -> None:
        self.realtime = realtime
        self.played = 0
        self.started_at: float | None = None
        self.blocks: list[Samples] | None = None  # set to [] to keep a copy of every block
        self.present = True
        self.opened = 0

    def unplug(self) -> None:
        """The device vanishes: running streams stop calling back, opening fails."""
        self.present = False

    def plug_in(self) -> None:
        self.present = True

    def rescan(self) -> None:
        """Nothing to re-scan: :meth:`plug_in` makes the device openable again."""

    def open(
        self,
        *,
        sample_rate: int,
        block_size: int,
        callback: BlockCallback,
        finished: Callable[[], None],
        device: int | str | None,
    ) -> OutputHandle:
        if not self.present:
            raise AudioDeviceError("the null output is unplugged")
        self.opened += 1
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
        start = time.monotonic()
        if owner.started_at is None:
            owner.started_at = start
        period = self._block / self._rate
        k = 0
        while not self._halt.is_set():
            if not owner.present:  # unplugged: the driver dies without a last callback
                break
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
